package dev.dmp.controller.fleet;

import com.google.protobuf.CodedOutputStream;
import dev.dmp.controller.store.HostRows;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpCountersCodec;
import dev.dmp.proto.v1.CounterRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A host's ledger entry as the {@link HostRows} a store of rows writes: its own columns, the volumes
 * {@link VolumeEntry#changed changed} since its last write, and every volume's name when one left it
 * ({@link HostEntry#volumesGone}). {@link #take} clears those marks; a write that then fails must set
 * them again ({@link HostEntry#rewriteAll}). Counters are written straight from the CounterSets as
 * the CounterRecord bytes of their columns, as {@link HostRecordCodec} writes records: no record is
 * built and parsed again to fill them. A volume never reset writes its lifetime counts as its
 * since-reset counts (one array for both columns), as the record does.
 */
final class HostRowsCodec {
    private static final byte[] NONE = new byte[0];

    private HostRowsCodec() {}

    /** The host's rows to write; the caller holds the ledger's lock. */
    static HostRows take(HostEntry h) {
        List<HostRows.VolumeRow> volumes = new ArrayList<>();
        for (VolumeEntry v : h.volumes.values()) {
            if (!v.changed) {
                continue;
            }
            byte[] lifetime = counterRecord(v.lifetime);
            volumes.add(new HostRows.VolumeRow(
                    v.volume.getName(),
                    v.volumeBytes.toByteArray(),
                    v.generation,
                    lifetime,
                    v.neverReset() ? lifetime : counterRecord(v.sinceReset()),
                    counterRecord(v.beforeReset),
                    v.inFlight));
            v.changed = false;
        }
        Optional<List<String>> names = h.volumesGone ? Optional.of(List.copyOf(h.volumes.keySet())) : Optional.empty();
        h.volumesGone = false;
        return new HostRows(h.runId, h.appliedSeq, h.agentVersion, h.lastSeen, names, volumes);
    }

    /** The counters as an encoded CounterRecord: the non-empty operations, as VolumeRecord holds them. */
    static byte[] counterRecord(CounterSet c) {
        int size = OpCountersCodec.serializedSize(CounterRecord.OPS_FIELD_NUMBER, c);
        if (size == 0) {
            return NONE;
        }
        byte[] bytes = new byte[size];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            OpCountersCodec.writeTo(out, CounterRecord.OPS_FIELD_NUMBER, c);
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a size computed wrong: a bug, not an I/O error
        }
        return bytes;
    }
}
