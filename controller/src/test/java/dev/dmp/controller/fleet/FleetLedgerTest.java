package dev.dmp.controller.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeDelta;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class FleetLedgerTest {
    private final FleetLedger ledger = new FleetLedger();

    private static StatsDelta delta(long seq, VolumeDelta... volumes) {
        return StatsDelta.newBuilder().setSeq(seq).addAllVolumes(List.of(volumes)).build();
    }

    private static VolumeDelta writes(String volume, long generation, long requests, long bytes) {
        return VolumeDelta.newBuilder().setVolume(volume).setGeneration(generation)
                .setWriteRequests(requests).setWriteBytes(bytes).build();
    }

    private static VolumeDelta reads(String volume, long generation, long requests, long bytes) {
        return VolumeDelta.newBuilder().setVolume(volume).setGeneration(generation)
                .setReadRequests(requests).setReadBytes(bytes).build();
    }

    private Map<String, Counts> host(String host) {
        return ledger.snapshot().getOrDefault(host, new TreeMap<>());
    }

    @Test
    void appliesEachSequenceNumberOncePerRun() {
        ledger.hello("node-a", "run-1", List.of("dmp1"));
        assertTrue(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288))));
        assertFalse(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288))));
        assertTrue(ledger.apply("node-a", "run-1", delta(2, reads("dmp1", 0, 2, 16384))));
        assertFalse(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288))));
        assertFalse(ledger.apply("node-a", "run-1", delta(2, reads("dmp1", 0, 2, 16384))));
        assertEquals(Map.of("dmp1", new Counts(2, 16384, 3, 12288)), host("node-a"));
    }

    @Test
    void reconnectingWithTheSameRunKeepsTheNumbering() {
        ledger.hello("node-a", "run-1", List.of("dmp1"));
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)));
        ledger.hello("node-a", "run-1", List.of("dmp1"));
        // unacknowledged deltas are sent again after a reconnect: the applied one is skipped
        assertFalse(ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096))));
        assertTrue(ledger.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096))));
        assertEquals(Map.of("dmp1", new Counts(0, 0, 2, 8192)), host("node-a"));
    }

    @Test
    void aNewRunRestartsTheNumberingAndIgnoresTheOldRun() {
        ledger.hello("node-a", "run-1", List.of("dmp1"));
        ledger.apply("node-a", "run-1", delta(5, writes("dmp1", 0, 1, 4096)));
        ledger.hello("node-a", "run-2", List.of("dmp1"));
        assertTrue(ledger.apply("node-a", "run-2", delta(1, writes("dmp1", 0, 1, 512))));
        assertFalse(ledger.apply("node-a", "run-1", delta(6, writes("dmp1", 0, 1, 4096))));
        assertEquals(Map.of("dmp1", new Counts(0, 0, 2, 4608)), host("node-a"));
    }

    @Test
    void aRestartedAgentsGenerationsStartAgain() {
        ledger.hello("node-a", "run-1", List.of("dmp1"));
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 2, 1, 4096)));
        // the new process counts from generation 0 again; its counts must not be taken for stale ones
        ledger.hello("node-a", "run-2", List.of("dmp1"));
        assertTrue(ledger.apply("node-a", "run-2", delta(1, writes("dmp1", 0, 1, 512))));
        assertEquals(Map.of("dmp1", new Counts(0, 0, 2, 4608)), host("node-a"));
    }

    @Test
    void aNewerGenerationReplacesTheCountsAndAnOlderOneIsDropped() {
        ledger.hello("node-a", "run-1", List.of("dmp1", "dmp2"));
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288), writes("dmp2", 0, 1, 1)));
        // the reset boundary as the agent sends it: last old-generation counts, zero, then new counts
        ledger.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096), writes("dmp1", 1, 0, 0),
                reads("dmp1", 1, 1, 512)));
        assertEquals(Map.of("dmp1", new Counts(1, 512, 0, 0), "dmp2", new Counts(0, 0, 1, 1)), host("node-a"));
        // counted before a reset this ledger already applied: dropped, though the delta is consumed
        assertTrue(ledger.apply("node-a", "run-1", delta(3, writes("dmp1", 0, 5, 5), writes("dmp2", 0, 1, 1))));
        assertEquals(Map.of("dmp1", new Counts(1, 512, 0, 0), "dmp2", new Counts(0, 0, 2, 2)), host("node-a"));
    }

    @Test
    void helloKeepsOnlyTheAnnouncedVolumes() {
        ledger.hello("node-a", "run-1", List.of("dmp1", "dmp2"));
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 10), writes("dmp2", 0, 1, 20)));
        ledger.hello("node-a", "run-1", List.of("dmp2", "dmp3"));
        assertEquals(Map.of("dmp2", new Counts(0, 0, 1, 20), "dmp3", Counts.ZERO), host("node-a"));
    }

    @Test
    void deltasOfUnknownHostsAreRefused() {
        assertFalse(ledger.apply("node-x", "run-1", delta(1, writes("dmp1", 0, 1, 1))));
        assertEquals(Map.of(), ledger.snapshot());
    }

    @Test
    void createdAndDeletedVolumes() {
        ledger.hello("node-a", "run-1", List.of());
        ledger.addVolume("node-a", "dmp1");
        ledger.addVolume("node-x", "dmp1"); // unknown host: nothing happens
        assertEquals(Map.of("node-a", Map.of("dmp1", Counts.ZERO)), ledger.snapshot());
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 1)));
        ledger.addVolume("node-a", "dmp1"); // already there: counts kept
        assertEquals(Map.of("dmp1", new Counts(0, 0, 1, 1)), host("node-a"));
        ledger.removeVolume("node-a", "dmp1");
        assertEquals(Map.of(), host("node-a"));
    }
}
