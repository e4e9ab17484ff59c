package dev.dmp.agent.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.agent.volume.AllowedPaths;
import dev.dmp.agent.volume.BackendFactory;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeFactory;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.Backend;
import dev.dmp.proto.v1.ZeroBackend;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The agent's per-volume metrics as Prometheus scrapes them, compared whole with a golden file. When a
 * change is intended, the test writes what it saw to target/volume.actual.txt: review it, then copy it
 * over src/test/resources/metrics/volume.golden.txt.
 */
class VolumeMetricsTest {

    private static String scrapeDmp(CollectorRegistry prometheus) throws IOException {
        StringWriter out = new StringWriter();
        TextFormat.write004(out, prometheus.metricFamilySamples());
        return out.toString()
                .lines()
                .filter(l -> l.startsWith("# HELP dmp_") || l.startsWith("# TYPE dmp_") || l.startsWith("dmp_"))
                .sorted()
                .collect(Collectors.joining("\n", "", "\n"));
    }

    private static String golden() throws IOException {
        try (InputStream in = VolumeMetricsTest.class.getResourceAsStream("/metrics/volume.golden.txt")) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void exposition() throws Exception {
        StatsJournal journal = new StatsJournal(false);
        CollectorRegistry prometheus = new CollectorRegistry();
        try (VolumeRegistry registry = new VolumeRegistry(
                journal, new VolumeFactory("node-a", new BackendFactory(new AllowedPaths(List.of()))))) {
            Volume volume = registry.create(
                    "dmp1",
                    Backend.newBuilder()
                            .setZero(ZeroBackend.newBuilder().setSizeBytes(1 << 20))
                            .build(),
                    false);
            prometheus.register(new VolumeMetrics(registry, true));
            VolumeStats.Shard shard = volume.stats().openShard();
            // 3 writes of 4096 at 1.5 ms, 2 reads of 8192 at 0.5 ms, a read refused with NBD_EINVAL at
            // 2 us, a flush at 250 ms; then one reset, and one read in flight
            for (int i = 0; i < 3; i++) {
                shard.started();
                shard.completed(CounterSet.WRITE, 4096, 0, 1_500_000);
            }
            for (int i = 0; i < 2; i++) {
                shard.started();
                shard.completed(CounterSet.READ, 8192, 0, 500_000);
            }
            shard.started();
            shard.completed(CounterSet.READ, 1024, 22, 2_000);
            shard.started();
            shard.completed(CounterSet.FLUSH, 0, 0, 250_000_000);
            assertEquals(1, journal.reset(List.of("dmp1")));
            shard.started();

            String actual = scrapeDmp(prometheus);
            String expected = golden();
            if (!actual.equals(expected)) {
                Path out = Path.of("target", "volume.actual.txt");
                Files.writeString(out, actual);
            }
            assertEquals(expected, actual);

            // a deleted volume's series go away (the families stay, empty)
            registry.delete("dmp1");
            assertTrue(scrapeDmp(prometheus).lines().allMatch(l -> l.startsWith("#")), scrapeDmp(prometheus));
        }
    }
}
