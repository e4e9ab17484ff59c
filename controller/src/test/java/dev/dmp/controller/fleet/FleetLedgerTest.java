package dev.dmp.controller.fleet;

import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.StatsDeltaIn;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeDelta;
import dev.dmp.proto.v1.VolumeRecord;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

public class FleetLedgerTest {
    public static final Instant T0 = Instant.parse("2026-11-25T12:00:00.123456789Z");
    private final FleetLedger ledger = new FleetLedger(null);

    /** The old view of a volume's counts: what these tests are about. */
    record Old(long rr, long rb, long wr, long wb) {
        static final Old ZERO = new Old(0, 0, 0, 0);

        static Old of(CounterSet c) {
            return new Old(c.requests(READ), c.bytes(READ), c.requests(WRITE), c.bytes(WRITE));
        }
    }

    public static Hello hello(String host, String run, String... volumes) {
        Hello.Builder h = Hello.newBuilder().setHostId(host).setRunId(run).setAgentVersion("test");
        for (String v : volumes) {
            h.addVolumes(Volume.newBuilder().setHost(host).setName(v));
        }
        return h.build();
    }

    /** A delta as the controller reads it off the wire (encoded as an agent sends it, then parsed). */
    public static StatsDeltaIn delta(long seq, VolumeDelta... volumes) {
        try {
            return StatsDeltaIn.parseFrom(StatsDelta.newBuilder()
                    .setSeq(seq)
                    .addAllVolumes(List.of(volumes))
                    .build()
                    .toByteArray());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code requests} requests of equal length adding up to {@code bytes}, as an agent counts them. */
    static CounterSet counts(int op, long requests, long bytes) {
        CounterSet c = CounterSet.empty();
        for (int i = 0; i < requests; i++) {
            c.record(op, bytes / requests, 0, 1000);
        }
        return c;
    }

    public static VolumeDelta writes(String volume, long generation, long requests, long bytes) {
        return VolumeDelta.newBuilder()
                .setVolume(volume)
                .setGeneration(generation)
                .addAllOps(counts(WRITE, requests, bytes).toProto())
                .build();
    }

    public static VolumeDelta reads(String volume, long generation, long requests, long bytes) {
        return VolumeDelta.newBuilder()
                .setVolume(volume)
                .setGeneration(generation)
                .addAllOps(counts(READ, requests, bytes).toProto())
                .build();
    }

    private Map<String, Old> host(String host) {
        Map<String, Old> out = new TreeMap<>();
        ledger.volumeCounts().stream()
                .filter(v -> v.host().equals(host))
                .forEach(v -> out.put(v.volume(), Old.of(v.sinceReset())));
        return out;
    }

    private VolumeCounts countsOf(String host, String volume) {
        return ledger.volumeCounts().stream()
                .filter(v -> v.host().equals(host) && v.volume().equals(volume))
                .findFirst()
                .orElseThrow();
    }

    /**
     * The fleet total the ledger keeps as it goes (deltas, resets, new runs, removed volumes) is the sum
     * of its volumes, exactly, after every test here.
     */
    @AfterEach
    void theRunningFleetTotalIsTheSumOfTheVolumes() {
        assertTotalIsTheSum(ledger);
    }

    /** The fleet total {@code ledger} keeps as it goes is the sum of its volumes, exactly. */
    static void assertTotalIsTheSum(FleetLedger ledger) {
        CounterSet sum = CounterSet.empty();
        long inFlight = 0;
        for (VolumeCounts v : ledger.volumeCounts()) {
            sum.add(v.sinceReset());
            inFlight += v.inFlight();
        }
        assertEquals(sum, ledger.total().counts());
        assertEquals(inFlight, ledger.total().inFlight());
    }

    /**
     * The records a commit writes, encoded without protobuf's builders, are what protobuf itself writes
     * (parsed and written again they are the same bytes) and hold the ledger's numbers, after every test.
     */
    @AfterEach
    void theEncodedRecordsAreProtobufsAndHoldTheNumbers() throws Exception {
        for (FleetLedger.HostInfo h : ledger.hosts()) {
            byte[] bytes = ledger.record(h.id());
            HostRecord r = HostRecord.parseFrom(bytes);
            assertEquals(
                    java.util.HexFormat.of().formatHex(r.toByteArray()),
                    java.util.HexFormat.of().formatHex(bytes));
            assertEquals(h.id(), r.getHostId());
            List<VolumeCounts> volumes = ledger.volumeCounts(h.id());
            assertEquals(volumes.size(), r.getVolumesCount());
            for (int i = 0; i < volumes.size(); i++) {
                VolumeRecord v = r.getVolumes(i);
                assertEquals(volumes.get(i).volume(), v.getVolume().getName());
                assertEquals(volumes.get(i).generation(), v.getGeneration());
                assertEquals(volumes.get(i).inFlight(), v.getInFlight());
                assertEquals(volumes.get(i).sinceReset(), CounterSet.fromProto(v.getSinceResetList()));
                assertEquals(volumes.get(i).lifetime(), CounterSet.fromProto(v.getLifetimeList()));
                assertEquals(
                        ledger.beforeReset(h.id(), v.getVolume().getName()),
                        CounterSet.fromProto(v.getBeforeResetList()));
            }
        }
    }

    @Test
    void aLifetimeCountStopsAtItsMaximumInsteadOfWrapping() {
        // Two deltas of 2^62 WRITE requests each: their sum, 2^63, wrapped to -2^63 and the volume's
        // lifetime count went down. A hostile or broken agent can send such numbers (each one alone is
        // within range); the ledger now holds the count at 2^63 - 1.
        ledger.hello(hello("h1", "r1", "v"), T0);
        VolumeDelta huge = VolumeDelta.newBuilder()
                .setVolume("v")
                .addOps(dev.dmp.proto.v1.OpCounters.newBuilder()
                        .setOp(dev.dmp.proto.v1.Op.OP_WRITE)
                        .setRequests(1L << 62))
                .build();
        assertTrue(ledger.apply("h1", "r1", delta(1, huge), T0));
        assertTrue(ledger.apply("h1", "r1", delta(2, huge), T0));
        assertEquals(Long.MAX_VALUE, ledger.volumeCounts("h1").get(0).lifetime().requests(WRITE));
    }

    @Test
    void aDeltaWithCountersThatDoNotParseChangesNothing() {
        ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        var good = delta(1, writes("dmp1", 0, 3, 12288));
        var bad = good.toBuilder()
                .addVolumes(dev.dmp.proto.v1.VolumeDeltaIn.newBuilder()
                        .setVolume("dmp2")
                        .addOps(com.google.protobuf.ByteString.copyFrom(new byte[] {0x08, 0x02, 0x10, (byte) 0x80})))
                .build();
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> ledger.apply("node-a", "run-1", bad, T0));
        assertEquals(Map.of("dmp1", Old.ZERO, "dmp2", Old.ZERO), host("node-a"));
        assertTrue(ledger.apply("node-a", "run-1", good, T0), "its sequence number was not taken");
        assertEquals(new Old(0, 0, 3, 12288), host("node-a").get("dmp1"));
    }

