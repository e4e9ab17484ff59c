package dev.dmp.controller.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatsRingTest {
    private static final VolumeKey A1 = new VolumeKey("a", "v1");
    private static final VolumeKey A2 = new VolumeKey("a", "v2");
    private static final VolumeKey B1 = new VolumeKey("b", "v1");

    private static StatsSample at(long millis, Map<VolumeKey, Counts> volumes) {
        return new StatsSample(millis, volumes);
    }

    @Test
    void rateIsTheIncreaseOverTheInterval() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(1000, Map.of(A1, new Counts(1, 4096, 2, 8192))));
        ring.add(at(2000, Map.of(A1, new Counts(11, 4096 + 40960, 4, 8192 + 2 * 1048576))));
        assertEquals(
                new Rate(10, 2, 40960, 2097152),
                ring.last(ChartScope.FLEET).orElseThrow().rate());
        assertEquals(2000, ring.last(ChartScope.FLEET).orElseThrow().time());
    }

    @Test
    void halfASecondDoublesThePerSecondRate() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(1000, Map.of(A1, Counts.ZERO)));
        ring.add(at(1500, Map.of(A1, new Counts(3, 12288, 0, 0))));
        assertEquals(
                new Rate(6, 0, 24576, 0),
                ring.last(ChartScope.FLEET).orElseThrow().rate());
    }

    @Test
    void aResetCountsWhatCameAfterIt() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(1000, Map.of(A1, new Counts(100, 409600, 0, 0))));
        ring.add(at(2000, Map.of(A1, new Counts(3, 12288, 0, 0))));
        assertEquals(
                new Rate(3, 0, 12288, 0),
                ring.last(ChartScope.FLEET).orElseThrow().rate());
    }

    @Test
    void aNewVolumeCountsFromZero() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(1000, Map.of(A1, Counts.ZERO)));
        ring.add(at(2000, Map.of(A1, Counts.ZERO, A2, new Counts(0, 0, 5, 20480))));
        assertEquals(
                new Rate(0, 5, 0, 20480),
                ring.last(ChartScope.FLEET).orElseThrow().rate());
    }

    @Test
    void scopesSelectHostsAndVolumes() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(0, Map.of(A1, Counts.ZERO, A2, Counts.ZERO, B1, Counts.ZERO)));
        ring.add(at(
                1000, Map.of(A1, new Counts(1, 10, 0, 0), A2, new Counts(2, 20, 0, 0), B1, new Counts(4, 40, 0, 0))));
        assertEquals(7, ring.last(ChartScope.FLEET).orElseThrow().rate().readRequests());
        assertEquals(3, ring.last(new ChartScope("a", "")).orElseThrow().rate().readRequests());
        assertEquals(
                4, ring.last(new ChartScope("b", "v1")).orElseThrow().rate().readRequests());
        assertEquals(0, ring.last(new ChartScope("c", "")).orElseThrow().rate().readRequests());
    }

    @Test
    void recentAveragesOverTheWindowAcrossAReset() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(0, Map.of(A1, new Counts(0, 0, 0, 0))));
        ring.add(at(1000, Map.of(A1, new Counts(0, 0, 10, 40960))));
        ring.add(at(2000, Map.of(A1, new Counts(0, 0, 2, 8192)))); // reset, then 2 writes
        ring.add(at(3000, Map.of(A1, new Counts(0, 0, 8, 32768))));
        // window of 2 seconds: 2 + 6 writes over 2 s
        assertEquals(new Rate(0, 4, 0, 16384), ring.recent(2).get(A1));
        // window longer than the ring: all 3 seconds, 10 + 2 + 6 writes
        assertEquals(new Rate(0, 6, 0, 24576), ring.recent(60).get(A1));
    }

    @Test
    void recentRatesArePerVolumeAndAddUp() {
        StatsRing ring = new StatsRing(10);
        ring.add(at(0, Map.of(A1, Counts.ZERO, B1, Counts.ZERO)));
        ring.add(at(
                2000,
                Map.of(A1, new Counts(4, 400, 0, 0), A2, new Counts(0, 0, 6, 600), B1, new Counts(10, 1000, 0, 0))));
        Map<VolumeKey, Rate> recent = ring.recent(5);
        assertEquals(new Rate(2, 0, 200, 0), recent.get(A1));
        assertEquals(new Rate(0, 3, 0, 300), recent.get(A2)); // new in the window: counted from zero
        FleetSnapshot s = new FleetSnapshot(ring.latest().orElseThrow(), recent);
        assertEquals(new Rate(2, 3, 200, 300), s.rate(new ChartScope("a", "")));
        assertEquals(new Rate(7, 3, 700, 300), s.rate(ChartScope.FLEET));
    }

    @Test
    void theRingKeepsItsCapacityAndSeriesHasOnePointPerStep() {
        StatsRing ring = new StatsRing(3);
        for (int i = 0; i < 5; i++) {
            ring.add(at(i * 1000L, Map.of(A1, new Counts(i * 2L, 0, 0, 0))));
        }
        List<RatePoint> series = ring.series(ChartScope.FLEET);
        assertEquals(List.of(3000L, 4000L), series.stream().map(RatePoint::time).toList());
        assertTrue(series.stream().allMatch(p -> p.rate().readRequests() == 2));
        assertEquals(4000, ring.latest().orElseThrow().atMillis());
    }

    @Test
    void emptyAndSingleSampleRingsHaveNoRate() {
        StatsRing ring = new StatsRing(3);
        assertTrue(ring.recent(5).isEmpty());
        assertTrue(ring.last(ChartScope.FLEET).isEmpty());
        ring.add(at(0, Map.of(A1, new Counts(5, 5, 5, 5))));
        assertTrue(ring.recent(5).isEmpty());
        assertTrue(ring.series(ChartScope.FLEET).isEmpty());
    }
}
