package dev.dmp.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.CounterSet;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class VolumeFamiliesTest {

    /** name{labels} -> value, for every sample of every family. */
    private static Map<String, Double> samples(VolumeFamilies f) {
        Map<String, Double> out = new TreeMap<>();
        for (MetricFamilySamples family : f.families()) {
            for (Sample s : family.samples) {
                List<String> labels = new ArrayList<>();
                for (int i = 0; i < s.labelNames.size(); i++) {
                    labels.add(s.labelNames.get(i) + "=" + s.labelValues.get(i));
                }
                out.put(s.name + labels, s.value);
            }
        }
        return out;
    }

    @Test
    void sizeBucketsHoldWhatTheirLeSays() {
        CounterSet c = CounterSet.empty();
        c.record(CounterSet.WRITE, 4096, 0, 1_000); // 2^12: not <= 4095, <= 8191
        c.record(CounterSet.WRITE, 8191, 0, 1_000); // the largest value of that bucket
        c.record(CounterSet.WRITE, 100, 0, 1_000); // below the first bound, so under it
        c.record(
                CounterSet.WRITE,
                1L << 26,
                5,
                1_000); // past the last bound (2^26 - 1): +Inf only; failed, still counted
        VolumeFamilies f = new VolumeFamilies(List.of("volume"), false, true, false);
        f.add(List.of("dmp1"), c, 0, 0, 0);
        Map<String, Double> s = samples(f);
        String at = "dmp_volume_request_size_bytes_bucket[op=write, volume=dmp1, le=";
        assertEquals(1.0, s.get(at + "511.0]"));
        assertEquals(1.0, s.get(at + "4095.0]"));
        assertEquals(3.0, s.get(at + "8191.0]"));
        assertEquals(3.0, s.get(at + "6.7108863E7]"));
        assertEquals(4.0, s.get(at + "+Inf]"));
        assertEquals(4.0, s.get("dmp_volume_request_size_bytes_count[op=write, volume=dmp1]"));
        // _sum covers failed requests too: 4096 + 8191 + 100 + 2^26
        assertEquals(
                4096.0 + 8191 + 100 + (1 << 26), s.get("dmp_volume_request_size_bytes_sum[op=write, volume=dmp1]"));
        // bytes_total counts the successful ones only
        assertEquals(4096.0 + 8191 + 100, s.get("dmp_volume_bytes_total[op=write, volume=dmp1]"));
        assertEquals(1.0, s.get("dmp_volume_errors_total[op=write, volume=dmp1]"));
        assertEquals(
                HistogramFamilies.SIZE_LAST - HistogramFamilies.SIZE_FIRST + 2,
                s.keySet().stream().filter(k -> k.startsWith(at)).count(),
                "buckets with +Inf");
    }

    @Test
    void latencyBucketsAreInSecondsWithTheLargestNanosecondTheyHold() {
        CounterSet c = CounterSet.empty();
        c.record(CounterSet.READ, 4096, 0, 1_000_000); // 1 ms: bucket 19, [2^19, 2^20) ns
        c.record(CounterSet.READ, 4096, 0, (1 << 20) - 1); // the bucket's last nanosecond
        c.record(CounterSet.READ, 4096, 0, 1 << 20); // the next bucket's first
        c.record(CounterSet.READ, 4096, 0, 500); // under the first bound (1023 ns)
        c.record(CounterSet.READ, 4096, 0, 40_000_000_000L); // 40 s: over the last (2^35 - 1 ns, 34.4 s)
        VolumeFamilies f = new VolumeFamilies(List.of("host", "volume"), false, true, false);
        f.add(List.of("node-a", "dmp1"), c, 0, 0, 0);
        Map<String, Double> s = samples(f);
        String at = "dmp_volume_request_duration_seconds_bucket[host=node-a, op=read, volume=dmp1, le=";
        assertEquals(1.0, s.get(at + "1.023E-6]"));
        assertEquals(1.0, s.get(at + "5.24287E-4]"));
        assertEquals(3.0, s.get(at + "0.001048575]"));
        assertEquals(4.0, s.get(at + "0.002097151]"));
        assertEquals(4.0, s.get(at + "34.359738367]"));
        assertEquals(5.0, s.get(at + "+Inf]"));
        assertEquals(5.0, s.get("dmp_volume_request_duration_seconds_count[host=node-a, op=read, volume=dmp1]"));
        assertEquals(
                (1_000_000 + (1 << 20) - 1 + (1 << 20) + 500 + 40_000_000_000L) / 1e9,
                s.get("dmp_volume_request_duration_seconds_sum[host=node-a, op=read, volume=dmp1]"),
                1e-12);
        assertEquals(
                HistogramFamilies.LATENCY_LAST - HistogramFamilies.LATENCY_FIRST + 2,
                s.keySet().stream().filter(k -> k.startsWith(at)).count(),
                "buckets with +Inf");
    }

    @Test
    void seriesPerVolumeAreAsDocumented() {
        CounterSet c = CounterSet.empty();
        c.record(CounterSet.READ, 4096, 0, 1_000);
        // per volume: in flight, resets, READ hole bytes (and the agent's size gauge); per operation: 4
        // counters and the histograms. controller: only operations that counted something; agent: all seven
        VolumeFamilies controller = new VolumeFamilies(List.of("host", "volume"), false, true, false);
        controller.add(List.of("a", "v"), c, 0, 0, 0);
        assertEquals(
                3 + 4 + HistogramFamilies.SERIES_PER_OP, samples(controller).size());
        VolumeFamilies agent = new VolumeFamilies(List.of("volume"), true, true, true);
        agent.add(List.of("v"), c, 0, 0, 1 << 20);
        assertEquals(
                4 + CounterSet.OPS * (4 + HistogramFamilies.SERIES_PER_OP),
                samples(agent).size());
        assertEquals(50, HistogramFamilies.SERIES_PER_OP);
        VolumeFamilies off = new VolumeFamilies(List.of("volume"), true, false, true);
        off.add(List.of("v"), c, 0, 0, 1 << 20);
        assertEquals(4 + CounterSet.OPS * 4, samples(off).size());
        assertEquals(382, 4 + CounterSet.OPS * (4 + HistogramFamilies.SERIES_PER_OP), "docs/agent.md's figure");
        assertTrue(off.families().stream().noneMatch(m -> m.name.equals("dmp_volume_request_duration_seconds")));
    }

    @Test
    void aHistogramsSamplesOfOneSeriesStayTogetherInOrder() {
        // OpenMetrics wants each series' buckets ascending, then _count and _sum, before the next series.
        CounterSet c = CounterSet.empty();
        c.record(CounterSet.READ, 4096, 0, 1_000);
        c.record(CounterSet.WRITE, 4096, 0, 1_000);
        VolumeFamilies f = new VolumeFamilies(List.of("volume"), false, true, false);
        f.add(List.of("v1"), c, 0, 0, 0);
        f.add(List.of("v2"), c, 0, 0, 0);
        MetricFamilySamples size = f.families().stream()
                .filter(m -> m.name.equals("dmp_volume_request_size_bytes"))
                .findFirst()
                .orElseThrow();
        List<String> order = new ArrayList<>();
        for (Sample s : size.samples) {
            String series = s.labelValues.get(0) + "/" + s.labelValues.get(1);
            if (order.isEmpty() || !order.get(order.size() - 1).equals(series)) {
                order.add(series);
            }
            if (s.name.endsWith("_sum")) {
                order.add("|");
            }
        }
        assertEquals(List.of("read/v1", "|", "write/v1", "|", "read/v2", "|", "write/v2", "|"), order);
    }
}
