package dev.dmp.proto;

import static com.google.protobuf.WireFormat.WIRETYPE_LENGTH_DELIMITED;
import static com.google.protobuf.WireFormat.WIRETYPE_VARINT;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import dev.dmp.proto.v1.ErrorCount;
import dev.dmp.proto.v1.OpCounters;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link CounterSet} as a repeated {@link OpCounters} field: one element per operation that counted
 * anything, trailing zero histogram buckets left out. Besides the messages ({@link #toProto},
 * {@link #addProto}) it writes and reads the same bytes directly ({@link #writeTo}, {@link #addEncoded})
 * without building the messages and their histogram lists: the controller writes every changed volume's
 * counts to its ledger a few times a second and adds 16,000 encoded OpCounters a second at 1,000 agents
 * x 16 volumes. Field numbers are the generated {@code *_FIELD_NUMBER} constants of stats.proto, so the
 * two encodings cannot drift apart; OpCountersCodecTest checks they write the same bytes.
 */
public final class OpCountersCodec {
    /** A tag is the field number shifted by this many bits, or'ed with the wire type (WireFormat's, not public). */
    private static final int TAG_TYPE_BITS = 3;

    private static final int LATENCY = OpCounters.LATENCY_HISTOGRAM_FIELD_NUMBER;
    private static final int SIZE = OpCounters.SIZE_HISTOGRAM_FIELD_NUMBER;

    // The tags parse() reads; constants, for its switch.
    private static final int OP_TAG = OpCounters.OP_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int REQUESTS_TAG = OpCounters.REQUESTS_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int BYTES_TAG = OpCounters.BYTES_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int ERRORS_TAG = OpCounters.ERRORS_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int ERRORS_BY_CODE_TAG =
            OpCounters.ERRORS_BY_CODE_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_LENGTH_DELIMITED;
    private static final int LATENCY_NS_TAG = OpCounters.LATENCY_NS_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int LATENCY_TAG = LATENCY << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int LATENCY_PACKED_TAG = LATENCY << TAG_TYPE_BITS | WIRETYPE_LENGTH_DELIMITED;
    private static final int SIZE_TAG = SIZE << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int SIZE_PACKED_TAG = SIZE << TAG_TYPE_BITS | WIRETYPE_LENGTH_DELIMITED;
    private static final int REQUESTED_BYTES_TAG =
            OpCounters.REQUESTED_BYTES_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int HOLE_BYTES_TAG = OpCounters.HOLE_BYTES_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int ERROR_TAG = ErrorCount.ERROR_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;
    private static final int COUNT_TAG = ErrorCount.COUNT_FIELD_NUMBER << TAG_TYPE_BITS | WIRETYPE_VARINT;

    private OpCountersCodec() {}

    /** The non-empty operations as protobuf, trailing zero buckets left out. */
    public static List<OpCounters> toProto(CounterSet c) {
        List<OpCounters> out = new ArrayList<>();
        for (int op = 0; op < CounterSet.OPS; op++) {
            if (c.isZero(op)) {
                continue;
            }
            OpCounters.Builder b = OpCounters.newBuilder()
                    .setOpValue(op + 1)
                    .setRequests(c.requests(op))
                    .setBytes(c.bytes(op))
                    .setErrors(c.errors(op))
                    .setLatencyNs(c.latencyNs(op))
                    .setRequestedBytes(c.requestedBytes(op))
                    .setHoleBytes(c.holeBytes(op));
            for (int slot = 0; slot < CounterSet.ERROR_SLOTS; slot++) {
                long n = c.errorCount(op, slot);
                if (n != 0) {
                    b.addErrorsByCode(ErrorCount.newBuilder()
                            .setError(CounterSet.errorCode(slot))
                            .setCount(n));
                }
            }
            for (int i = 0, n = c.latencyBucketsUsed(op); i < n; i++) {
                b.addLatencyHistogram(c.latencyBucket(op, i));
            }
            for (int i = 0, n = c.sizeBucketsUsed(op); i < n; i++) {
                b.addSizeHistogram(c.sizeBucket(op, i));
            }
            out.add(b.build());
        }
        return out;
    }

    /**
     * Adds counters received from elsewhere. Operations this build does not know and histogram
     * elements past this layout's last bucket (a newer peer) fold into the nearest known place.
     */
    public static void addProto(CounterSet into, List<OpCounters> ops) {
        for (OpCounters o : ops) {
            int op = o.getOpValue() - 1;
            if (op < 0 || op >= CounterSet.OPS) {
                continue;
            }
            into.addTotals(
                    op,
                    o.getRequests(),
                    o.getBytes(),
                    o.getErrors(),
                    o.getLatencyNs(),
                    o.getRequestedBytes(),
                    o.getHoleBytes());
            for (ErrorCount e : o.getErrorsByCodeList()) {
                into.addErrors(op, (int) e.getError(), e.getCount());
            }
            for (int i = 0; i < o.getLatencyHistogramCount(); i++) {
                into.addLatencyBucket(op, i, o.getLatencyHistogram(i));
            }
            for (int i = 0; i < o.getSizeHistogramCount(); i++) {
                into.addSizeBucket(op, i, o.getSizeHistogram(i));
            }
        }
    }

    /**
     * The size of {@link #writeTo}'s output: the non-empty operations as the repeated OpCounters field
     * number {@code field}, exactly as a message holding {@link #toProto} in that field would take.
     */
    public static int serializedSize(int field, CounterSet c) {
        int n = 0;
        for (int op = 0; op < CounterSet.OPS; op++) {
            if (!c.isZero(op)) {
                int s = opSize(c, op);
                n += CodedOutputStream.computeTagSize(field) + CodedOutputStream.computeUInt32SizeNoTag(s) + s;
            }
        }
        return n;
    }

    /**
     * Writes the non-empty operations as the repeated OpCounters field number {@code field}: the same
     * bytes protobuf writes for {@link #toProto} in that field (fields in number order, zeros left out).
     */
    public static void writeTo(CodedOutputStream out, int field, CounterSet c) throws IOException {
        for (int op = 0; op < CounterSet.OPS; op++) {
            if (c.isZero(op)) {
                continue;
            }
            out.writeTag(field, WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(opSize(c, op));
            out.writeEnum(OpCounters.OP_FIELD_NUMBER, op + 1);
            writeNonZero(out, OpCounters.REQUESTS_FIELD_NUMBER, c.requests(op));
            writeNonZero(out, OpCounters.BYTES_FIELD_NUMBER, c.bytes(op));
            writeNonZero(out, OpCounters.ERRORS_FIELD_NUMBER, c.errors(op));
            for (int slot = 0; slot < CounterSet.ERROR_SLOTS; slot++) {
                long count = c.errorCount(op, slot);
                if (count != 0) {
                    int code = CounterSet.errorCode(slot);
                    out.writeTag(OpCounters.ERRORS_BY_CODE_FIELD_NUMBER, WIRETYPE_LENGTH_DELIMITED);
                    out.writeUInt32NoTag(errorCountSize(code, count));
                    if (code != 0) {
                        out.writeUInt32(ErrorCount.ERROR_FIELD_NUMBER, code);
                    }
                    out.writeUInt64(ErrorCount.COUNT_FIELD_NUMBER, count);
                }
            }
            writeNonZero(out, OpCounters.LATENCY_NS_FIELD_NUMBER, c.latencyNs(op));
            writePacked(out, c, op, LATENCY);
            writePacked(out, c, op, SIZE);
            writeNonZero(out, OpCounters.REQUESTED_BYTES_FIELD_NUMBER, c.requestedBytes(op));
            writeNonZero(out, OpCounters.HOLE_BYTES_FIELD_NUMBER, c.holeBytes(op));
        }
    }

    /** The size of one operation's OpCounters message (without its tag and length). */
    private static int opSize(CounterSet c, int op) {
        int s = CodedOutputStream.computeEnumSize(OpCounters.OP_FIELD_NUMBER, op + 1)
                + nonZeroSize(OpCounters.REQUESTS_FIELD_NUMBER, c.requests(op))
                + nonZeroSize(OpCounters.BYTES_FIELD_NUMBER, c.bytes(op))
                + nonZeroSize(OpCounters.ERRORS_FIELD_NUMBER, c.errors(op))
                + nonZeroSize(OpCounters.LATENCY_NS_FIELD_NUMBER, c.latencyNs(op))
                + nonZeroSize(OpCounters.REQUESTED_BYTES_FIELD_NUMBER, c.requestedBytes(op))
                + nonZeroSize(OpCounters.HOLE_BYTES_FIELD_NUMBER, c.holeBytes(op));
        for (int slot = 0; slot < CounterSet.ERROR_SLOTS; slot++) {
            long count = c.errorCount(op, slot);
            if (count != 0) {
                int e = errorCountSize(CounterSet.errorCode(slot), count);
                s += CodedOutputStream.computeTagSize(OpCounters.ERRORS_BY_CODE_FIELD_NUMBER)
                        + CodedOutputStream.computeUInt32SizeNoTag(e)
                        + e;
            }
        }
        return s + packedSize(c, op, LATENCY) + packedSize(c, op, SIZE);
    }

    private static int errorCountSize(int code, long count) {
        return (code != 0 ? CodedOutputStream.computeUInt32Size(ErrorCount.ERROR_FIELD_NUMBER, code) : 0)
                + CodedOutputStream.computeUInt64Size(ErrorCount.COUNT_FIELD_NUMBER, count);
    }

    private static int nonZeroSize(int field, long x) {
        return x == 0 ? 0 : CodedOutputStream.computeUInt64Size(field, x);
    }

    private static void writeNonZero(CodedOutputStream out, int field, long x) throws IOException {
        if (x != 0) {
            out.writeUInt64(field, x);
        }
    }

    // Histograms by field number: LATENCY or SIZE.

    private static int bucketsUsed(CounterSet c, int op, int histogram) {
        return histogram == LATENCY ? c.latencyBucketsUsed(op) : c.sizeBucketsUsed(op);
    }

    private static long bucket(CounterSet c, int op, int histogram, int i) {
        return histogram == LATENCY ? c.latencyBucket(op, i) : c.sizeBucket(op, i);
    }

    private static int packedDataSize(CounterSet c, int op, int histogram, int used) {
        int s = 0;
        for (int i = 0; i < used; i++) {
            s += CodedOutputStream.computeUInt64SizeNoTag(bucket(c, op, histogram, i));
        }
        return s;
    }

    private static int packedSize(CounterSet c, int op, int histogram) {
        int used = bucketsUsed(c, op, histogram);
        if (used == 0) {
            return 0;
        }
        int data = packedDataSize(c, op, histogram, used);
        return CodedOutputStream.computeTagSize(histogram) + CodedOutputStream.computeUInt32SizeNoTag(data) + data;
    }

    private static void writePacked(CodedOutputStream out, CounterSet c, int op, int histogram) throws IOException {
        int used = bucketsUsed(c, op, histogram);
        if (used == 0) {
            return;
        }
        out.writeTag(histogram, WIRETYPE_LENGTH_DELIMITED);
        out.writeUInt32NoTag(packedDataSize(c, op, histogram, used));
        for (int i = 0; i < used; i++) {
            out.writeUInt64NoTag(bucket(c, op, histogram, i));
        }
    }

    /**
     * Checks that {@code opCounters} is an encoded OpCounters message and returns the index of its
     * operation ({@link CounterSet#READ}...), or -1 for an operation this build does not know (which
     * {@link #addEncoded} skips, as {@link #addProto} does).
     *
     * @throws IllegalArgumentException if it does not parse, or holds a count past 2^63 - 1
     */
    public static int checkEncoded(ByteString opCounters) {
        return parse(opCounters, null, -1);
    }

    /**
     * Adds an encoded OpCounters message of operation {@code op} (from {@link #checkEncoded}, which
     * must have accepted it) exactly as {@link #addProto} adds the parsed message, without building it.
     */
    public static void addEncoded(CounterSet into, ByteString opCounters, int op) {
        if (op >= 0 && op < CounterSet.OPS) {
            parse(opCounters, into, op);
        }
    }

    /**
     * Reads an OpCounters message, repeated and packed lists alike; adds it to {@code into} as operation
     * {@code intoOp} unless {@code into} is null; returns its op - 1.
     */
    private static int parse(ByteString bytes, CounterSet into, int intoOp) {
        CodedInputStream in = bytes.newCodedInput();
        long op = 0, requests = 0, length = 0, errors = 0, latencyNs = 0, requested = 0, holes = 0;
        int latencyAt = 0, sizeAt = 0;
        try {
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                switch (tag) {
                    case OP_TAG -> op = in.readEnum();
                    case REQUESTS_TAG -> requests = count(in.readUInt64());
                    case BYTES_TAG -> length = count(in.readUInt64());
                    case ERRORS_TAG -> errors = count(in.readUInt64());
                    case LATENCY_NS_TAG -> latencyNs = count(in.readUInt64());
                    case REQUESTED_BYTES_TAG -> requested = count(in.readUInt64());
                    case HOLE_BYTES_TAG -> holes = count(in.readUInt64());
                    case ERRORS_BY_CODE_TAG -> addErrorCount(in, into, intoOp);
                    case LATENCY_TAG -> latencyAt = addBucket(into, intoOp, LATENCY, latencyAt, count(in.readUInt64()));
                    case SIZE_TAG -> sizeAt = addBucket(into, intoOp, SIZE, sizeAt, count(in.readUInt64()));
                    case LATENCY_PACKED_TAG -> latencyAt = addPacked(in, into, intoOp, LATENCY, latencyAt);
                    case SIZE_PACKED_TAG -> sizeAt = addPacked(in, into, intoOp, SIZE, sizeAt);
                    default -> {
                        if (!in.skipField(tag)) {
                            throw new IllegalArgumentException("OpCounters: unexpected end-group tag");
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("OpCounters does not parse: " + e.getMessage(), e);
        }
        if (into != null) {
            into.addTotals(intoOp, requests, length, errors, latencyNs, requested, holes);
        }
        return (int) op - 1;
    }

    /**
     * A count as read (uint64 on the wire), refused past 2^63 - 1: added to the signed counters of a
     * ledger it would count backwards.
     */
    private static long count(long uint64) {
        if (uint64 < 0) {
            throw new IllegalArgumentException(
                    "OpCounters: a count of " + Long.toUnsignedString(uint64) + " is past 2^63 - 1");
        }
        return uint64;
    }

    /** Reads one ErrorCount message and adds it to {@code into} unless that is null. */
    private static void addErrorCount(CodedInputStream in, CounterSet into, int op) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        int code = 0;
        long count = 0;
        for (int t = in.readTag(); t != 0; t = in.readTag()) {
            switch (t) {
                case ERROR_TAG -> code = in.readUInt32();
                case COUNT_TAG -> count = count(in.readUInt64());
                default -> in.skipField(t);
            }
        }
        in.popLimit(limit);
        if (into != null) {
            into.addErrors(op, code, count);
        }
    }

    /** Reads a packed histogram from element {@code at} on; returns the index of the element after it. */
    private static int addPacked(CodedInputStream in, CounterSet into, int op, int histogram, int at)
            throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        while (in.getBytesUntilLimit() > 0) {
            at = addBucket(into, op, histogram, at, count(in.readUInt64()));
        }
        in.popLimit(limit);
        return at;
    }

    /** Adds element {@code at} of a histogram (past the last bucket: to the last); returns the next element's index. */
    private static int addBucket(CounterSet into, int op, int histogram, int at, long count) {
        if (into != null) {
            if (histogram == LATENCY) {
                into.addLatencyBucket(op, at, count);
            } else {
                into.addSizeBucket(op, at, count);
            }
        }
        return at + 1;
    }
}
