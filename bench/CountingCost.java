import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.CounterSet;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;

/**
 * What counting adds to one NBD request, in CPU nanoseconds: exactly what TransmissionLoop does for a
 * counted request and leaves out for an uncounted one (a clock read at receipt, {@code Shard.started},
 * a clock read at the reply and {@code Shard.completed}), in a loop, timed by the thread's own CPU
 * time. Not a test: run by bench/counting.sh, or on its own (JDK 21+, after mvn package):
 *
 * <pre>java -cp 'agent/target/quarkus-app/app/*:agent/target/quarkus-app/lib/main/*' bench/CountingCost.java</pre>
 *
 * Cases: "clock" the two clock reads alone; "one thread" the whole of it on one shard from one thread
 * (a request at queue depth 1 is received and answered on the same thread); "two threads" two threads
 * counting on the same shard at once, so its lock and counters move between the cores on every
 * request: worse than the agent at depth 16, where a request is received on the reader and answered on
 * a worker, between microseconds of other work. Each case: the median of 5 rounds of 2 million
 * requests per thread, after a warm-up; the loop's own cost is included (an upper bound).
 * The last line, "counting ns per request: N", is the two-thread figure, for counting.py's bound.
 */
public final class CountingCost {
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    private static final int N = 2_000_000;
    static long sink;

    private static long clockOnly(int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            s += System.nanoTime() - t;
        }
        return s;
    }

    /** A request's counting as TransmissionLoop does it: receipt, then reply. */
    private static long counting(VolumeStats.Shard shard, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) {
            long received = System.nanoTime();
            shard.started();
            long latency = System.nanoTime() - received;
            shard.completed(CounterSet.READ, 4096, 0, latency);
            s += latency;
        }
        return s;
    }

    interface Loop {
        long run(int n);
    }

    /** CPU ns per iteration of {@code loop} on each of {@code threads} threads at once; median of rounds. */
    private static double measure(int threads, Loop loop) throws Exception {
        double[] rounds = new double[5];
        for (int r = -1; r < rounds.length; r++) {  // a round of warm-up
            CyclicBarrier start = new CyclicBarrier(threads);
            long[] cpu = new long[threads];
            Thread[] ts = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int k = t;
                ts[t] = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    long c0 = CPU.getCurrentThreadCpuTime();
                    long s = loop.run(N);
                    cpu[k] = CPU.getCurrentThreadCpuTime() - c0;
                    synchronized (CountingCost.class) {
                        sink += s;
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            if (r >= 0) {
                rounds[r] = (double) Arrays.stream(cpu).sum() / threads / N;
            }
        }
        Arrays.sort(rounds);
        return rounds[rounds.length / 2];
    }

    public static void main(String[] args) throws Exception {
        VolumeStats stats = new VolumeStats();
        VolumeStats.Shard shard = stats.openShard();
        double clock = measure(1, CountingCost::clockOnly);
        double one = measure(1, n -> counting(shard, n));
        double two = measure(2, n -> counting(shard, n));
        System.out.printf("clock reads (2 per request): %.1f ns per request%n", clock);
        System.out.printf("counting, one thread: %.1f ns per request%n", one);
        System.out.printf("counting, two threads on one shard: %.1f ns per request%n", two);
        System.out.printf("(shard total %d requests, sink %d)%n", stats.cumulative().requests(CounterSet.READ), sink & 1);
        System.out.printf("counting ns per request: %.1f%n", two);
    }
}
