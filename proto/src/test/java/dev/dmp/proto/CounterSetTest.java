package dev.dmp.proto;

import static dev.dmp.proto.CounterSet.LATENCY_BUCKETS;
import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.SIZE_BUCKETS;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.v1.ErrorCount;
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
        assertEquals(
                List.of(error(5, 1), error(22, 1), error(28, 2), error(0, 2)),
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
}
