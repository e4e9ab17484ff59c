package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.reads;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.fleet.FleetLedgerTest.Old;
import dev.dmp.controller.store.MvStoreLedgerStore;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.HostRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ledger through its MVStore file: what was committed is what a restarted controller has. */
class FleetLedgerPersistenceTest {
    @TempDir
    Path dir;

    /** Counts as a reopened ledger shows them: every host offline until its agent says Hello again. */
    private static List<VolumeCounts> offline(List<VolumeCounts> counts) {
        return counts.stream()
                .map(v -> new VolumeCounts(
                        v.host(),
                        v.volume(),
                        v.generation(),
                        v.sinceReset(),
                        v.lifetime(),
                        v.inFlight(),
                        true,
                        v.lastSeen()))
                .toList();
    }

    @Test
    void whatWasCommittedSurvivesAReopen() throws Exception {
        Instant seen = T0.plusSeconds(5);
        List<VolumeCounts> before;
        CounterSet total;
        try (MvStoreLedgerStore store = MvStoreLedgerStore.open(dir.resolve("data"))) {
            assertTrue(Files.exists(store.file()));
            FleetLedger ledger = new FleetLedger(store);
            ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
            ledger.hello(hello("node-b", "run-7", "dmp1"), T0);
            assertTrue(ledger.apply(
                    "node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288), reads("dmp2", 0, 2, 16384)), T0));
            // a reset of node-a/dmp1, so every kind of count is there to keep
            assertTrue(ledger.apply(
                    "node-a",
                    "run-1",
                    delta(2, writes("dmp1", 0, 1, 4096), writes("dmp1", 1, 0, 0), reads("dmp1", 1, 1, 512)),
                    seen));
            assertTrue(ledger.apply("node-b", "run-7", delta(1, writes("dmp1", 0, 1, 1)), seen));
            ledger.commit();
            before = ledger.volumeCounts();
            total = ledger.total().counts();
            assertEquals(3, before.size());
        }

        try (MvStoreLedgerStore store = MvStoreLedgerStore.open(dir.resolve("data"))) {
            List<HostRecord> records = store.loadAll();
            assertEquals(
                    List.of("node-a", "node-b"),
                    records.stream().map(HostRecord::getHostId).sorted().toList());
            HostRecord a = records.stream()
                    .filter(r -> r.getHostId().equals("node-a"))
                    .findFirst()
                    .orElseThrow();
            assertEquals("run-1", a.getRunId());
            assertEquals(2, a.getAppliedSeq());
            assertEquals(
                    seen,
                    Instant.ofEpochSecond(
                            a.getLastSeen().getSeconds(), a.getLastSeen().getNanos()));
            assertEquals("test", a.getAgentVersion());

            FleetLedger reopened = new FleetLedger(store);
            assertEquals(offline(before), reopened.volumeCounts());
            assertEquals(new Old(0, 0, 4, 16384), Old.of(reopened.beforeReset("node-a", "dmp1")));
            assertEquals(total, reopened.total().counts(), "the fleet total is rebuilt from the records");
            assertEquals(
                    List.of(
                            new FleetLedger.HostInfo("node-a", false, seen, "test", 2),
                            new FleetLedger.HostInfo("node-b", false, seen, "test", 1)),
                    reopened.hosts());
            assertEquals(
                    before.stream().map(v -> v.host() + "/" + v.volume()).toList(),
                    reopened.volumes("").stream()
                            .map(v -> v.getHost() + "/" + v.getName())
                            .toList());

            // the agent reconnects with the same run and resends what was not acknowledged
            reopened.hello(hello("node-a", "run-1", "dmp1", "dmp2"), seen);
            assertFalse(
                    reopened.apply("node-a", "run-1", delta(2, writes("dmp1", 1, 9, 9)), seen),
                    "applied before the restart");
            assertTrue(reopened.apply("node-a", "run-1", delta(3, reads("dmp1", 1, 1, 512)), seen));
            assertEquals(
                    new Old(2, 1024, 0, 0),
                    Old.of(reopened.volumeCounts().get(0).sinceReset()));
            assertFalse(reopened.apply("node-a", "run-0", delta(4, reads("dmp1", 1, 1, 512)), seen), "another run");
        }
    }

    @Test
    void whatWasNotCommittedIsNotThere() throws Exception {
        try (MvStoreLedgerStore store = MvStoreLedgerStore.open(dir)) {
            FleetLedger ledger = new FleetLedger(store);
            ledger.hello(hello("node-a", "run-1", "dmp1"), T0);
            ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 1, 4096)), T0);
            ledger.commit();
            ledger.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096)), T0);
            // no commit: an acknowledgement for seq 2 was never sent, so the agent still holds it
        }
        try (MvStoreLedgerStore store = MvStoreLedgerStore.open(dir)) {
            FleetLedger reopened = new FleetLedger(store);
            assertEquals(
                    new Old(0, 0, 1, 4096),
                    Old.of(reopened.volumeCounts().get(0).sinceReset()));
            reopened.hello(hello("node-a", "run-1", "dmp1"), T0);
            assertTrue(reopened.apply("node-a", "run-1", delta(2, writes("dmp1", 0, 1, 4096)), T0));
            assertEquals(
                    new Old(0, 0, 2, 8192),
                    Old.of(reopened.volumeCounts().get(0).sinceReset()));
        }
    }
}
