package dev.dmp.controller.fleet;

import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.Backend;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.MemoryBackend;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeRecord;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hand-written HostRecord: the bytes protobuf writes for the same record, and back to the same entry. */
class HostRecordCodecTest {

    private static CounterSet counts(int op, long length, int nbdError, long latencyNs) {
        CounterSet c = CounterSet.empty();
        c.record(op, length, nbdError, latencyNs);
        return c;
    }

    private static VolumeEntry volume(String host, String name) {
        return new VolumeEntry(Volume.newBuilder()
                .setHost(host)
                .setName(name)
                .setSizeBytes(1 << 30)
                .setBackend(Backend.newBuilder().setMemory(MemoryBackend.getDefaultInstance()))
                .build());
    }

    /** An empty host, and one with every kind of volume: never reset, reset, reset with nothing since, huge counts. */
    private static List<HostEntry> hosts() {
        HostEntry empty = new HostEntry();

        HostEntry full = new HostEntry();
        full.runId = "run-1";
        full.appliedSeq = 300; // a two-byte varint
        full.lastSeen = Instant.parse("2026-11-25T12:00:00.123456789Z");
        full.agentVersion = "0.1.0";
        full.online = true;
        VolumeEntry neverReset = volume("node-a", "dmp1");
        neverReset.lifetime = counts(WRITE, 4096, 0, 1000);
        VolumeEntry reset = volume("node-a", "dmp2");
        reset.generation = 2;
        reset.lifetime = counts(READ, 512, 0, 10);
        reset.lifetime.add(counts(WRITE, 8192, 28, 1L << 40));
        reset.atReset = counts(READ, 512, 0, 10);
        reset.beforeReset = counts(READ, 512, 5, 7);
        reset.inFlight = 5;
        VolumeEntry nothingSince = volume("node-a", "dmp3");
        nothingSince.generation = 1;
        nothingSince.lifetime = counts(READ, 1, 0, 1);
        nothingSince.atReset = nothingSince.lifetime.copy();
        VolumeEntry huge = volume("node-a", "dmp4");
        huge.lifetime = counts(READ, Long.MAX_VALUE, 4242, Long.MAX_VALUE);
        huge.lifetime.add(huge.lifetime.copy()); // wraps: negative, written as 10-byte varints
        huge.inFlight = Long.MAX_VALUE;
        for (VolumeEntry v : List.of(neverReset, reset, nothingSince, huge)) {
            full.volumes.put(v.volume.getName(), v);
        }
        return List.of(empty, full);
    }

    /** The record as the generated builders build it from the entry. */
    private static HostRecord built(String host, HostEntry h) {
        HostRecord.Builder r = HostRecord.newBuilder()
                .setHostId(host)
                .setRunId(h.runId)
                .setAppliedSeq(h.appliedSeq)
                .setLastSeen(StatsRows.timestamp(h.lastSeen))
                .setAgentVersion(h.agentVersion);
        for (VolumeEntry v : h.volumes.values()) {
            r.addVolumes(VolumeRecord.newBuilder()
                    .setVolume(v.volume)
                    .setGeneration(v.generation)
                    .addAllSinceReset(v.sinceReset().toProto())
                    .addAllLifetime(v.lifetime.toProto())
                    .addAllBeforeReset(v.beforeReset.toProto())
                    .setInFlight(v.inFlight));
        }
        return r.build();
    }

    @Test
    void encodeWritesTheBytesProtobufWritesForTheSameRecord() {
        for (HostEntry h : hosts()) {
            assertEquals(
                    HexFormat.of().formatHex(built("node-a", h).toByteArray()),
                    HexFormat.of().formatHex(HostRecordCodec.encode("node-a", h)));
        }
    }

    @Test
    void decodeGivesBackTheEntryOfflineAndNeverResetVolumesStillSharingNoCounts() throws Exception {
        for (HostEntry h : hosts()) {
            HostEntry got = HostRecordCodec.decode(HostRecord.parseFrom(HostRecordCodec.encode("node-a", h)));
            assertEquals(h.runId, got.runId);
            assertEquals(h.appliedSeq, got.appliedSeq);
            assertEquals(h.lastSeen, got.lastSeen);
            assertEquals(h.agentVersion, got.agentVersion);
            assertFalse(got.online, "offline until its agent says Hello again");
            assertEquals(h.volumes.keySet(), got.volumes.keySet());
            for (VolumeEntry v : h.volumes.values()) {
                VolumeEntry g = got.volumes.get(v.volume.getName());
                assertEquals(v.volume, g.volume);
                assertEquals(v.volumeBytes, g.volumeBytes);
                assertEquals(v.generation, g.generation);
                assertEquals(v.lifetime, g.lifetime);
                assertEquals(v.sinceReset(), g.sinceReset());
                assertEquals(v.beforeReset, g.beforeReset);
                assertEquals(v.inFlight, g.inFlight);
                assertEquals(v.neverReset(), g.neverReset(), v.volume.getName());
                assertEquals(v.beforeReset == VolumeEntry.NEVER_RESET, g.beforeReset == VolumeEntry.NEVER_RESET);
            }
        }
        assertTrue(hosts().get(1).volumes.get("dmp1").neverReset());
    }
}
