package dev.dmp.bench.fleet;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * What one run measured, logged for people and written as tab-separated rows for bench/fleet/run.sh's
 * tables: one row for the run, one per replica. A figure without samples is "-".
 *
 * @param load the load average's first figure at the start and at the end of the window, "a/b"
 * @param postgresCpu PostgreSQL's CPU in % of one core; NaN without PostgreSQL
 * @param reset ResetStats HOST under load: ok, FAILED, or - (one agent)
 * @param exact yes, own (each replica counts only the hosts it holds: their sum is exact) or NO
 * @param perReplica each replica's FLEET row: yes (the fleet's) or part
 */
record Report(
        List<Replica> replicas,
        int agents,
        int volumes,
        double seconds,
        double deltasPerSecond,
        double generatorCpu,
        double postgresCpu,
        String load,
        Samples ack,
        Samples watch,
        String watched,
        int probes,
        String reset,
        String exact,
        int broken,
        String[] perReplica) {

    void log() {
        FleetBench.log("steady window %.1f s, load average %s", seconds, load);
        FleetBench.log("deltas/s %.0f; ack latency p50 %s ms p99 %s ms", deltasPerSecond, ms(ack, 0.5), ms(ack, 0.99));
        FleetBench.log(
                "controller CPU %.1f %% of one core (all replicas); generator CPU %.1f %%; PostgreSQL CPU %s %%",
                controllerCpu(), generatorCpu, fmt(postgresCpu, 1));
        for (Replica r : replicas) {
            FleetBench.log(
                    "%s (%s, pid %d, %d hosts): CPU %.1f %%, heap %.0f MiB (%.0f after GC); QueryStats FLEET p50 %s ms"
                            + " p99 %s ms (%d calls); HOST p50 %s ms p99 %s ms (%d calls); %d queries failed",
                    r.id,
                    r.target,
                    r.pid,
                    r.hosts,
                    r.cpuPercent,
                    r.heapMiB,
                    r.heapAfterGcMiB,
                    ms(r.fleetLatency, 0.5),
                    ms(r.fleetLatency, 0.99),
                    r.fleetLatency.count(),
                    ms(r.hostLatency, 0.5),
                    ms(r.hostLatency, 0.99),
                    r.hostLatency.count(),
                    r.queryFailures.get());
        }
        FleetBench.log(
                "WatchStats FLEET on %s: delay p50 %s ms max %s ms (%d probes of %d)",
                watched, ms(watch, 0.5), ms(watch, 1.0), watch.count(), probes);
        FleetBench.log("exact: %s (broken streams %d); reset: %s", exact, broken, reset);
    }

    /**
     * agents, volumes, deltas/s, controller CPU (all replicas), generator CPU, PostgreSQL CPU, heap and
     * heap after GC (the largest replica's), fleet p50 and p99 and which replica (the slowest one's),
     * host p99 (the slowest replica's), watch p50 and max, ack p50 and p99, failed queries, reset, exact,
     * load.
     */
    String row() {
        Replica worst = replicas.stream()
                .max(Comparator.comparingDouble(r -> orLowest(r.fleetLatency.quantileMs(0.99))))
                .orElseThrow();
        return String.join(
                        "\t",
                        Integer.toString(agents),
                        Integer.toString(volumes),
                        fmt(deltasPerSecond, 0),
                        fmt(controllerCpu(), 0),
                        fmt(generatorCpu, 0),
                        fmt(postgresCpu, 0),
                        fmt(replicas.stream().mapToDouble(r -> r.heapMiB).max().orElseThrow(), 0),
                        fmt(
                                replicas.stream()
                                        .mapToDouble(r -> r.heapAfterGcMiB)
                                        .max()
                                        .orElseThrow(),
                                0),
                        fmt(slowest(r -> r.fleetLatency.quantileMs(0.5)), 1),
                        ms(worst.fleetLatency, 0.99),
                        worst.id,
                        fmt(slowest(r -> r.hostLatency.quantileMs(0.99)), 1),
                        fmt(watch.quantileMs(0.5), 0),
                        fmt(watch.quantileMs(1.0), 0),
                        ms(ack, 0.5),
                        ms(ack, 0.99),
                        Integer.toString(replicas.stream()
                                .mapToInt(r -> r.queryFailures.get())
                                .sum()),
                        reset,
                        exact,
                        load)
                + "\n";
    }

    /**
     * agents, replica, hosts it holds, CPU, heap, heap after GC, fleet p50, p99 and calls, host p99,
     * failed queries, exact (its FLEET row).
     */
    String replicaRows() {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < replicas.size(); i++) {
            Replica r = replicas.get(i);
            rows.append(String.join(
                            "\t",
                            Integer.toString(agents),
                            r.id,
                            Integer.toString(r.hosts),
                            fmt(r.cpuPercent, 0),
                            fmt(r.heapMiB, 0),
                            fmt(r.heapAfterGcMiB, 0),
                            ms(r.fleetLatency, 0.5),
                            ms(r.fleetLatency, 0.99),
                            Integer.toString(r.fleetLatency.count()),
                            ms(r.hostLatency, 0.99),
                            Integer.toString(r.queryFailures.get()),
                            perReplica[i]))
                    .append('\n');
        }
        return rows.toString();
    }

    private double controllerCpu() {
        return replicas.stream().mapToDouble(r -> r.cpuPercent).sum();
    }

    /** The largest figure of the replicas that have one; NaN when none has. */
    private double slowest(ToDoubleFunction<Replica> figure) {
        return replicas.stream()
                .mapToDouble(figure)
                .filter(v -> !Double.isNaN(v))
                .max()
                .orElse(Double.NaN);
    }

    private static double orLowest(double v) {
        return Double.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
    }

    private static String ms(Samples s, double q) {
        return fmt(s.quantileMs(q), 1);
    }

    static String fmt(double v, int decimals) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
