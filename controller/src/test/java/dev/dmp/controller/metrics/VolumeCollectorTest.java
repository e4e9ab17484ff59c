package dev.dmp.controller.metrics;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static dev.dmp.controller.fleet.FleetLedgerTest.delta;
import static dev.dmp.controller.fleet.FleetLedgerTest.hello;
import static dev.dmp.controller.fleet.FleetLedgerTest.reads;
import static dev.dmp.controller.fleet.FleetLedgerTest.writes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.controller.fleet.FleetLedger;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class VolumeCollectorTest {

    @Test
    void exposesEveryVolumeFromTheLedgerTheNodeExporterWay() throws Exception {
        FleetLedger ledger = new FleetLedger(null);
        ledger.hello(hello("node-a", "run-1", "dmp1", "dmp2"), T0);
        // dmp1: 3 writes of 4 KiB, then a reset (generation 1) and one read of 512 bytes; dmp2: nothing
        ledger.apply("node-a", "run-1", delta(1, writes("dmp1", 0, 3, 12288)), T0);
        ledger.apply("node-a", "run-1", delta(2, writes("dmp1", 1, 0, 0), reads("dmp1", 1, 1, 512)), T0);
        CollectorRegistry registry = new CollectorRegistry();
        registry.register(new VolumeCollector(ledger));
        StringWriter out = new StringWriter();
        TextFormat.write004(out, registry.metricFamilySamples());

        // Counters are lifetime counts: the reset lowers none of them. Latency: 1000 ns per request.
        assertEquals(List.of(
                "# HELP dmp_volume_bytes_total Bytes read, written or covered by successful requests.",
                "# HELP dmp_volume_errors_total Requests answered with an NBD error.",
                "# HELP dmp_volume_request_time_seconds_total Total time from receiving requests to replying, in seconds.",
                "# HELP dmp_volume_requests_in_flight Requests received and not yet answered, as last reported.",
                "# HELP dmp_volume_requests_total Requests completed successfully.",
                "# HELP dmp_volume_resets_total Resets of the volume's old-view counters.",
                "# TYPE dmp_volume_bytes_total counter",
                "# TYPE dmp_volume_errors_total counter",
                "# TYPE dmp_volume_request_time_seconds_total counter",
                "# TYPE dmp_volume_requests_in_flight gauge",
                "# TYPE dmp_volume_requests_total counter",
                "# TYPE dmp_volume_resets_total counter",
                "dmp_volume_bytes_total{host=\"node-a\",op=\"read\",volume=\"dmp1\",} 512.0",
                "dmp_volume_bytes_total{host=\"node-a\",op=\"write\",volume=\"dmp1\",} 12288.0",
                "dmp_volume_errors_total{host=\"node-a\",op=\"read\",volume=\"dmp1\",} 0.0",
                "dmp_volume_errors_total{host=\"node-a\",op=\"write\",volume=\"dmp1\",} 0.0",
                "dmp_volume_request_time_seconds_total{host=\"node-a\",op=\"read\",volume=\"dmp1\",} 1.0E-6",
                "dmp_volume_request_time_seconds_total{host=\"node-a\",op=\"write\",volume=\"dmp1\",} 3.0E-6",
                "dmp_volume_requests_in_flight{host=\"node-a\",volume=\"dmp1\",} 0.0",
                "dmp_volume_requests_in_flight{host=\"node-a\",volume=\"dmp2\",} 0.0",
                "dmp_volume_requests_total{host=\"node-a\",op=\"read\",volume=\"dmp1\",} 1.0",
                "dmp_volume_requests_total{host=\"node-a\",op=\"write\",volume=\"dmp1\",} 3.0",
                "dmp_volume_resets_total{host=\"node-a\",volume=\"dmp1\",} 1.0",
                "dmp_volume_resets_total{host=\"node-a\",volume=\"dmp2\",} 0.0"),
                out.toString().lines().sorted().toList());
    }
}
