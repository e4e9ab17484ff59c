package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static dev.dmp.controller.fleet.FleetLedgerTest.assertTotalIsTheSum;
import static dev.dmp.controller.fleet.FleetLedgerTest.counts;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.fleet.FleetLedgerTest.Old;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.VolumeTotals;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A ledger that lost acknowledged deltas rebuilds the host from the counts its agent's Hello carries;
 * one that holds them ignores those counts.
 */
class HostRebuildTest {
    private final FleetLedger ledger = new FleetLedger(null);

    /**
     * node-a's Hello of run-1: delta 6 handed out, 5 acknowledged; dmp1 counted 10 writes of 4096 bytes,
     * 4 of them before its reset (generation 1); dmp2 created since the last delta, with no counts.
     */
    private static Hello afterSix() {
        return hello("node-a", "run-1", "dmp1", "dmp2").toBuilder()
                .setLastSeq(6)
                .setAckedSeq(5)
                .addTotals(VolumeTotals.newBuilder()
                        .setVolume("dmp1")
                        .setGeneration(1)
                        .addAllCumulative(counts(WRITE, 10, 40960).toProto())
                        .addAllBaseline(counts(WRITE, 4, 16384).toProto()))
                .build();
    }

    private Map<String, Old> sinceReset() {
        Map<String, Old> out = new TreeMap<>();
        ledger.volumeCounts().forEach(v -> out.put(v.volume(), Old.of(v.sinceReset())));
        return out;
    }

    @AfterEach
    void theFleetTotalIsTheSum() {
        assertTotalIsTheSum(ledger);
    }

    @Test
    void aLedgerThatKnowsNothingOfTheHostRebuildsItExactly() {
        ledger.connect(afterSix(), T0);
        assertEquals(Map.of("dmp1", new Old(0, 0, 6, 24576), "dmp2", Old.ZERO), sinceReset());
        VolumeCounts dmp1 = ledger.volumeCounts().get(0);
        assertEquals(1, dmp1.generation());
        assertEquals(new Old(0, 0, 10, 40960), Old.of(dmp1.lifetime()));
        assertFalse(ledger.apply("node-a", "run-1", delta(6, writes("dmp1", 1, 9, 9)), T0), "in the totals");
        assertTrue(ledger.apply("node-a", "run-1", delta(7, writes("dmp1", 1, 1, 4096)), T0));
        assertEquals(Map.of("dmp1", new Old(0, 0, 7, 28672), "dmp2", Old.ZERO), sinceReset());
    }

    @Test
    void aLedgerBehindTheAcknowledgedDeltasRebuildsIt() {
        ledger.connect(hello("node-a", "run-1", "dmp1"), T0);
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 2, 8192)), T0);
        // the database came back from a backup holding delta 1 only; 5 were acknowledged
        ledger.connect(afterSix(), T0);
        assertEquals(Map.of("dmp1", new Old(0, 0, 6, 24576), "dmp2", Old.ZERO), sinceReset());
    }

    @Test
    void aLedgerThatHoldsTheAcknowledgedDeltasIgnoresTheTotals() {
        ledger.connect(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        ledger.apply("node-a", "run-1", delta(5, writes("dmp1", 0, 3, 12288)), T0);
        ledger.connect(afterSix(), T0);
        assertEquals(Map.of("dmp1", new Old(0, 0, 3, 12288), "dmp2", Old.ZERO), sinceReset());
        assertTrue(ledger.apply("node-a", "run-1", delta(6, writes("dmp1", 0, 1, 4096)), T0), "resent, applied");
    }

    @Test
    void anAgentAcknowledgedNothingIsNotRebuilt() {
        ledger.connect(afterSix().toBuilder().setAckedSeq(0).build(), T0);
        assertEquals(Map.of("dmp1", Old.ZERO, "dmp2", Old.ZERO), sinceReset(), "as a new run, from zero");
    }
}
