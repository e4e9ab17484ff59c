package dev.dmp.bench.fleet;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.ControllerGrpc;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import dev.dmp.proto.v1.Scope;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The controller at fleet scale: N simulated agents with M volumes each, one delta per second each,
 * against one controller over real gRPC; measures the controller's CPU and heap, QueryStats and
 * WatchStats latency over a steady window, then checks that the fleet totals equal what was sent.
 *
 * <p>Usage: {@code java -jar dmp-bench-fleet.jar --target 127.0.0.1:PORT --pid CONTROLLER_PID
 * --agents 1000 [--volumes 16] [--warmup 15] [--window 30] [--streams-per-channel 50] [--out results.tsv]}
 */
public final class FleetBench {
    private final Map<String, String> args;

    private FleetBench(Map<String, String> args) {
        this.args = args;
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + argv[i]);
            }
            args.put(argv[i].substring(2), argv[i + 1]);
        }
        if (!args.containsKey("target") || !args.containsKey("pid") || !args.containsKey("agents")) {
            System.err.println("usage: --target HOST:PORT --pid CONTROLLER_PID --agents N [--volumes M] [--warmup S] "
                    + "[--window S] [--streams-per-channel K] [--jcmd PATH] [--out FILE]");
            System.exit(2);
        }
        boolean ok = false;
        try {
            ok = new FleetBench(args).run();
        } catch (Exception e) {
            e.printStackTrace();
        }
        System.exit(ok ? 0 : 1); // gRPC's threads would keep the JVM alive
    }

    private int num(String name, int dflt) {
        return Integer.parseInt(args.getOrDefault(name, Integer.toString(dflt)));
    }

    private boolean run() throws Exception {
        String target = args.get("target");
        long pid = Long.parseLong(args.get("pid"));
        int agents = num("agents", 100), volumes = num("volumes", 16);
        int warmup = num("warmup", 15), window = num("window", 30), perChannel = num("streams-per-channel", 50);
        HeapProbe heap = new HeapProbe(args.getOrDefault("jcmd", "jcmd"), pid);

        List<String> names = new ArrayList<>();
        for (int v = 0; v < volumes; v++) {
            names.add(String.format("vol%02d", v));
        }
        DeltaPool pool = new DeltaPool(names, 42);
        Stats stats = new Stats();
        List<SimAgent> fleet = new ArrayList<>();
        for (int a = 0; a < agents; a++) {
            fleet.add(new SimAgent(String.format("bench-%05d", a), names, pool, stats));
        }
        // The controller (Vert.x HTTP/2) allows 100 concurrent streams per connection by default.
        List<ManagedChannel> channels = new ArrayList<>();
        for (int c = 0; c < (agents + perChannel - 1) / perChannel; c++) {
            channels.add(NettyChannelBuilder.forTarget(target).usePlaintext().build());
        }
        ManagedChannel queries =
                NettyChannelBuilder.forTarget(target).usePlaintext().build();
        ScheduledExecutorService ticks = Executors.newScheduledThreadPool(2);

        log("ramp: %d agents x %d volumes over %d channels", agents, volumes, channels.size());
        long rampStart = System.nanoTime();
        for (int a = 0; a < agents; a++) {
            SimAgent agent = fleet.get(a);
            agent.connect(channels.get(a / perChannel));
            // Spread the agents' ticks evenly over the second, like a real fleet.
            ticks.scheduleAtFixedRate(
                    agent::tick, ThreadLocalRandom.current().nextLong(1000), 1000, TimeUnit.MILLISECONDS);
            if (a % 200 == 199) {
                Thread.sleep(100);
            }
        }
        waitFor("every agent's first Ack", 180, () -> fleet.stream().allMatch(a -> a.acked() || a.broken()));
        log("ramp done in %.1f s", (System.nanoTime() - rampStart) / 1e9);

        var controller = ControllerGrpc.newBlockingStub(queries);
        if (agents > 1) {
            // Exercise the command path under load: one host's reset, answered by its simulated agent.
            // A failure is reported and makes the run not exact, but the measurements go on.
            try {
                ResetStatsResponse reset = controller
                        .withDeadlineAfter(60, TimeUnit.SECONDS)
                        .resetStats(ResetStatsRequest.newBuilder()
                                .setScope(Scope.HOST)
                                .setHost(fleet.get(1).hostId())
                                .build());
                log("ResetStats HOST %s: %d volumes reset", fleet.get(1).hostId(), reset.getVolumesReset());
            } catch (io.grpc.StatusRuntimeException e) {
                log("ResetStats HOST %s failed: %s", fleet.get(1).hostId(), e.getStatus());
            }
        }
        log("warm-up %d s", warmup);
        Thread.sleep(warmup * 1000L);

        // Steady window.
        WatchProbe watch = new WatchProbe();
        watch.start(queries);
        Samples fleetLatency = new Samples(), hostLatency = new Samples();
        fleetLatency.recording(true);
        hostLatency.recording(true);
        stats.ackLatency.recording(true);
        long deltasBefore = stats.deltasSent.sum();
        String loadBefore = ProcCpu.loadAverage();
        double ctlCpu0 = ProcCpu.seconds(pid),
                selfCpu0 = ProcCpu.seconds(ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        double heapDuring = 0;
        long end = t0 + window * 1_000_000_000L;
        Thread fleetQ = queryLoop(
                () -> controller
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .queryStats(QueryStatsRequest.newBuilder()
                                .setScope(Scope.FLEET)
                                .build()),
                fleetLatency,
                end);
        Thread hostQ = queryLoop(
                () -> controller
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .queryStats(QueryStatsRequest.newBuilder()
                                .setScope(Scope.HOST)
                                .setHost(fleet.get(ThreadLocalRandom.current().nextInt(agents))
                                        .hostId())
                                .build()),
                hostLatency,
                end);
        int probes = 0;
        while (System.nanoTime() < end - 2_000_000_000L) {
            Thread.sleep(1500 + ThreadLocalRandom.current().nextInt(500));
            watch.sending();
            fleet.get(0).probe();
            probes++;
        }
        fleetQ.join();
        hostQ.join();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double ctlCpu = (ProcCpu.seconds(pid) - ctlCpu0) / seconds * 100;
        double selfCpu = (ProcCpu.seconds(ProcessHandle.current().pid()) - selfCpu0) / seconds * 100;
        double deltasPerSecond = (stats.deltasSent.sum() - deltasBefore) / seconds;
        String loadAfter = ProcCpu.loadAverage();
        Thread.sleep(1500); // the last probe's watch update
        watch.stop();
        heapDuring = heap.usedMiB();
        stats.ackLatency.recording(false);

        // Drain: no more deltas; every one sent must be acknowledged; then the totals must be exact.
        ticks.shutdownNow();
        ticks.awaitTermination(10, TimeUnit.SECONDS);
        waitFor("every delta acknowledged", 120, () -> fleet.stream().allMatch(a -> a.unacked() == 0 || a.broken()));
        long[] uses = new long[DeltaPool.SIZE];
        long probeFlushes = 0;
        for (SimAgent a : fleet) {
            a.addUses(uses);
            probeFlushes += a.probeFlushes();
        }
        CounterSet expected = pool.total(uses, probeFlushes);
        QueryStatsResponse fleetRow = controller.queryStats(
                QueryStatsRequest.newBuilder().setScope(Scope.FLEET).build());
        CounterSet got = CounterSet.fromProto(fleetRow.getRows(0).getOpsList());
        int broken = (int) fleet.stream().filter(SimAgent::broken).count();
        boolean exact = got.equals(expected) && broken == 0 && stats.resetsDone.get() == (agents > 1 ? 1 : 0);
        double heapAfterGc = heap.usedAfterGcMiB();

        log("steady window %.1f s, load average %s -> %s", seconds, loadBefore, loadAfter);
        log(
                "deltas/s %.0f; ack latency p50 %.1f ms p99 %.1f ms",
                deltasPerSecond, stats.ackLatency.quantileMs(0.5), stats.ackLatency.quantileMs(0.99));
        log("controller CPU %.1f %% of one core; generator CPU %.1f %%", ctlCpu, selfCpu);
        log("heap used %.0f MiB at the end of the window, %.0f MiB after a full GC", heapDuring, heapAfterGc);
        log(
                "QueryStats FLEET p50 %.1f ms p99 %.1f ms (%d calls); HOST p50 %.1f ms p99 %.1f ms (%d calls)",
                fleetLatency.quantileMs(0.5),
                fleetLatency.quantileMs(0.99),
                fleetLatency.count(),
                hostLatency.quantileMs(0.5),
                hostLatency.quantileMs(0.99),
                hostLatency.count());
        log(
                "WatchStats FLEET delay p50 %.0f ms max %.0f ms (%d probes of %d)",
                watch.delay().quantileMs(0.5),
                watch.delay().quantileMs(1.0),
                watch.delay().count(),
                probes);
        log(
                "exact: %s (fleet READ reqs %d expected %d, WRITE reqs %d expected %d; broken streams %d)",
                exact ? "yes" : "NO",
                got.requests(CounterSet.READ),
                expected.requests(CounterSet.READ),
                got.requests(CounterSet.WRITE),
                expected.requests(CounterSet.WRITE),
                broken);

        String row = String.format(
                Locale.ROOT,
                "%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\t%.1f\t%s\t%s%n",
                agents,
                volumes,
                deltasPerSecond,
                ctlCpu,
                selfCpu,
                heapDuring,
                heapAfterGc,
                fleetLatency.quantileMs(0.5),
                fleetLatency.quantileMs(0.99),
                hostLatency.quantileMs(0.99),
                watch.delay().quantileMs(0.5),
                watch.delay().quantileMs(1.0),
                stats.ackLatency.quantileMs(0.99),
                exact ? "yes" : "NO",
                loadBefore.split(" ")[0] + "/" + loadAfter.split(" ")[0]);
        if (args.containsKey("out")) {
            Files.writeString(Path.of(args.get("out")), row, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        fleet.forEach(SimAgent::close);
        channels.forEach(ManagedChannel::shutdownNow);
        queries.shutdownNow();
        return exact;
    }

    /** Calls {@code call} 10 times a second until {@code end}, recording each call's latency. */
    private static Thread queryLoop(Supplier<?> call, Samples latency, long end) {
        return Thread.ofPlatform().start(() -> {
            long next = System.nanoTime();
            while (next < end) {
                long t = System.nanoTime();
                try {
                    call.get();
                    latency.add(System.nanoTime() - t);
                } catch (RuntimeException e) {
                    log("query failed: %s", e);
                }
                next += 100_000_000L;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    try {
                        Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                    } catch (InterruptedException e) {
                        return;
                    }
                } else {
                    next = System.nanoTime(); // behind: do not queue up calls
                }
            }
        });
    }

    private static void waitFor(String what, int seconds, Supplier<Boolean> done)
            throws InterruptedException, IOException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!done.get()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("timed out after " + seconds + " s waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    private static void log(String format, Object... a) {
        System.out.printf(Locale.ROOT, "[fleet-bench] " + format + "%n", a);
    }
}
