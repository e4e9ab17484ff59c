package dev.dmp.agent.nbd;

import java.util.function.LongSupplier;

/**
 * What the transmission loop tells about each request besides serving it: the seam between the NBD
 * loop and whatever watches a volume's traffic (its counters; more observers can be chained with
 * {@link #both}). One observer per connection ({@link Export#observers}), so a connection never
 * shares a lock with another on the I/O path.
 *
 * <p>The loop calls {@link #received} on its reader thread as it takes a request in, and
 * {@link #answered} once the reply is sent: the one place that knows the reply's NBD error and the
 * time from receipt to reply. Both are called for every command but NBD_CMD_DISC; an observer decides
 * which commands it cares about.
 */
public interface RequestObserver extends AutoCloseable {

    /** A request was taken in (the reader thread only); it is in flight until {@link #answered}. */
    void received(int command);

    /**
     * The request's reply went out: {@code nbdError} 0 on success; {@code holeBytes} of a READ's
     * {@code length} were sent as holes (structured replies), else 0; {@code latencyNanos} from receipt
     * (the read that brought it in) to the reply.
     */
    void answered(int command, long length, long holeBytes, int nbdError, long latencyNanos);

    /**
     * The clock the loop stamps receipts with. An observer that needs no times (only {@link #NONE})
     * gives one that is never read, so the benchmark of counting on versus off sees no clock reads.
     */
    default LongSupplier clock() {
        return System::nanoTime;
    }

    /** The connection ended. */
    @Override
    void close();

    /** Watches nothing: the benchmark's uncounted socket ({@code dmp.agent.benchmark-uncounted-socket}). */
    RequestObserver NONE = new RequestObserver() {
        @Override
        public void received(int command) {}

        @Override
        public void answered(int command, long length, long holeBytes, int nbdError, long latencyNanos) {}

        @Override
        public LongSupplier clock() {
            return () -> 0;
        }

        @Override
        public void close() {}
    };

    /** Tells both, in order. */
    static RequestObserver both(RequestObserver first, RequestObserver second) {
        return new RequestObserver() {
            @Override
            public void received(int command) {
                first.received(command);
                second.received(command);
            }

            @Override
            public void answered(int command, long length, long holeBytes, int nbdError, long latencyNanos) {
                first.answered(command, length, holeBytes, nbdError, latencyNanos);
                second.answered(command, length, holeBytes, nbdError, latencyNanos);
            }

            @Override
            public void close() {
                first.close();
                second.close();
            }
        };
    }
}
