package dev.dmp.controller.fleet;

import static dev.dmp.controller.fleet.FleetLedgerTest.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AgentMessageIn;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A hostile or buggy agent's AgentLink stream, applied to the ledger as AgentLinkService and Fleet
 * apply it: any bytes, read as gRPC frames (a flag byte, a 32-bit length, an AgentMessageIn). The
 * first message must be a Hello (it names the session's host and run); later Hellos of the same host and run
 * announce the volumes again; deltas are applied for the session's host and run; the stream ends at
 * the first frame that does not parse or a delta the ledger rejects. Whatever the agent sends:
 *
 * <ul>
 *   <li>a delta is applied exactly when its number is above the last one applied in the run, so no
 *       number is applied twice;
 *   <li>a delta the ledger rejects (IllegalArgumentException) changes nothing;
 *   <li>no volume's lifetime counter and no generation goes down while the volume stays;
 *   <li>another host's volumes and counts stay as they were.
 * </ul>
 */
class FleetLedgerFuzzTest {
    @FuzzTest
    void neverGoesBackwardsNorAppliesANumberTwice(byte[] stream) {
        FleetLedger ledger = new FleetLedger(null);
        ledger.hello(FleetLedgerTest.hello("other", "run-o", "v"), T0);
        ledger.apply("other", "run-o", FleetLedgerTest.delta(1, FleetLedgerTest.writes("v", 0, 2, 8192)), T0);
        List<VolumeCounts> other = ledger.volumeCounts("other");

        String host = null;
        String run = null;
        long applied = 0;
        Map<String, VolumeCounts> last = new HashMap<>();
        ByteBuffer in = ByteBuffer.wrap(stream);
        while (in.remaining() >= 5) {
            in.get();
            int length = in.getInt();
            if (length < 0 || length > in.remaining()) {
                return;
            }
            byte[] frame = new byte[length];
            in.get(frame);
            AgentMessageIn message;
            try {
                message = AgentMessageIn.parseFrom(frame);
            } catch (InvalidProtocolBufferException e) {
                return;
            }
            if (host == null) {
                if (!message.hasHello()
                        || message.getHello().getHostId().isEmpty()
                        || message.getHello().getRunId().isEmpty()) {
                    return;
                }
                host = message.getHello().getHostId();
                run = message.getHello().getRunId();
                applied = host.equals("other") && run.equals("run-o") ? 1 : 0;
                ledger.hello(message.getHello(), T0);
            } else if (message.hasHello()
                    && message.getHello().getHostId().equals(host)
                    && message.getHello().getRunId().equals(run)) {
                ledger.hello(message.getHello(), T0); // Fleet.announced
            } else if (message.hasDelta()) {
                List<VolumeCounts> before = ledger.volumeCounts("");
                boolean didApply;
                try {
                    didApply = ledger.apply(host, run, message.getDelta(), T0);
                } catch (IllegalArgumentException e) {
                    assertEquals(before, ledger.volumeCounts(""), "a rejected delta changed the ledger");
                    return;
                }
                long seq = message.getDelta().getSeq();
                assertEquals(seq > applied, didApply, "delta " + seq + " after " + applied);
                if (didApply) {
                    applied = seq;
                }
            }
            checkNothingWentBack(ledger.volumeCounts(host), last);
            if (!host.equals("other")) {
                assertEquals(other, ledger.volumeCounts("other"), "another host's volumes changed");
            }
        }
    }

    /** Each volume still there has counts and a generation at least as high as at the last look. */
    private static void checkNothingWentBack(List<VolumeCounts> now, Map<String, VolumeCounts> last) {
        Map<String, VolumeCounts> seen = new HashMap<>();
        for (VolumeCounts v : now) {
            VolumeCounts before = last.get(v.volume());
            if (before != null) {
                assertTrue(v.generation() >= before.generation(), "generation went down: " + v.volume());
                notBelow(v.lifetime(), before.lifetime(), v.volume());
            }
            seen.put(v.volume(), v);
        }
        last.clear();
        last.putAll(seen);
    }

    private static void notBelow(CounterSet now, CounterSet before, String volume) {
        for (int op = 0; op < CounterSet.OPS; op++) {
            long[][] pairs = {
                {now.requests(op), before.requests(op)},
                {now.bytes(op), before.bytes(op)},
                {now.errors(op), before.errors(op)},
                {now.latencyNs(op), before.latencyNs(op)},
                {now.requestedBytes(op), before.requestedBytes(op)},
                {now.holeBytes(op), before.holeBytes(op)},
            };
            for (long[] p : pairs) {
                assertTrue(p[0] >= p[1], volume + ": a lifetime counter of op " + op + " went down");
            }
            for (int i = 0; i < CounterSet.LATENCY_BUCKETS; i++) {
                assertTrue(now.latencyBucket(op, i) >= before.latencyBucket(op, i), volume + ": latency bucket");
            }
            for (int i = 0; i < CounterSet.SIZE_BUCKETS; i++) {
                assertTrue(now.sizeBucket(op, i) >= before.sizeBucket(op, i), volume + ": size bucket");
            }
        }
    }
}
