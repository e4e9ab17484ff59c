package dev.dmp.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.controller.fleet.FleetLedgerTest;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.OpCounters;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.StatsDeltaIn;
import dev.dmp.proto.v1.VolumeDelta;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What one {@link FleetLedger#commit()} costs on PostgreSQL at fleet scale: a probe, not a test (it
 * asserts only that every write went through). Fills a ledger with {@code dmp.probe.hosts} hosts of
 * {@code dmp.probe.volumes} volumes (16), commits it, then for {@code dmp.probe.rounds} rounds (7, after
 * 2 unmeasured ones) applies one delta per host that touches {@code dmp.probe.touched} of its volumes
 * (all) with READ and WRITE counts and both histograms (as bench/fleet's SimAgent sends), and times
 * the commit: building what the store writes, the store's preparation, its statements and the COMMIT.
 *
 * <pre>
 * mvn -q -o test -Dspotless.check.skip=true -Dfuzz.skip -pl proto,controller -Dtest=CommitCostProbe \
 *   -Ddmp.probe.hosts=1000 -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@EnabledIfSystemProperty(named = "dmp.probe.hosts", matches = "\\d+")
class CommitCostProbe {
    @RegisterExtension
    static final PostgresDatabase DB = new PostgresDatabase();

    private static final int POOL = 64;

    /** Times {@link #write}; the store's own split of it is {@link PostgresLedgerStore#lastWriteTiming}. */
    private static final class TimedStore extends ForwardingLedgerStore {
        final PostgresLedgerStore postgres;
        long writeNanos;

        TimedStore(PostgresLedgerStore store) {
            super(store);
            this.postgres = store;
        }

        @Override
        public List<HostWrite> write(List<HostWrite> writes) {
            long start = System.nanoTime();
            List<HostWrite> refused = store.write(writes);
            writeNanos = System.nanoTime() - start;
            return refused;
        }
    }

    @Test
    void commitCost() throws Exception {
        int hosts = Integer.getInteger("dmp.probe.hosts");
        int volumes = Integer.getInteger("dmp.probe.volumes", 16);
        int touched = Integer.getInteger("dmp.probe.touched", volumes);
        int rounds = Integer.getInteger("dmp.probe.rounds", 7);
        String[] names = new String[volumes];
        for (int v = 0; v < volumes; v++) {
            names[v] = "vol" + v;
        }
        Random r = new Random(42);
        List<List<OpCounters>> pool = new ArrayList<>();
        for (int i = 0; i < POOL; i++) {
            List<OpCounters> ops = new ArrayList<>(op(r, CounterSet.READ, 50 + r.nextInt(2000), 12, 20));
            ops.addAll(op(r, CounterSet.WRITE, 20 + r.nextInt(800), 12, 22));
            pool.add(ops);
        }
        try (TimedStore store = new TimedStore(PostgresLedgerStore.open(DB.settings("probe")))) {
            FleetLedger ledger = new FleetLedger(store);
            for (int h = 0; h < hosts; h++) {
                ledger.connect(FleetLedgerTest.hello(host(h), "run-1", names), FleetLedgerTest.T0);
            }
            assertEquals(List.of(), ledger.commit());
            long[][] samples = new long[7][rounds];
            for (int round = -2; round < rounds; round++) {
                long seq = round + 3;
                long start = System.nanoTime();
                for (int h = 0; h < hosts; h++) {
                    StatsDelta.Builder d = StatsDelta.newBuilder().setSeq(seq);
                    for (int v = 0; v < touched; v++) {
                        d.addVolumes(VolumeDelta.newBuilder()
                                .setVolume(names[(int) ((v + seq) % volumes)])
                                .addAllOps(pool.get(r.nextInt(POOL)))
                                .setInFlight(r.nextInt(8)));
                    }
                    ledger.apply(host(h), "run-1", parse(d.build()), FleetLedgerTest.T0);
                }
                long walBefore = wal();
                long applied = System.nanoTime();
                assertEquals(List.of(), ledger.commit());
                long committed = System.nanoTime();
                if (round >= 0) {
                    LedgerConnection.Timing t = store.postgres.lastWriteTiming();
                    samples[0][round] = applied - start;
                    samples[1][round] = committed - applied;
                    samples[2][round] = committed - applied - store.writeNanos;
                    samples[3][round] = store.writeNanos - t.statementsNanos() - t.commitNanos();
                    samples[4][round] = t.statementsNanos();
                    samples[5][round] = t.commitNanos();
                    samples[6][round] = wal() - walBefore;
                }
            }
            System.out.printf(
                    "commit-cost probe: %d hosts x %d volumes, %d touched per delta, %d rounds: median [min-max] ms%n",
                    hosts, volumes, touched, rounds);
            String[] what = {
                "apply deltas",
                "commit()",
                "  records (ledger)",
                "  store: prepare",
                "  store: statements",
                "  store: COMMIT"
            };
            for (int i = 0; i < what.length; i++) {
                long[] s = samples[i].clone();
                Arrays.sort(s);
                System.out.printf(
                        "  %-22s %8.1f [%.1f-%.1f]%n",
                        what[i], s[s.length / 2] / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6);
            }
            long[] w = samples[6].clone();
            Arrays.sort(w);
            System.out.printf(
                    "  WAL per commit %.1f MB [%.1f-%.1f]; a volume's row %s bytes on average%n",
                    w[w.length / 2] / 1e6,
                    w[0] / 1e6,
                    w[w.length - 1] / 1e6,
                    DB.rows("SELECT round(avg(pg_column_size(v.*))) FROM volumes v")
                            .get(0));
        }
    }

    /** Where the database's write-ahead log is now, in bytes. */
    private static long wal() throws Exception {
        return Long.parseLong(
                DB.rows("SELECT pg_current_wal_lsn() - '0/0'").get(0).replaceAll("\\..*", ""));
    }

    private static String host(int h) {
        return String.format("node-%05d", h);
    }

    private static StatsDeltaIn parse(StatsDelta d) {
        try {
            return StatsDeltaIn.parseFrom(d.toByteArray());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * n requests of one operation as an agent counts them: lengths from 2^sizeLow up a few powers of two,
     * latencies from 2^latencyLow ns up a few, now and then an EIO (5).
     */
    private static List<OpCounters> op(Random r, int op, int n, int sizeLow, int latencyLow) {
        CounterSet c = CounterSet.empty();
        for (int i = 0; i < n; i++) {
            long length = 1L << (sizeLow + Math.min(8, (int) Math.abs(r.nextGaussian() * 3)));
            long latency = (1L << (latencyLow + Math.min(5, (int) Math.abs(r.nextGaussian() * 2)))) + r.nextInt(1000);
            c.record(op, length, r.nextInt(400) == 0 ? 5 : 0, latency);
        }
        return c.toProto();
    }
}
