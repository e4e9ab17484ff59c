package dev.dmp.controller.fleet;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpCountersCodec;
import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.VolumeRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;

/**
 * A host's ledger entry as its {@link HostRecord} (state.proto), both ways. {@link #encode} writes the
 * bytes protobuf would write for the record built from the entry, straight from its CounterSets
 * (building the messages for a thousand hosts a second was most of the controller's CPU and garbage);
 * {@link #decode} builds the entry back from the record parsed at start-up. A volume never reset writes
 * its lifetime counts as its since-reset counts too, and a record whose two are equal decodes as never
 * reset, so the ledger's memory saving survives a restart. Field numbers are the generated constants.
 */
final class HostRecordCodec {
    private HostRecordCodec() {}

    static byte[] encode(String host, HostEntry h) {
        int n = h.volumes.size();
        CounterSet[] since = new CounterSet[n];
        int[] sizes = new int[n];
        int i = 0;
        var lastSeen = StatsRows.timestamp(h.lastSeen);
        int size = stringSize(HostRecord.HOST_ID_FIELD_NUMBER, host)
                + stringSize(HostRecord.RUN_ID_FIELD_NUMBER, h.runId)
                + nonZeroSize(HostRecord.APPLIED_SEQ_FIELD_NUMBER, h.appliedSeq)
                + CodedOutputStream.computeMessageSize(HostRecord.LAST_SEEN_FIELD_NUMBER, lastSeen)
                + stringSize(HostRecord.AGENT_VERSION_FIELD_NUMBER, h.agentVersion);
        for (VolumeEntry v : h.volumes.values()) {
            since[i] = v.neverReset() ? v.lifetime : v.sinceReset();
            int lifetime = OpCountersCodec.serializedSize(VolumeRecord.LIFETIME_FIELD_NUMBER, v.lifetime);
            sizes[i] = CodedOutputStream.computeBytesSize(VolumeRecord.VOLUME_FIELD_NUMBER, v.volumeBytes)
                    + nonZeroSize(VolumeRecord.GENERATION_FIELD_NUMBER, v.generation)
                    + (since[i] == v.lifetime
                            ? lifetime
                            : OpCountersCodec.serializedSize(VolumeRecord.SINCE_RESET_FIELD_NUMBER, since[i]))
                    + lifetime
                    + OpCountersCodec.serializedSize(VolumeRecord.BEFORE_RESET_FIELD_NUMBER, v.beforeReset)
                    + nonZeroSize(VolumeRecord.IN_FLIGHT_FIELD_NUMBER, v.inFlight);
            size += CodedOutputStream.computeTagSize(HostRecord.VOLUMES_FIELD_NUMBER)
                    + CodedOutputStream.computeUInt32SizeNoTag(sizes[i])
                    + sizes[i];
            i++;
        }
        byte[] bytes = new byte[size];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            writeString(out, HostRecord.HOST_ID_FIELD_NUMBER, host);
            writeString(out, HostRecord.RUN_ID_FIELD_NUMBER, h.runId);
            writeNonZero(out, HostRecord.APPLIED_SEQ_FIELD_NUMBER, h.appliedSeq);
            out.writeMessage(HostRecord.LAST_SEEN_FIELD_NUMBER, lastSeen);
            writeString(out, HostRecord.AGENT_VERSION_FIELD_NUMBER, h.agentVersion);
            i = 0;
            for (VolumeEntry v : h.volumes.values()) {
                out.writeTag(HostRecord.VOLUMES_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(sizes[i]);
                out.writeBytes(VolumeRecord.VOLUME_FIELD_NUMBER, v.volumeBytes);
                writeNonZero(out, VolumeRecord.GENERATION_FIELD_NUMBER, v.generation);
                OpCountersCodec.writeTo(out, VolumeRecord.SINCE_RESET_FIELD_NUMBER, since[i]);
                OpCountersCodec.writeTo(out, VolumeRecord.LIFETIME_FIELD_NUMBER, v.lifetime);
                OpCountersCodec.writeTo(out, VolumeRecord.BEFORE_RESET_FIELD_NUMBER, v.beforeReset);
                writeNonZero(out, VolumeRecord.IN_FLIGHT_FIELD_NUMBER, v.inFlight);
                i++;
            }
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a size computed wrong: a bug, not an I/O error
        }
        return bytes;
    }

    /** The entry a record was written from, its host offline until its agent says Hello again. */
    static HostEntry decode(HostRecord r) {
        HostEntry h = new HostEntry();
        h.runId = r.getRunId();
        h.appliedSeq = r.getAppliedSeq();
        h.lastSeen = Instant.ofEpochSecond(
                r.getLastSeen().getSeconds(), r.getLastSeen().getNanos());
        h.agentVersion = r.getAgentVersion();
        for (VolumeRecord v : r.getVolumesList()) {
            VolumeEntry e = new VolumeEntry(v.getVolume());
            e.generation = v.getGeneration();
            CounterSet sinceReset = CounterSet.fromProto(v.getSinceResetList());
            e.lifetime = CounterSet.fromProto(v.getLifetimeList());
            e.atReset = sinceReset.equals(e.lifetime) ? VolumeEntry.NEVER_RESET : e.lifetime.minus(sinceReset);
            e.beforeReset = v.getBeforeResetCount() == 0
                    ? VolumeEntry.NEVER_RESET
                    : CounterSet.fromProto(v.getBeforeResetList());
            e.inFlight = v.getInFlight();
            e.changed = false; // the store holds it as it is
            h.volumes.put(v.getVolume().getName(), e);
        }
        h.volumesGone = false;
        return h;
    }

    // Proto3 leaves fields at their default (0, "") out of the encoding.

    private static int nonZeroSize(int field, long x) {
        return x == 0 ? 0 : CodedOutputStream.computeUInt64Size(field, x);
    }

    private static void writeNonZero(CodedOutputStream out, int field, long x) throws IOException {
        if (x != 0) {
            out.writeUInt64(field, x);
        }
    }

    private static int stringSize(int field, String s) {
        return s.isEmpty() ? 0 : CodedOutputStream.computeStringSize(field, s);
    }

    private static void writeString(CodedOutputStream out, int field, String s) throws IOException {
        if (!s.isEmpty()) {
            out.writeString(field, s);
        }
    }
}
