package dev.dmp.proto;

import static dev.dmp.proto.CounterSet.FLUSH;
import static dev.dmp.proto.CounterSet.LATENCY_BUCKETS;
import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.dmp.proto.v1.Op;
import dev.dmp.proto.v1.OpCounters;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The codec's two encodings of a CounterSet, messages and bytes written directly, are the same protobuf. */
class OpCountersCodecTest {

    @Test
    void aCountPastTheSignedRangeIsRejected() {
        // Found by AgentMessageInFuzzTest: a latency histogram element of 2^64 - 1 (uint64 on the wire)
        // was accepted and added to the ledger as -1, so its lifetime counts went down. Here: a WRITE
        // of 2^64 - 1 requests (op 2, requests ff ff ff ff ff ff ff ff ff 01), and a packed histogram
        // element of 2^63.
        ByteString requests = ByteString.fromHex("0802" + "10ffffffffffffffffff01");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> OpCountersCodec.checkEncoded(requests));
        assertEquals("OpCounters: a count of 18446744073709551615 is past 2^63 - 1", e.getMessage());
        ByteString bucket =
                ByteString.fromHex("0802" + "420b" + "01" + "80808080808080808001"); // size histogram [1, 2^63]
        assertThrows(IllegalArgumentException.class, () -> OpCountersCodec.checkEncoded(bucket));
    }

    @Test
    void toProtoSkipsEmptyOpsAndTrimsTrailingZeroBuckets() {
        CounterSet c = CounterSet.empty();
        c.record(WRITE, 4096, 0, 1000); // size bucket 12, latency bucket 9
        c.record(FLUSH, 0, 0, 3); // size bucket 0, latency bucket 1
        assertEquals(
                List.of(
                        OpCounters.newBuilder()
                                .setOp(Op.OP_WRITE)
                                .setRequests(1)
                                .setBytes(4096)
                                .setLatencyNs(1000)
                                .addAllLatencyHistogram(oneAt(9))
                                .addAllSizeHistogram(oneAt(12))
                                .setRequestedBytes(4096)
                                .build(),
                        OpCounters.newBuilder()
                                .setOp(Op.OP_FLUSH)
                                .setRequests(1)
                                .setLatencyNs(3)
                                .addAllLatencyHistogram(oneAt(1))
                                .addAllSizeHistogram(oneAt(0))
                                .build()),
                OpCountersCodec.toProto(c));
        assertEquals(List.of(), OpCountersCodec.toProto(CounterSet.empty()));
    }

    /** i zeros, then a 1: a histogram with one count in bucket i, trimmed. */
    private static List<Long> oneAt(int i) {
        List<Long> h = new ArrayList<>(Collections.nCopies(i, 0L));
        h.add(1L);
        return h;
    }

    @Test
    void fromProtoRoundTrip() {
        CounterSet c = CounterSet.empty();
        for (int op = 0; op < CounterSet.OPS; op++) {
            c.record(op, 1L << op, 0, 100L * (op + 1));
            c.record(op, 3, 22, 1L << 40);
            c.record(op, 1L << 33, 99, 0);
        }
        assertEquals(c, CounterSet.fromProto(c.toProto()));
        assertEquals(CounterSet.empty(), CounterSet.fromProto(List.of()));
    }

    @Test
    void countsOfANewerPeerFoldIntoTheNearestKnownPlace() {
        List<Long> longHistogram = new ArrayList<>(Collections.nCopies(45, 1L)); // 4 more than this layout
        OpCounters read = OpCounters.newBuilder()
                .setOp(Op.OP_READ)
                .setRequests(45)
                .addAllLatencyHistogram(longHistogram)
                .build();
        OpCounters unknownOp =
                OpCounters.newBuilder().setOpValue(9).setRequests(7).build();
        CounterSet c = CounterSet.fromProto(List.of(read, unknownOp));
        assertEquals(45, c.requests(READ));
        assertEquals(1, c.latencyBucket(READ, LATENCY_BUCKETS - 2));
        assertEquals(5, c.latencyBucket(READ, LATENCY_BUCKETS - 1));
        long requests = 0;
        for (int op = 0; op < CounterSet.OPS; op++) {
            requests += c.requests(op);
        }
        assertEquals(45, requests, "the unknown operation is dropped");
    }

    /** An empty set and {@code n} random ones: any operations, lengths, latencies and errors. */
    private static List<CounterSet> randomSets(long seed, int n) {
        Random random = new Random(seed);
        int[] errors = {0, 0, 0, 5, 22, 4242, 108};
        List<CounterSet> sets = new ArrayList<>(List.of(CounterSet.empty()));
        for (int i = 0; i < n; i++) {
            CounterSet c = CounterSet.empty();
            for (int r = random.nextInt(50); r > 0; r--) {
                c.record(
                        random.nextInt(CounterSet.OPS),
                        random.nextLong(1L << random.nextInt(63)),
                        errors[random.nextInt(errors.length)],
                        random.nextLong(1L << random.nextInt(63)));
            }
            sets.add(c);
        }
        return sets;
    }

    @Test
    void writeToWritesTheBytesProtobufWritesForToProto() throws Exception {
        List<CounterSet> sets = randomSets(7, 200);
        CounterSet huge = CounterSet.empty();
        huge.record(READ, Long.MAX_VALUE, 0, Long.MAX_VALUE);
        huge.record(READ, Long.MAX_VALUE, 0, Long.MAX_VALUE); // wraps: negative, written as 10-byte varints
        sets.add(huge);
        for (CounterSet c : sets) {
            for (int field : new int[] {3, 20}) { // the enclosing message's field: one-byte and two-byte tags
                var expected = new ByteArrayOutputStream();
                var o = CodedOutputStream.newInstance(expected);
                for (OpCounters op : OpCountersCodec.toProto(c)) {
                    o.writeMessage(field, op);
                }
                o.flush();
                byte[] got = new byte[OpCountersCodec.serializedSize(field, c)];
                var out = CodedOutputStream.newInstance(got);
                OpCountersCodec.writeTo(out, field, c);
                out.checkNoSpaceLeft();
                assertEquals(
                        HexFormat.of().formatHex(expected.toByteArray()),
                        HexFormat.of().formatHex(got));
            }
        }
    }

    @Test
    void addEncodedAddsWhatAddProtoAdds() {
        for (CounterSet c : randomSets(11, 200)) {
            CounterSet got = CounterSet.empty();
            for (OpCounters op : OpCountersCodec.toProto(c)) {
                OpCountersCodec.addEncoded(got, op.toByteString(), OpCountersCodec.checkEncoded(op.toByteString()));
            }
            assertEquals(c, got);
        }
    }

    @Test
    void addEncodedReadsUnpackedListsLongHistogramsAndSkipsUnknownFieldsAndOps() throws Exception {
        var bytes = new ByteArrayOutputStream();
        var out = CodedOutputStream.newInstance(bytes);
        out.writeUInt64(OpCounters.REQUESTS_FIELD_NUMBER, 3); // before op
        out.writeEnum(OpCounters.OP_FIELD_NUMBER, Op.OP_WRITE_VALUE);
        out.writeUInt64(99, 7); // a field of a newer peer
        for (int i = 0; i < LATENCY_BUCKETS + 2; i++) {
            out.writeUInt64(OpCounters.LATENCY_HISTOGRAM_FIELD_NUMBER, 1); // unpacked, and 2 past the last bucket
        }
        out.writeUInt64(OpCounters.SIZE_HISTOGRAM_FIELD_NUMBER, 0);
        out.writeUInt64(OpCounters.SIZE_HISTOGRAM_FIELD_NUMBER, 5);
        out.flush();
        var encoded = ByteString.copyFrom(bytes.toByteArray());
        CounterSet expected = CounterSet.fromProto(List.of(OpCounters.parseFrom(encoded)));
        CounterSet got = CounterSet.empty();
        OpCountersCodec.addEncoded(got, encoded, OpCountersCodec.checkEncoded(encoded));
        assertEquals(expected, got);
        assertEquals(3, got.requests(WRITE));
        assertEquals(3, got.latencyBucket(WRITE, LATENCY_BUCKETS - 1));
        assertEquals(5, got.sizeBucket(WRITE, 1));

        var unknownOp =
                OpCounters.newBuilder().setOpValue(42).setRequests(1).build().toByteString();
        assertEquals(41, OpCountersCodec.checkEncoded(unknownOp));
        OpCountersCodec.addEncoded(got, unknownOp, OpCountersCodec.checkEncoded(unknownOp));
        assertEquals(expected, got);

        var truncated = encoded.substring(0, encoded.size() - 1).concat(ByteString.copyFrom(new byte[] {(byte) 0x80}));
        assertThrows(IllegalArgumentException.class, () -> OpCountersCodec.checkEncoded(truncated));
    }
}
