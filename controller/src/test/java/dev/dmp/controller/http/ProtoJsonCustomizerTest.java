package dev.dmp.controller.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.StatsRows;
import org.junit.jupiter.api.Test;

/**
 * The stats rows of /api as the dashboard reads them (dashboard.js): it finds operations in ops[] by
 * their enum name and reads requests, bytes, holeBytes, errors and latencyHistogram. A change of
 * these names would leave the page showing zeros without any error, so they are pinned here.
 */
class ProtoJsonCustomizerTest {
    private static JsonNode json(Object value) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        new ProtoJsonCustomizer().customize(mapper);
        return mapper.readTree(mapper.writeValueAsString(value));
    }

    @Test
    void opsCarryTheNamesTheDashboardReads() throws Exception {
        CounterSet c = CounterSet.empty();
        c.recordRead(2_097_152, 1_048_576, 0, 1_000_000); // 2 MiB read, 1 MiB of it sent as a hole
        c.record(CounterSet.BLOCK_STATUS, 8_388_608, 0, 1_000_000); // one query of 8 MiB
        JsonNode ops = json(StatsRows.row("node-a", "dmp4", c).build()).get("ops");

        assertEquals(2, ops.size(), ops.toString());
        JsonNode read = ops.get(0);
        assertEquals("OP_READ", read.get("op").asText());
        assertEquals("2097152", read.get("bytes").asText());
        assertEquals("1048576", read.get("holeBytes").asText());
        assertEquals("0", read.get("errors").asText());
        JsonNode bs = ops.get(1);
        assertEquals("OP_BLOCK_STATUS", bs.get("op").asText());
        assertEquals("1", bs.get("requests").asText());
        assertEquals("8388608", bs.get("bytes").asText());
        assertEquals("0", bs.get("holeBytes").asText(), "every field, zeros too");
        // 1 ms is in log2 bucket 19 ([2^19, 2^20) ns): the histogram ends there.
        assertEquals(20, bs.get("latencyHistogram").size());
        assertEquals("1", bs.get("latencyHistogram").get(19).asText());
    }

    @Test
    void aRowThatCountedNothingHasAnEmptyOpsList() throws Exception {
        JsonNode row = json(StatsRows.row("node-a", "web1", CounterSet.empty()).build());
        assertEquals("[]", row.get("ops").toString());
        assertEquals("0", row.at("/read/bytes").asText());
    }
}
