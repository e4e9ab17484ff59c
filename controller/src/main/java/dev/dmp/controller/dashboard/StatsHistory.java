package dev.dmp.controller.dashboard;

import dev.dmp.controller.ops.FleetOperations;
import dev.dmp.proto.CounterSet;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Samples the fleet's stats once a second through {@link FleetOperations} and keeps the last
 * {@link #SECONDS} seconds of them, so the dashboard can show rates and charts without asking the
 * agents anything.
 */
@ApplicationScoped
public class StatsHistory {
    /** How far back the charts reach: five minutes of one-second samples. */
    public static final int SECONDS = 300;
    /** Rates shown as numbers are averaged over this many seconds, so they do not flicker. */
    public static final int RATE_SECONDS = 5;

    private static final Logger LOG = Logger.getLogger(StatsHistory.class);

    private final FleetOperations ops;
    private final StatsRing ring = new StatsRing(SECONDS + 1);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("stats-history").daemon().factory());
    private volatile FleetSnapshot latest;
    private VolumeIndex previous;

    public StatsHistory(FleetOperations ops) {
        this.ops = ops;
    }

    void start(@Observes StartupEvent event) {
        sample();
        timer.scheduleAtFixedRate(this::sample, 1, 1, TimeUnit.SECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        timer.shutdownNow();
    }

    public StatsRing ring() {
        return ring;
    }

    /** The newest snapshot; taken now if requests come before the first tick. */
    public FleetSnapshot latest() {
        FleetSnapshot s = latest;
        if (s == null) {
            sample();
            s = latest;
        }
        return s;
    }

    /**
     * Takes each volume's old-view counts straight from the ledger (four numbers a volume, no copies of
     * its counters, no rows): the rows the dashboard shows are asked for when it asks, not every second.
     */
    private synchronized void sample() {
        try {
            long now = System.currentTimeMillis();
            int expected = Math.max(16, previous == null ? 0 : previous.size());
            List<VolumeKey> keys = new ArrayList<>(expected);
            long[][] counts = {new long[expected * StatsSample.FIELDS]};
            ops.fleet().ledger().forEachVolume((host, volume, generation, lifetime, atReset, inFlight) -> {
                int at = keys.size() * StatsSample.FIELDS;
                if (at + StatsSample.FIELDS > counts[0].length) {
                    counts[0] = Arrays.copyOf(counts[0], counts[0].length * 2);
                }
                // since the last reset
                counts[0][at] = lifetime.requests(CounterSet.READ) - atReset.requests(CounterSet.READ);
                counts[0][at + 1] = lifetime.bytes(CounterSet.READ) - atReset.bytes(CounterSet.READ);
                counts[0][at + 2] = lifetime.requests(CounterSet.WRITE) - atReset.requests(CounterSet.WRITE);
                counts[0][at + 3] = lifetime.bytes(CounterSet.WRITE) - atReset.bytes(CounterSet.WRITE);
                keys.add(new VolumeKey(host, volume.getName()));
            });
            previous = VolumeIndex.of(keys, previous);
            StatsSample sample =
                    new StatsSample(now, previous, Arrays.copyOf(counts[0], keys.size() * StatsSample.FIELDS));
            ring.add(sample);
            latest = new FleetSnapshot(sample, ring.recent(RATE_SECONDS));
        } catch (RuntimeException e) {
            // Keep sampling: a failed second is a gap in the charts, not the end of them.
            LOG.warnf("stats sample failed: %s", e);
        }
    }
}