    @Test
    void theFleetInFlightLevelFollowsDeltasAndRemovedVolumes() {
        ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        ledger.hello(hello("node-b", "run-1", "dmp1"), T0);
        ledger.apply(
                "node-a",
                "run-1",
                delta(
                        1,
                        writes("dmp1", 0, 1, 512).toBuilder().setInFlight(3).build(),
                        writes("dmp2", 0, 1, 512).toBuilder().setInFlight(4).build()),
                T0);
        ledger.apply(
                "node-b",
                "run-1",
                delta(1, reads("dmp1", 0, 1, 512).toBuilder().setInFlight(5).build()),
                T0);
        assertEquals(12, ledger.total().inFlight());
        ledger.apply(
                "node-a",
                "run-1",
                delta(2, writes("dmp1", 1, 1, 512).toBuilder().setInFlight(1).build()),
                T0);
        assertEquals(10, ledger.total().inFlight());
        ledger.removeVolume("node-a", "dmp2");
        assertEquals(6, ledger.total().inFlight());
        ledger.hello(hello("node-b", "run-2", "dmp1"), T0); // a new run starts its volumes from zero
        assertEquals(1, ledger.total().inFlight());
    }

    @Test
    void appliesEachSequenceNumberOncePerRun() {
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        assertTrue(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0));
        assertFalse(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0));
        assertTrue(ledger.apply("node-a", "run-1", delta(2, reads("dmp1", 0, 2, 16384)), T0));
        assertFalse(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0));
        assertFalse(ledger.apply("node-a", "run-1", delta(2, reads("dmp1", 0, 2, 16384)), T0));
        assertEquals(Map.of("dmp1", new Old(2, 16384, 3, 12288)), host("node-a"));
        CounterSet all = counts(WRITE, 3, 12288);
        all.add(counts(READ, 2, 16384));
        assertEquals(all, countsOf("node-a", "dmp1").sinceReset(), "every counter, histograms included");
    }

    @Test
    void reconnectingWithTheSameRunKeepsTheNumbering() {
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)), T0);
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        // unacknowledged deltas are sent again after a reconnect: the applied one is skipped
        assertFalse(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)), T0));
        assertTrue(ledger.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096)), T0));
        assertEquals(Map.of("dmp1", new Old(0, 0, 2, 8192)), host("node-a"));
    }

    @Test
    void aNewRunRestartsTheNumberingAndIgnoresTheOldRun() {
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        ledger.apply("node-a", "run-1", delta(5, writes("dmp1", 0, 1, 4096)), T0);
        ledger.hello(hello("node-a", "run-2", "dmp1"), T0);
        assertTrue(ledger.apply("node-a", "run-2", delta(1, writes("dmp1", 0, 1, 512)), T0));
        assertFalse(ledger.apply("node-a", "run-1", delta(6, writes("dmp1", 0, 1, 4096)), T0));
        // a new run is an agent that lost its state: its volumes count from zero
        assertEquals(Map.of("dmp1", new Old(0, 0, 1, 512)), host("node-a"));
    }

    @Test
    void aNewRunStartsTheHostsVolumesFromZero() {
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 2, 1, 4096)), T0);
        assertEquals(2, countsOf("node-a", "dmp1").generation());
        // the new process counts from generation 0 again, and so does its view here: its counts are
        // neither taken for stale ones nor added to the lost agent's
        ledger.hello(hello("node-a", "run-2", "dmp1"), T0);
        assertEquals(Map.of("dmp1", Old.ZERO), host("node-a"));
        assertEquals(0, countsOf("node-a", "dmp1").generation());
        assertTrue(countsOf("node-a", "dmp1").lifetime().isZero());
        assertTrue(ledger.apply("node-a", "run-2", delta(1, writes("dmp1", 0, 1, 512)), T0));
        assertEquals(Map.of("dmp1", new Old(0, 0, 1, 512)), host("node-a"));
        assertEquals(
                Old.of(counts(WRITE, 1, 512)), Old.of(countsOf("node-a", "dmp1").lifetime()));
        assertTrue(ledger.beforeReset("node-a", "dmp1").isZero());
    }

    @Test
    void aNewerGenerationReplacesTheCountsAndAnOlderOneIsDropped() {
        ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288), writes("dmp2", 0, 1, 1)), T0);
        // the reset boundary as the agent sends it: last old-generation counts, zero, then new counts
        ledger.apply(
                "node-a",
                "run-1",
                delta(2, writes("dmp1", 0, 1, 4096), writes("dmp1", 1, 0, 0), reads("dmp1", 1, 1, 512)),
                T0);
        assertEquals(Map.of("dmp1", new Old(1, 512, 0, 0), "dmp2", new Old(0, 0, 1, 1)), host("node-a"));
        // counted before a reset this ledger already applied: dropped, though the delta is consumed
        assertTrue(ledger.apply("node-a", "run-1", delta(3, writes("dmp1", 0, 5, 5), writes("dmp2", 0, 1, 1)), T0));
        assertEquals(Map.of("dmp1", new Old(1, 512, 0, 0), "dmp2", new Old(0, 0, 2, 2)), host("node-a"));
    }

    @Test
    void aResetKeepsTheClosedGenerationAndLifetimeKeepsGrowing() {
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0);
        assertTrue(ledger.beforeReset("node-a", "dmp1").isZero());
        ledger.apply(
                "node-a",
                "run-1",
                delta(2, writes("dmp1", 0, 1, 4096), writes("dmp1", 1, 0, 0), reads("dmp1", 1, 1, 512)),
                T0);
        assertEquals(new Old(0, 0, 4, 16384), Old.of(ledger.beforeReset("node-a", "dmp1")));
        assertEquals(new Old(1, 512, 0, 0), Old.of(countsOf("node-a", "dmp1").sinceReset()));
        assertEquals(
                new Old(1, 512, 4, 16384), Old.of(countsOf("node-a", "dmp1").lifetime()));
        assertEquals(1, countsOf("node-a", "dmp1").generation());

        // a second reset: beforeReset is now generation 1's counts only
        ledger.apply(
                "node-a",
                "run-1",
                delta(3, reads("dmp1", 1, 1, 1024), reads("dmp1", 2, 0, 0), writes("dmp1", 2, 2, 1024)),
                T0);
        assertEquals(new Old(2, 1536, 0, 0), Old.of(ledger.beforeReset("node-a", "dmp1")));
        assertEquals(new Old(0, 0, 2, 1024), Old.of(countsOf("node-a", "dmp1").sinceReset()));
        assertEquals(
                new Old(2, 1536, 6, 17408), Old.of(countsOf("node-a", "dmp1").lifetime()));
        assertEquals(2, countsOf("node-a", "dmp1").generation());
        // sinceReset + every closed generation = lifetime, exactly
        CounterSet sum = counts(WRITE, 4, 16384);
        sum.add(ledger.beforeReset("node-a", "dmp1"));
        sum.add(countsOf("node-a", "dmp1").sinceReset());
        assertEquals(countsOf("node-a", "dmp1").lifetime(), sum);
    }

    @Test
    void helloKeepsOnlyTheAnnouncedVolumes() {
        ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 10), writes("dmp2", 0, 1, 20)), T0);
        ledger.hello(hello("node-a", "run-1", "dmp2", "dmp3"), T0);
        assertEquals(Map.of("dmp2", new Old(0, 0, 1, 20), "dmp3", Old.ZERO), host("node-a"));
    }

    @Test
    void deltasOfUnknownHostsAreRefused() {
        assertFalse(ledger.apply("node-x", "run-1", delta(1, writes("dmp1", 0, 1, 1)), T0));
        assertEquals(List.of(), ledger.volumeCounts());
        assertEquals(List.of(), ledger.hosts());
    }

    @Test
    void createdAndDeletedVolumes() {
        ledger.hello(hello("node-a", "run-1"), T0);
        ledger.addVolume(Volume.newBuilder().setHost("node-a").setName("dmp1").build());
        ledger.addVolume(
                Volume.newBuilder().setHost("node-x").setName("dmp1").build()); // unknown host: nothing happens
        assertEquals(
                List.of("node-a/dmp1"),
                ledger.volumeCounts().stream()
                        .map(v -> v.host() + "/" + v.volume())
                        .toList());
        assertEquals(Map.of("dmp1", Old.ZERO), host("node-a"));
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 1)), T0);
        ledger.addVolume(Volume.newBuilder().setHost("node-a").setName("dmp1").build()); // already there: counts kept
        assertEquals(Map.of("dmp1", new Old(0, 0, 1, 1)), host("node-a"));
        ledger.removeVolume("node-a", "dmp1");
        assertEquals(Map.of(), host("node-a"));
    }

    @Test
    void offlineHostsKeepTheirNumbersMarkedStale() {
        ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)), T0.plusSeconds(1));
        assertFalse(countsOf("node-a", "dmp1").stale());
        ledger.offline("node-a", T0.plusSeconds(2));
        VolumeCounts v = countsOf("node-a", "dmp1");
        assertTrue(v.stale());
        assertEquals(T0.plusSeconds(2), v.lastSeen());
        assertEquals(new Old(0, 0, 1, 4096), Old.of(v.sinceReset()));
        assertEquals(List.of(new FleetLedger.HostInfo("node-a", false, T0.plusSeconds(2), "test", 1)), ledger.hosts());
    }
}
