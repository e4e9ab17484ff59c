package dev.dmp.agent.stats;

import dev.dmp.agent.nbd.RequestObserver;
import dev.dmp.proto.CounterSet;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The counters of one volume. Each connection counts into its own {@link Shard}, so connections
 * never share a lock or a cache line on the I/O path; reading the volume's totals adds the shards up.
 * A request's answer is recorded in one step under its shard's lock, so any total contains it whole or not at
 * all: a reset splits the requests exactly.
 *
 * <p>Counters only go up. A reset does not clear them but moves the baseline the old view is measured
 * from and starts a new generation, so that the controller, Prometheus and any other reader of the
 * running totals can tell a reset from lost data. Baseline and generation change only through
 * {@link StatsJournal}.
 */
public final class VolumeStats {
    private static final VarHandle RECEIVED;

    static {
        try {
            RECEIVED = MethodHandles.lookup().findVarHandle(Shard.class, "received", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One connection's counters. Recording locks only this shard. */
    public final class Shard implements AutoCloseable {
        private final CounterSet counts = CounterSet.empty();
        /**
         * Requests received. Only the connection's reader writes it, so it needs no lock: a release
         * store (no fence on x86) publishes it, and the request's hand-over to the thread that answers
         * it orders it before the matching {@link #answered}.
         */
        private long received;
        /** Requests answered. Guarded by this. */
        private long answered;

        private boolean closed;

        /** A request was received; it counts as in flight until {@link #completed}. Reader thread only. */
        public void started() {
            RECEIVED.setRelease(this, received + 1);
        }

        /** A request was answered: {@code nbdError} 0 on success; latency from receipt to reply. */
        public synchronized void completed(int op, long length, int nbdError, long latencyNs) {
            completed(op, length, 0, nbdError, latencyNs);
        }

        /** The same, {@code holeBytes} of a READ's length sent as holes. */
        public synchronized void completed(int op, long length, long holeBytes, int nbdError, long latencyNs) {
            answered++;
            if (op == CounterSet.READ) {
                counts.recordRead(length, holeBytes, nbdError, latencyNs);
            } else {
                counts.record(op, length, nbdError, latencyNs);
            }
        }

        synchronized void addTo(CounterSet sum) {
            sum.add(counts);
        }

        synchronized long inFlight() {
            return (long) RECEIVED.getAcquire(this) - answered;
        }

        /** The connection ended: its counts move into the volume's retired total. */
        @Override
        public void close() {
            synchronized (VolumeStats.this) {
                synchronized (this) {
                    if (!closed) {
                        closed = true;
                        retired.add(counts);
                        live.remove(this);
                    }
                }
            }
        }
    }

    private final Set<Shard> live = ConcurrentHashMap.newKeySet();
    /** Counts of closed connections, and of earlier runs restored from a checkpoint. Guarded by this. */
    private final CounterSet retired = CounterSet.empty();

    private volatile CounterSet baseline = CounterSet.empty();
    private volatile long generation;

    public Shard openShard() {
        Shard shard = new Shard();
        live.add(shard);
        return shard;
    }

    /** A new connection's observer: it counts into a shard of its own ({@link CountingObserver}). */
    public RequestObserver observer() {
        return new CountingObserver(openShard());
    }

    /** Everything counted since the volume was created. */
    public synchronized CounterSet cumulative() {
        CounterSet sum = retired.copy();
        for (Shard s : live) {
            s.addTo(sum);
        }
        return sum;
    }

    /** What the old view shows: everything counted since the last reset. */
    public CounterSet sinceReset() {
        CounterSet base = baseline;
        return cumulative().minus(base);
    }

    public long inFlight() {
        long n = 0;
        for (Shard s : live) {
            n += s.inFlight();
        }
        return n;
    }

    public long generation() {
        return generation;
    }

    public CounterSet baseline() {
        return baseline.copy();
    }

    /** Starts a new generation whose counts begin at {@code newBaseline}; returns the new generation. */
    synchronized long reset(CounterSet newBaseline) {
        baseline = newBaseline.copy();
        return ++generation;
    }

    /** Takes up the counts of a previous run of the agent (from its checkpoint), before any I/O. */
    synchronized void restore(CounterSet cumulative, CounterSet baseline, long generation) {
        retired.add(cumulative);
        this.baseline = baseline.copy();
        this.generation = generation;
    }
}
