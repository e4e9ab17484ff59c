package dev.dmp.agent.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class VolumeStatsTest {

    @Test
    void startsEmptyInGenerationZero() {
        VolumeStats s = new VolumeStats();
        assertEquals(StatsSnapshot.ZERO, s.cumulative());
        assertEquals(StatsSnapshot.ZERO, s.sinceReset());
        assertEquals(0, s.generation());
    }

    @Test
    void recordsRequestsAndBytes() {
        VolumeStats s = new VolumeStats();
        s.recordWrite(4096);
        s.recordWrite(4096);
        s.recordWrite(4096);
        s.recordRead(8192);
        s.recordRead(8192);
        assertEquals(new StatsSnapshot(2, 16384, 3, 12288), s.cumulative());
        assertEquals(new StatsSnapshot(2, 16384, 3, 12288), s.sinceReset());
    }

    @Test
    void resetMovesTheBaselineAndStartsAGenerationButCountersOnlyGoUp() {
        VolumeStats s = new VolumeStats();
        s.recordRead(512);
        s.recordWrite(1024);
        assertEquals(1, s.reset(s.cumulative()));
        assertEquals(1, s.generation());
        assertEquals(StatsSnapshot.ZERO, s.sinceReset());
        s.recordWrite(2048);
        assertEquals(new StatsSnapshot(0, 0, 1, 2048), s.sinceReset());
        assertEquals(new StatsSnapshot(1, 512, 2, 3072), s.cumulative());
        assertEquals(2, s.reset(s.cumulative()));
        assertEquals(StatsSnapshot.ZERO, s.sinceReset());
    }

    @Test
    void snapshotArithmetic() {
        StatsSnapshot a = new StatsSnapshot(5, 50, 7, 70);
        StatsSnapshot b = new StatsSnapshot(2, 20, 3, 30);
        assertEquals(new StatsSnapshot(3, 30, 4, 40), a.minus(b));
        assertEquals(a, a.minus(b).plus(b));
        assertEquals(true, a.minus(a).isZero());
    }
}
