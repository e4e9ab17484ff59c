package dev.dmp.agent;

import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.link.DeltaStream;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AgentCheckpoint;
import dev.dmp.proto.v1.VolumeState;
import org.jboss.logging.Logger;

/**
 * What the last checkpoint brings back when the agent starts: the delta numbering to go on with, and
 * the volumes with their counts (and their kernel devices, for those created with one). A volume that
 * cannot be served again is logged and left out; the agent starts regardless.
 */
final class Restore {
    private static final Logger LOG = Logger.getLogger(Restore.class);

    private Restore() {}

    /** The run's numbering and unacknowledged deltas, or a fresh run. */
    static DeltaStream deltas(AgentCheckpoint saved) {
        return saved == null || saved.getRunId().isEmpty()
                ? new DeltaStream()
                : new DeltaStream(saved.getRunId(), saved.getLastSeq(), saved.getUnackedList());
    }

    /** Serves again the checkpoint's volumes, with their counts; attaches again those that had a device. */
    static void volumes(AgentCheckpoint saved, VolumeRegistry registry, KernelAttacher kernel, String from) {
        if (saved == null) {
            return;
        }
        for (VolumeState v : saved.getVolumesList()) {
            String name = v.getSpec().getName();
            try {
                Volume volume = registry.restore(
                        name,
                        v.getSpec().getBackend(),
                        v.getSpec().getReadOnly(),
                        new StatsJournal.VolumeCheckpoint(
                                name,
                                v.getGeneration(),
                                CounterSet.fromProto(v.getCumulativeList()),
                                CounterSet.fromProto(v.getBaselineList())));
                if (v.getSpec().getKernel()) {
                    kernel.reattach(
                            name, volume.export(), volume.size(), v.getSpec().getKernelTimeoutSeconds());
                }
            } catch (VolumeException e) {
                LOG.errorf("volume %s from the checkpoint cannot be served again: %s", name, e.getMessage());
            }
        }
        LOG.infof(
                "restored %d volumes from %s (run %s, last delta %d, %d unacknowledged)",
                registry.list().size(), from, saved.getRunId(), saved.getLastSeq(), saved.getUnackedCount());
    }
}
