package dev.dmp.controller.dashboard;

import dev.dmp.controller.ops.FleetOperations;
import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.Scope;
import dev.dmp.proto.v1.StatsRow;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

    private synchronized void sample() {
        try {
            long now = System.currentTimeMillis();
            List<StatsRow> volumes = query(Scope.VOLUME);
            List<StatsRow> hosts = query(Scope.HOST);
            StatsRow fleet = query(Scope.FLEET).get(0);
            Map<VolumeKey, Counts> counts = new HashMap<>();
            for (StatsRow r : volumes) {
                counts.put(new VolumeKey(r.getHost(), r.getVolume()), counts(r));
            }
            StatsSample sample = new StatsSample(now, counts);
            ring.add(sample);
            latest = new FleetSnapshot(sample, volumes, hosts, fleet, ring.recent(RATE_SECONDS));
        } catch (Exception e) {
            // Keep sampling: a failed second is a gap in the charts, not the end of them.
            LOG.warnf("stats sample failed: %s", e);
        }
    }

    private List<StatsRow> query(Scope scope) throws io.grpc.StatusException {
        return ops.queryStats(QueryStatsRequest.newBuilder().setScope(scope).build()).getRowsList();
    }

    private static Counts counts(StatsRow r) {
        OpStats read = r.getRead();
        OpStats write = r.getWrite();
        return new Counts(read.getRequests(), read.getBytes(), write.getRequests(), write.getBytes());
    }
}
