package dev.dmp.agent.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.stats.StatsJournal.Delta;
import dev.dmp.proto.OldView;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Averages, the old text block, resets and deltas, with the numbers worked out by hand. */
class StatsArithmeticTest {

    @Test
    void averagesRoundDownAndAreZeroWithoutRequests() {
        assertEquals(5734, OldView.averageSize(3 * 4096 + 2 * 8192, 5)); // 28672 / 5 = 5734.4
        assertEquals(4096, OldView.averageSize(8192, 2));
        assertEquals(0, OldView.averageSize(0, 0));
        assertEquals(0, OldView.averageSize(4096, 0));
    }

    @Test
    void printsTheOldBlock() {
        StringBuilder out = new StringBuilder();
        OldView.appendBlock(out, "dmp1", 2, 16384, 3, 12288);
        assertEquals("""
                dmp1:
                read:
                  reqs: 2
                  avg size: 8192
                write:
                  reqs: 3
                  avg size: 4096
                total:
                  reqs: 5
                  avg size: 5734
                """, out.toString());
    }

    @Test
    void printsAnEmptyVolumeAsZeroes() {
        StringBuilder out = new StringBuilder();
        OldView.appendBlock(out, "node-a/dmp2", 0, 0, 0, 0);
        assertEquals("node-a/dmp2:\nread:\n  reqs: 0\n  avg size: 0\nwrite:\n  reqs: 0\n  avg size: 0\n"
                + "total:\n  reqs: 0\n  avg size: 0\n", out.toString());
    }

    @Test
    void resetMovesTheBaselineAndKeepsCountersGoingUp() {
        StatsJournal journal = new StatsJournal(true);
        VolumeStats stats = new VolumeStats();
        journal.add("dmp1", stats);
        stats.recordWrite(4096);
        stats.recordRead(8192);
        assertEquals(1, journal.reset(List.of("dmp1", "unknown")));
        assertEquals(StatsSnapshot.ZERO, stats.sinceReset());
        assertEquals(new StatsSnapshot(1, 8192, 1, 4096), stats.cumulative());
        assertEquals(1, stats.generation());
        stats.recordWrite(512);
        assertEquals(new StatsSnapshot(0, 0, 1, 512), stats.sinceReset());
        assertEquals(new StatsSnapshot(1, 8192, 2, 4608), stats.cumulative());
    }

    @Test
    void deltasCarryEachRequestOnceInOneGeneration() {
        StatsJournal journal = new StatsJournal(true);
        VolumeStats stats = new VolumeStats();
        journal.add("dmp1", stats);
        assertEquals(List.of(new Delta("dmp1", 0, StatsSnapshot.ZERO)), journal.drain()); // the volume is announced
        assertEquals(List.of(), journal.drain());                                           // nothing changed

        stats.recordWrite(4096);
        stats.recordWrite(4096);
        assertEquals(List.of(new Delta("dmp1", 0, new StatsSnapshot(0, 0, 2, 8192))), journal.drain());

        stats.recordRead(8192);
        journal.reset(List.of("dmp1"));
        stats.recordRead(4096);
        // The read before the reset closes generation 0; generation 1 opens empty; the read after it follows.
        assertEquals(List.of(
                new Delta("dmp1", 0, new StatsSnapshot(1, 8192, 0, 0)),
                new Delta("dmp1", 1, StatsSnapshot.ZERO),
                new Delta("dmp1", 1, new StatsSnapshot(1, 4096, 0, 0))), journal.drain());
        assertEquals(List.of(), journal.drain());
    }

    @Test
    void aRemovedVolumeLeavesNothingQueued() {
        StatsJournal journal = new StatsJournal(true);
        VolumeStats stats = new VolumeStats();
        journal.add("dmp1", stats);
        stats.recordRead(4096);
        journal.reset(List.of("dmp1"));
        journal.remove("dmp1");
        assertEquals(List.of(), journal.drain());
    }
}
