package dev.dmp.controller.metrics;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.reads;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.Volume;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The controller's per-volume metrics as Prometheus scrapes them, compared whole with a golden file.
 * When a change is intended, the test writes what it saw to target/fleet.actual.txt: review it, then
 * copy it over src/test/resources/metrics/fleet.golden.txt.
 */
class VolumeCollectorTest {

    private static String scrape(VolumeCollector collector) throws IOException {
        CollectorRegistry registry = new CollectorRegistry();
        registry.register(collector);
        StringWriter out = new StringWriter();
        TextFormat.write004(out, registry.metricFamilySamples());
        return out.toString().lines().sorted().collect(Collectors.joining("\n", "", "\n"));
    }

    private static String golden(String name) throws IOException {
        try (InputStream in = VolumeCollectorTest.class.getResourceAsStream("/metrics/" + name)) {
            return in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void exposesEveryVolumeFromTheLedgerTheNodeExporterWay() throws Exception {
        FleetLedger ledger = new FleetLedger(null);
        ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        // dmp1: 3 writes of 4 KiB, then a reset (generation 1) and one read of 512 bytes; dmp2: nothing,
        // and its kernel device failed. Latency: 1000 ns per request.
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0);
        ledger.apply("node-a", "run-1", delta(2, writes("dmp1", 1, 0, 0), reads("dmp1", 1, 1, 512)), T0);
        ledger.updateVolume(Volume.newBuilder()
                .setHost("node-a")
                .setName("dmp2")
                .setAttachment("failed: /dev/nbd3: gone")
                .setAttachmentState(AttachmentState.ATTACHMENT_STATE_FAILED)
                .build());
        // node-b: 2 writes of 8 KiB on v1 and 5 on v2, so its host histograms count 7 writes, 57344 bytes
        ledger.hello(hello("node-b", "run-2", "v1", "v2"), T0);
        ledger.apply("node-b", "run-2", delta(1, writes("v1", 0, 2, 16384), writes("v2", 0, 5, 40960)), T0);

        // Counters are lifetime counts: the reset lowers none of them; operations that counted nothing
        // have no series. Per host, node-a's histograms equal dmp1's, the only volume that counted, and
        // node-b's add up its two volumes'.
        String actual = scrape(new VolumeCollector(ledger, HistogramScope.VOLUME));
        String expected = golden("fleet.golden.txt");
        if (!actual.equals(expected)) {
            Files.writeString(Path.of("target", "fleet.actual.txt"), actual);
        }
        assertEquals(expected, actual);

        // Per host (the default): the same without the volumes' histograms; with one volume counting,
        // node-a's histograms are dmp1's. Off: no histograms at all.
        assertEquals(
                expected.lines()
                        .filter(l -> !l.contains("dmp_volume_request_duration_seconds")
                                && !l.contains("dmp_volume_request_size_bytes"))
                        .collect(Collectors.joining("\n", "", "\n")),
                scrape(new VolumeCollector(ledger, HistogramScope.HOST)));
        assertEquals(
                expected.lines()
                        .filter(l -> !l.contains("_request_duration_seconds") && !l.contains("_request_size_bytes"))
                        .collect(Collectors.joining("\n", "", "\n")),
                scrape(new VolumeCollector(ledger, HistogramScope.OFF)));
    }
}
