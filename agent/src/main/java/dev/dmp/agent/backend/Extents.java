package dev.dmp.agent.backend;

import java.util.Arrays;

/**
 * A backend's answer to "what is in this range": consecutive extents from the range's start, each a
 * length and its {@code base:allocation} flags ({@code NBD_STATE_HOLE}, {@code NBD_STATE_ZERO}; 0 for
 * data), adjacent extents with the same flags merged. Bounded by the range (an extent past its end is
 * cut at the end) and by a count, so a client's query cannot make the agent hold more than
 * {@code max} extents; the last one still grows while like extents follow, so that one extent (REQ_ONE)
 * of a memory volume's data is the whole run of pages, not its first page. A backend adds extents
 * while {@link #wantsMore}.
 */
public final class Extents {
    private final long offset;
    private final long length;
    private final int max;
    private long[] lengths = new long[8];
    private int[] flags = new int[8];
    private int count;
    private long covered;
    /** An extent unlike the last came when {@code max} were held: the answer ends here. */
    private boolean full;

    /** The extents of [offset, offset + length), at most {@code max} of them. */
    public Extents(long offset, long length, int max) {
        if (length <= 0 || max <= 0) {
            throw new IllegalArgumentException("extents of " + length + " bytes, at most " + max);
        }
        this.offset = offset;
        this.length = length;
        this.max = max;
    }

    /**
     * Adds the next extent (cut at the range's end); returns whether more are wanted. An extent with
     * the flags of the one before it lengthens that one.
     */
    public boolean add(long extentLength, int extentFlags) {
        if (extentLength <= 0 || !wantsMore()) {
            return wantsMore();
        }
        long n = Math.min(extentLength, length - covered);
        if (count > 0 && flags[count - 1] == extentFlags) {
            lengths[count - 1] += n;
        } else if (count == max) {
            full = true;
            return false;
        } else {
            if (count == lengths.length) {
                lengths = Arrays.copyOf(lengths, count * 2);
                flags = Arrays.copyOf(flags, count * 2);
            }
            lengths[count] = n;
            flags[count] = extentFlags;
            count++;
        }
        covered += n;
        return wantsMore();
    }

    /** True until the range is covered, or {@code max} extents are held and an unlike one came. */
    public boolean wantsMore() {
        return covered < length && !full;
    }

    /** Where the next extent starts. */
    public long next() {
        return offset + covered;
    }

    /** Bytes of the range not covered yet. */
    public long remaining() {
        return length - covered;
    }

    public long offset() {
        return offset;
    }

    public int count() {
        return count;
    }

    public long length(int i) {
        return lengths[i];
    }

    public int flags(int i) {
        return flags[i];
    }

    /** Bytes covered by the extents added. */
    public long covered() {
        return covered;
    }
}
