package dev.dmp.proto;

import static dev.dmp.proto.CounterSet.FLUSH;
import static dev.dmp.proto.CounterSet.LATENCY_BUCKETS;
import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.SIZE_BUCKETS;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.v1.ErrorCount;
import dev.dmp.proto.v1.Op;
import dev.dmp.proto.v1.OpCounters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class CounterSetTest {

    @Test
    void successCountsRequestsAndBytes() {
        CounterSet c = CounterSet.empty();
        c.record(WRITE, 4096, 0, 1000);
        c.record(WRITE, 4096, 0, 3000);
        assertEquals(2, c.requests(WRITE));
        assertEquals(8192, c.bytes(WRITE));
        assertEquals(0, c.errors(WRITE));
        assertEquals(4000, c.latencyNs(WRITE));
        assertEquals(8192, c.requestedBytes(WRITE));
        assertEquals(0, c.requests(READ));
    }

    @Test
    void anErrorCountsNoRequestNorBytesButLatencyAndSize() {
        CounterSet c = CounterSet.empty();
        c.record(READ, 8192, 22, 700);
        assertEquals(0, c.requests(READ));
        assertEquals(0, c.bytes(READ));
        assertEquals(1, c.errors(READ));
        assertEquals(700, c.latencyNs(READ));
        assertEquals(1, c.latencyBucket(READ, 9)); // 512 <= 700 < 1024
        assertEquals(1, c.sizeBucket(READ, 13)); // 8192 = 2^13
        assertEquals(8192, c.requestedBytes(READ), "the length asked for counts, failed or not");
    }

    @Test
    void errorsAreCountedPerNbdErrorAndUnknownOnesUnderZero() {
        CounterSet c = CounterSet.empty();
        c.record(WRITE, 512, 22, 1); // NBD_EINVAL
        c.record(WRITE, 512, 28, 1); // NBD_ENOSPC
        c.record(WRITE, 512, 28, 1);
        c.record(WRITE, 512, 5, 1); // NBD_EIO
        c.record(WRITE, 512, 99, 1); // not an NBD error this build knows
        c.record(WRITE, 512, 4242, 1);
        assertEquals(6, c.errors(WRITE));
        assertEquals(List.of(error(5, 1), error(22, 1), error(28, 2), error(0, 2)),
                c.toProto().get(0).getErrorsByCodeList());
    }

    private static ErrorCount error(int code, long count) {
        return ErrorCount.newBuilder().setError(code).setCount(count).build();
    }

    @Test
    void log2BucketsAtExactBoundaries() {
        long[] values = {0, 1, 2, 3, 4, 1023, 1024};
        int[] buckets = {0, 0, 1, 1, 2, 9, 10};
        for (int i = 0; i < values.length; i++) {
            CounterSet c = CounterSet.empty();
            c.record(READ, values[i], 0, values[i]);
            assertEquals(1, c.sizeBucket(READ, buckets[i]), "size " + values[i]);
            assertEquals(1, c.latencyBucket(READ, buckets[i]), "latency " + values[i]);
            assertEquals(buckets[i], CounterSet.log2Bucket(values[i], SIZE_BUCKETS), "log2 of " + values[i]);
        }
    }

    @Test
    void hugeValuesGoToTheLastBucket() {
        CounterSet c = CounterSet.empty();
        c.record(READ, 1L << 32, 0, 1L << 40); // exactly the first value of each last bucket
        c.record(READ, 1L << 33, 0, Long.MAX_VALUE);
        c.record(READ, (1L << 32) - 1, 0, (1L << 40) - 1); // just below: the bucket before
        assertEquals(2, c.sizeBucket(READ, SIZE_BUCKETS - 1));
        assertEquals(1, c.sizeBucket(READ, SIZE_BUCKETS - 2));
        assertEquals(2, c.latencyBucket(READ, LATENCY_BUCKETS - 1));
        assertEquals(1, c.latencyBucket(READ, LATENCY_BUCKETS - 2));
        assertEquals(32, SIZE_BUCKETS - 1);
        assertEquals(40, LATENCY_BUCKETS - 1);
    }

    @Test
    void addMinusAndIsZero() {
        CounterSet a = CounterSet.empty();
        assertTrue(a.isZero());
        a.record(READ, 512, 0, 10);
        a.record(WRITE, 4096, 0, 20);
        a.record(WRITE, 4096, 5, 30);
        CounterSet b = CounterSet.empty();
        b.record(READ, 512, 0, 10);
        assertFalse(a.isZero());

        CounterSet d = a.minus(b);
        assertEquals(0, d.requests(READ));
        assertEquals(0, d.latencyBucket(READ, 3));
        assertEquals(1, d.requests(WRITE));
        assertEquals(4096, d.bytes(WRITE));
        assertEquals(1, d.errors(WRITE));
        assertEquals(50, d.latencyNs(WRITE));
        assertEquals(1, a.requests(READ), "minus leaves its operands alone");

        d.add(b);
        assertEquals(a, d);
        assertEquals(a.hashCode(), d.hashCode());
        assertTrue(a.minus(a).isZero());
        CounterSet copy = a.copy();
        copy.add(b);
        assertNotEquals(a, copy);
        assertEquals(1, a.requests(READ), "a copy is independent");
    }

    @Test
    void toProtoSkipsEmptyOpsAndTrimsTrailingZeroBuckets() {
        CounterSet c = CounterSet.empty();
        c.record(WRITE, 4096, 0, 1000); // size bucket 12, latency bucket 9
        c.record(FLUSH, 0, 0, 3); // size bucket 0, latency bucket 1
        assertEquals(List.of(
                OpCounters.newBuilder().setOp(Op.OP_WRITE).setRequests(1).setBytes(4096).setLatencyNs(1000)
                        .addAllLatencyHistogram(oneAt(9)).addAllSizeHistogram(oneAt(12)).setRequestedBytes(4096).build(),
                OpCounters.newBuilder().setOp(Op.OP_FLUSH).setRequests(1).setLatencyNs(3)
                        .addAllLatencyHistogram(oneAt(1)).addAllSizeHistogram(oneAt(0)).build()),
                c.toProto());
        assertEquals(List.of(), CounterSet.empty().toProto());
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
        OpCounters read = OpCounters.newBuilder().setOp(Op.OP_READ).setRequests(45).addAllLatencyHistogram(longHistogram)
                .build();
        OpCounters unknownOp = OpCounters.newBuilder().setOpValue(9).setRequests(7).build();
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

    @Test
    void latencyQuantileIsTheUpperBoundOfItsBucket() {
        CounterSet c = CounterSet.empty();
        assertEquals(0, c.latencyQuantileNs(READ, 0.5));
        c.record(READ, 4096, 0, 100); // bucket 6: [64, 128)
        c.record(READ, 4096, 0, 100);
        c.record(READ, 4096, 0, 127);
        c.record(READ, 4096, 5, 5000); // bucket 12: [4096, 8192); errors count too
        assertEquals(128, c.latencyQuantileNs(READ, 0));
        assertEquals(128, c.latencyQuantileNs(READ, 0.5));
        assertEquals(128, c.latencyQuantileNs(READ, 0.75));
        assertEquals(8192, c.latencyQuantileNs(READ, 0.76));
        assertEquals(8192, c.latencyQuantileNs(READ, 1.0));
        assertEquals(0, c.latencyQuantileNs(WRITE, 0.99));
    }

    /** An empty set and {@code n} random ones: any operations, lengths, latencies and errors. */
    private static List<CounterSet> randomSets(long seed, int n) {
        java.util.Random random = new java.util.Random(seed);
        int[] errors = {0, 0, 0, 5, 22, 4242, 108};
        List<CounterSet> sets = new ArrayList<>(List.of(CounterSet.empty()));
        for (int i = 0; i < n; i++) {
            CounterSet c = CounterSet.empty();
            for (int r = random.nextInt(50); r > 0; r--) {
                c.record(random.nextInt(CounterSet.OPS), random.nextLong(1L << random.nextInt(63)),
                        errors[random.nextInt(errors.length)], random.nextLong(1L << random.nextInt(63)));
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
            for (int field : new int[] {3, 20}) {
                var expected = new java.io.ByteArrayOutputStream();
                var o = com.google.protobuf.CodedOutputStream.newInstance(expected);
                for (OpCounters op : c.toProto()) {
                    o.writeMessage(field, op);
                }
                o.flush();
                byte[] got = new byte[c.serializedSize(field)];
                var out = com.google.protobuf.CodedOutputStream.newInstance(got);
                c.writeTo(out, field);
                out.checkNoSpaceLeft();
                assertEquals(java.util.HexFormat.of().formatHex(expected.toByteArray()), java.util.HexFormat.of().formatHex(got));
            }
        }
    }

    @Test
    void addEncodedAddsWhatAddProtoAdds() throws Exception {
        for (CounterSet c : randomSets(11, 200)) {
            CounterSet got = CounterSet.empty();
            for (OpCounters op : c.toProto()) {
                got.addEncoded(op.toByteString(), CounterSet.checkEncoded(op.toByteString()));
            }
            assertEquals(c, got);
        }
    }

    @Test
    void addEncodedReadsUnpackedListsLongHistogramsAndSkipsUnknownFieldsAndOps() throws Exception {
        var bytes = new java.io.ByteArrayOutputStream();
        var out = com.google.protobuf.CodedOutputStream.newInstance(bytes);
        out.writeUInt64(2, 3); // requests before op
        out.writeEnum(1, Op.OP_WRITE_VALUE);
        out.writeUInt64(99, 7); // a field of a newer peer
        for (int i = 0; i < LATENCY_BUCKETS + 2; i++) {
            out.writeUInt64(7, 1); // unpacked, and 2 past the last bucket
        }
        out.writeUInt64(8, 0);
        out.writeUInt64(8, 5);
        out.flush();
        var encoded = com.google.protobuf.ByteString.copyFrom(bytes.toByteArray());
        CounterSet expected = CounterSet.fromProto(List.of(OpCounters.parseFrom(encoded)));
        CounterSet got = CounterSet.empty();
        got.addEncoded(encoded, CounterSet.checkEncoded(encoded));
        assertEquals(expected, got);
        assertEquals(3, got.requests(WRITE));
        assertEquals(3, got.latencyBucket(WRITE, LATENCY_BUCKETS - 1));
        assertEquals(5, got.sizeBucket(WRITE, 1));

        var unknownOp = OpCounters.newBuilder().setOpValue(42).setRequests(1).build().toByteString();
        assertEquals(41, CounterSet.checkEncoded(unknownOp));
        got.addEncoded(unknownOp, CounterSet.checkEncoded(unknownOp));
        assertEquals(expected, got);

        var truncated = encoded.substring(0, encoded.size() - 1).concat(com.google.protobuf.ByteString.copyFrom(new byte[] {(byte) 0x80}));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> CounterSet.checkEncoded(truncated));
    }
}
