package dev.dmp.controller.fleet;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeTotals;
import java.util.HashMap;
import java.util.Map;

/**
 * A host rebuilt from its agent's Hello when the ledger lost acknowledged deltas of its run (a fresh
 * or restored database, a lost data dir): the Hello carries each volume's counts as of its last_seq,
 * so the host's volumes become those counts and its applied sequence number last_seq, and the deltas
 * the agent resends after the Hello are already in them. See docs/replication.md, "Disaster".
 */
final class HostRebuild {
    private HostRebuild() {}

    /**
     * Whether the ledger's entry (null: none) holds less of the Hello's run than the agent was
     * acknowledged. An agent older than acked_seq sends 0, and so does a run acknowledged nothing yet.
     */
    static boolean needed(HostEntry h, Hello hello) {
        if (hello.getAckedSeq() == 0) {
            return false;
        }
        return h == null || !h.runId.equals(hello.getRunId()) || h.appliedSeq < hello.getAckedSeq();
    }

    /** The entry the Hello's counts make: its volumes, their counts as of last_seq, nothing before a reset. */
    static HostEntry from(Hello hello) {
        Map<String, VolumeTotals> totals = new HashMap<>();
        hello.getTotalsList().forEach(t -> totals.put(t.getVolume(), t));
        HostEntry h = new HostEntry();
        h.runId = hello.getRunId();
        h.appliedSeq = hello.getLastSeq();
        for (Volume v : hello.getVolumesList()) {
            VolumeEntry e = new VolumeEntry(v);
            VolumeTotals t = totals.get(v.getName());
            if (t != null) { // none: created after the agent's last delta, nothing counted yet
                e.generation = t.getGeneration();
                e.lifetime = CounterSet.fromProto(t.getCumulativeList());
                CounterSet baseline = CounterSet.fromProto(t.getBaselineList());
                e.atReset = baseline.isZero() ? VolumeEntry.NEVER_RESET : baseline;
            }
            h.volumes.put(v.getName(), e);
        }
        return h;
    }
}
