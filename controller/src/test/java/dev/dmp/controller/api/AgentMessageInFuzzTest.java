package dev.dmp.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpCountersCodec;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.OpCounters;
import dev.dmp.proto.v1.VolumeDeltaIn;
import java.util.List;

/**
 * An agent's AgentLink message as the controller reads it: any bytes. Those that parse as
 * {@link AgentMessageIn} carry, in a delta, each operation's counters as the bytes of an OpCounters
 * message, which the controller decodes by hand ({@link OpCountersCodec#checkEncoded},
 * {@link OpCountersCodec#addEncoded}) instead of through the generated parser. The two must agree on
 * every input: the hand-written decoder rejects (IllegalArgumentException, which the ledger turns into
 * INVALID_ARGUMENT) exactly what the generated parser rejects or holds a count past 2^63 - 1, and
 * otherwise adds exactly the counters the generated message holds.
 */
class AgentMessageInFuzzTest {
    @FuzzTest
    void decodesCountersAsTheGeneratedParserDoes(byte[] message) {
        AgentMessageIn in;
        try {
            in = AgentMessageIn.parseFrom(message);
        } catch (InvalidProtocolBufferException e) {
            return;
        }
        for (VolumeDeltaIn v : in.getDelta().getVolumesList()) {
            for (ByteString op : v.getOpsList()) {
                compare(op);
            }
        }
    }

    private static void compare(ByteString op) {
        OpCounters generated;
        try {
            generated = OpCounters.parseFrom(op);
        } catch (InvalidProtocolBufferException e) {
            assertThrows(IllegalArgumentException.class, () -> OpCountersCodec.checkEncoded(op), "accepted: " + e);
            return;
        }
        if (pastSignedRange(generated)) {
            assertThrows(IllegalArgumentException.class, () -> OpCountersCodec.checkEncoded(op));
            return;
        }
        int index = OpCountersCodec.checkEncoded(op);
        assertEquals(generated.getOpValue() - 1, index, "the operation");
        CounterSet byHand = CounterSet.empty();
        OpCountersCodec.addEncoded(byHand, op, index);
        CounterSet byGenerated = CounterSet.empty();
        OpCountersCodec.addProto(byGenerated, List.of(generated));
        assertEquals(byGenerated, byHand, "the counters");
    }

    /** A count of 2^63 or more: no ledger can add it (its counters are signed 64-bit). */
    private static boolean pastSignedRange(OpCounters o) {
        return o.getRequests() < 0
                || o.getBytes() < 0
                || o.getErrors() < 0
                || o.getLatencyNs() < 0
                || o.getRequestedBytes() < 0
                || o.getHoleBytes() < 0
                || o.getErrorsByCodeList().stream().anyMatch(e -> e.getCount() < 0)
                || o.getLatencyHistogramList().stream().anyMatch(n -> n < 0)
                || o.getSizeHistogramList().stream().anyMatch(n -> n < 0);
    }
}
