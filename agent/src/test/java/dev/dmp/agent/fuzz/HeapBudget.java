package dev.dmp.agent.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;

/**
 * What a parser may allocate on the heap while it reads one input: a fixed allowance plus a multiple of
 * the input's actual size. A parser that allocates by a length field it read (a buffer of 2 GiB for a
 * frame of 20 bytes) goes past it; one that allocates only for the bytes it was given does not. Counted
 * with the JVM's per-thread allocation counter, so only the calling thread's allocations count.
 *
 * <p>The parser runs twice on the input and only the second run is counted: the first time a path is
 * taken its classes load and initialise, which allocates far more than the parse itself.
 */
public final class HeapBudget {
    /** Room for the parser's own buffers (an option of up to 64 KiB, a 16 KiB netlink buffer) and Jazzer's hooks. */
    private static final long FIXED = 1 << 20;
    /** Copies of the input as buffers, strings and messages, with room to spare. */
    private static final long PER_INPUT_BYTE = 64;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private HeapBudget() {}

    private static long allocated(boolean allThreads) {
        return allThreads ? THREADS.getTotalThreadAllocatedBytes() : THREADS.getCurrentThreadAllocatedBytes();
    }

    /** A parse of one input, run afresh each time (its channel, its state). */
    public interface Parse<T> {
        T run() throws Exception;
    }

    /** The budget for an input of {@code inputLength} bytes. */
    public static long forInput(int inputLength) {
        return FIXED + PER_INPUT_BYTE * inputLength;
    }

    /** {@link #within(long, String, Parse)} the budget {@link #forInput} an input of {@code inputLength} bytes. */
    public static <T> T within(int inputLength, String what, Parse<T> parse) throws Exception {
        return within(forInput(inputLength), what, parse);
    }

    /**
     * Runs {@code parse} twice and returns the second run's result; fails when that run allocated more
     * than {@code budget} bytes. A parse that throws throws here, from the second run.
     */
    public static <T> T within(long budget, String what, Parse<T> parse) throws Exception {
        return within(budget, what, false, parse);
    }

    /**
     * As {@link #within(long, String, Parse)}, counting what every thread allocates: for a parser that
     * reads on a thread of its own (a client's reply reader). Less exact, as whatever else runs
     * meanwhile counts too.
     */
    public static <T> T withinAllThreads(long budget, String what, Parse<T> parse) throws Exception {
        return within(budget, what, true, parse);
    }

    private static <T> T within(long budget, String what, boolean allThreads, Parse<T> parse) throws Exception {
        try {
            parse.run();
        } catch (Exception e) {
            // The first run only loads classes; the second, counted, throws it again.
        }
        long start = allocated(allThreads);
        try {
            return parse.run();
        } finally {
            long allocated = allocated(allThreads) - start;
            assertTrue(allocated <= budget, what + " allocated " + allocated + " bytes (budget " + budget + ")");
        }
    }
}
