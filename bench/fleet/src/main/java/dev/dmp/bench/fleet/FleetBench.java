package dev.dmp.bench.fleet;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import dev.dmp.proto.v1.Scope;
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
 * against one controller, or a set of replicas on one database, over real gRPC (agent i dials replica
 * i mod R); measures each controller's CPU and heap, QueryStats and WatchStats latency over a steady
 * window (and PostgreSQL's CPU, given its postmaster), then checks that the fleet totals equal what
 * was sent.
 *
 * <p>Usage: {@code java -jar dmp-bench-fleet.jar --target 127.0.0.1:PORT[,127.0.0.1:PORT2...]
 * --pid CONTROLLER_PID[,PID2...] --agents 1000 [--volumes 16] [--warmup 15] [--window 30]
 * [--streams-per-channel 50] [--pg-pid POSTMASTER_PID] [--settle 15] [--out results.tsv]
 * [--out-replicas replicas.tsv]}; with {@code --load SECONDS} it only ramps and sends deltas for that long
 * (load beside a test's real agents), measuring nothing.
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
            System.err.println("usage: --target HOST:PORT[,HOST:PORT...] --pid CONTROLLER_PID[,PID...] --agents N"
                    + " [--volumes M] [--warmup S] [--window S] [--streams-per-channel K] [--jcmd PATH]"
                    + " [--pg-pid POSTMASTER_PID] [--settle S] [--out FILE] [--out-replicas FILE] [--load S]");
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
        String[] targets = args.get("target").split(",");
        String[] pids = args.get("pid").split(",");
        if (targets.length != pids.length) {
            throw new IllegalArgumentException("--target and --pid need as many entries each, one per replica");
        }
        int agents = num("agents", 100), volumes = num("volumes", 16);
        int warmup = num("warmup", 15), window = num("window", 30), perChannel = num("streams-per-channel", 50);
        long pgPid = Long.parseLong(args.getOrDefault("pg-pid", "0"));
        List<Replica> replicas = new ArrayList<>();
        for (int i = 0; i < targets.length; i++) {
            replicas.add(new Replica(i, targets[i], Long.parseLong(pids[i]), args.getOrDefault("jcmd", "jcmd")));
        }
        int n = replicas.size();

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
        ScheduledExecutorService ticks = Executors.newScheduledThreadPool(2);

        // Agent a dials replica a mod n. The controller (Vert.x HTTP/2) allows 100 concurrent streams
        // per connection by default: perChannel streams share one.
        log("ramp: %d agents x %d volumes over %d replica(s)", agents, volumes, n);
        long rampStart = System.nanoTime();
        for (int a = 0; a < agents; a++) {
            Replica r = replicas.get(a % n);
            if (r.hosts % perChannel == 0) {
                r.agentChannels.add(r.channel());
            }
            r.hosts++;
            SimAgent agent = fleet.get(a);
            agent.connect(r.agentChannels.getLast());
            // Spread the agents' ticks evenly over the second, like a real fleet.
            ticks.scheduleAtFixedRate(
                    agent::tick, ThreadLocalRandom.current().nextLong(1000), 1000, TimeUnit.MILLISECONDS);
            if (a % 200 == 199) {
                Thread.sleep(100);
            }
        }
        waitFor("every agent's first Ack", 180, () -> fleet.stream().allMatch(a -> a.acked() || a.broken()));
        log("ramp done in %.1f s", (System.nanoTime() - rampStart) / 1e9);
        if (args.containsKey("load")) {
            // Load only (tests/test-replicas.sh): the agents go on sending, nothing is measured.
            Thread.sleep(Long.parseLong(args.get("load")) * 1000L);
            log("load done: %d deltas sent", stats.deltasSent.sum());
            return true;
        }

        String reset = agents > 1 ? resetOneHost(replicas, fleet.get(1).hostId(), 1 % n) : "-";
        log("warm-up %d s", warmup);
        Thread.sleep(warmup * 1000L);

        // Steady window. The watch is on the last replica: with several, not the one the probe agent
        // (agent 0) dials, so its delay includes the way from the owner to the other replicas.
        WatchProbe watch = new WatchProbe();
        Replica watched = replicas.getLast();
        watch.start(watched.queries);
        stats.ackLatency.recording(true);
        long deltasBefore = stats.deltasSent.sum();
        String loadBefore = ProcCpu.loadAverage();
        for (Replica r : replicas) {
            r.startWindow();
        }
        double selfCpu0 = ProcCpu.seconds(ProcessHandle.current().pid());
        double pgCpu0 = pgPid > 0 ? ProcCpu.treeSeconds(pgPid) : 0;
        long t0 = System.nanoTime();
        long end = t0 + window * 1_000_000_000L;
        List<Thread> loops = new ArrayList<>();
        for (Replica r : replicas) {
            var controller = r.controller();
            loops.add(queryLoop(
                    r,
                    () -> controller
                            .withDeadlineAfter(30, TimeUnit.SECONDS)
                            .queryStats(QueryStatsRequest.newBuilder()
                                    .setScope(Scope.FLEET)
                                    .build()),
                    r.fleetLatency,
                    end));
            loops.add(queryLoop(
                    r,
                    () -> controller
                            .withDeadlineAfter(30, TimeUnit.SECONDS)
                            .queryStats(QueryStatsRequest.newBuilder()
                                    .setScope(Scope.HOST)
                                    .setHost(fleet.get(
                                                    ThreadLocalRandom.current().nextInt(agents))
                                            .hostId())
                                    .build()),
                    r.hostLatency,
                    end));
        }
        int probes = 0;
        while (System.nanoTime() < end - 2_000_000_000L) {
            Thread.sleep(1500 + ThreadLocalRandom.current().nextInt(500));
            watch.sending();
            fleet.get(0).probe();
            probes++;
        }
        for (Thread t : loops) {
            t.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (Replica r : replicas) {
            r.endWindow(seconds);
        }
        double selfCpu = (ProcCpu.seconds(ProcessHandle.current().pid()) - selfCpu0) / seconds * 100;
        double pgCpu = pgPid > 0 ? (ProcCpu.treeSeconds(pgPid) - pgCpu0) / seconds * 100 : Double.NaN;
        double deltasPerSecond = (stats.deltasSent.sum() - deltasBefore) / seconds;
        String loadAfter = ProcCpu.loadAverage();
        Thread.sleep(1500); // the last probe's watch update
        watch.stop();
        for (Replica r : replicas) {
            r.heapMiB = r.heap.usedMiB();
        }
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
        String[] perReplica = new String[n];
        String counts = Exactness.check(replicas, expected, num("settle", 15), perReplica);
        int broken = (int) fleet.stream().filter(SimAgent::broken).count();
        String exact = broken == 0 ? counts : "NO";
        for (Replica r : replicas) {
            r.heapAfterGcMiB = r.heap.usedAfterGcMiB();
        }

        Report report = new Report(
                replicas,
                agents,
                volumes,
                seconds,
                deltasPerSecond,
                selfCpu,
                pgCpu,
                loadBefore.split(" ")[0] + "/" + loadAfter.split(" ")[0],
                stats.ackLatency,
                watch.delay(),
                watched.id,
                probes,
                reset,
                exact,
                broken,
                perReplica);
        report.log();
        append("out", report.row());
        append("out-replicas", report.replicaRows());
        fleet.forEach(SimAgent::close);
        replicas.forEach(Replica::close);
        return "yes".equals(exact);
    }

    /**
     * Exercises the command path under load: ResetStats HOST of one host, answered by its simulated
     * agent. With several replicas it is sent to one that does not hold the host's stream, so that
     * replica must forward it to the owner. A failure is reported ("FAILED" in the table) and the
     * measurements go on; the counts stay comparable (the agent then resets nothing).
     */
    private static String resetOneHost(List<Replica> replicas, String host, int owner) {
        Replica via = replicas.get((owner + 1) % replicas.size());
        try {
            ResetStatsResponse reset = via.controller()
                    .withDeadlineAfter(60, TimeUnit.SECONDS)
                    .resetStats(ResetStatsRequest.newBuilder()
                            .setScope(Scope.HOST)
                            .setHost(host)
                            .build());
            log("ResetStats HOST %s via %s: %d volumes reset", host, via.id, reset.getVolumesReset());
            return "ok";
        } catch (io.grpc.StatusRuntimeException e) {
            log("ResetStats HOST %s via %s failed: %s", host, via.id, e.getStatus());
            return "FAILED";
        }
    }

    private void append(String arg, String line) throws IOException {
        if (args.containsKey(arg)) {
            Files.writeString(Path.of(args.get(arg)), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    /**
     * Calls {@code call} on replica {@code r} 10 times a second until {@code end}, recording each
     * call's latency; a failure is counted, and only the first of each replica is logged.
     */
    private static Thread queryLoop(Replica r, Supplier<?> call, Samples latency, long end) {
        return Thread.ofPlatform().start(() -> {
            long next = System.nanoTime();
            while (next < end) {
                long t = System.nanoTime();
                try {
                    call.get();
                    latency.add(System.nanoTime() - t);
                } catch (RuntimeException e) {
                    if (r.queryFailures.getAndIncrement() == 0) {
                        log("%s: query failed (further failures only counted): %s", r.id, e);
                    }
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

    static void log(String format, Object... a) {
        System.out.printf(Locale.ROOT, "[fleet-bench] " + format + "%n", a);
    }
}
