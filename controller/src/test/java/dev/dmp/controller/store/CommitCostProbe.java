package dev.dmp.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.controller.fleet.FleetLedgerTest;
import dev.dmp.proto.v1.ErrorCount;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.Op;
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
 * (all) with READ and WRITE counts and histograms (as bench/fleet's DeltaPool makes them), and times
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

    /** Times {@link #write}, and the store's own split of it. */
    private static final class TimedStore implements LedgerStore {
        final PostgresLedgerStore store;
        long writeNanos;

        TimedStore(PostgresLedgerStore store) {
            this.store = store;
        }

        @Override
        public String location() {
            return store.location();
        }

        @Override
        public List<HostRecord> loadAll() {
            return store.loadAll();
        }

        @Override
        public HostClaim claim(String hostId) {
            return store.claim(hostId);
        }

        @Override
        public List<HostWrite> write(List<HostWrite> writes) {
            long start = System.nanoTime();
            List<HostWrite> refused = store.write(writes);
            writeNanos = System.nanoTime() - start;
            return refused;
        }

        @Override
        public void close() {
            store.close();
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
            pool.add(List.of(
                    op(r, Op.OP_READ, 50 + r.nextInt(2000), 12, 20), op(r, Op.OP_WRITE, 20 + r.nextInt(800), 12, 22)));
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
                    LedgerConnection.Timing t = store.store.lastWriteTiming();
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

    /** n requests over a few size buckets from 2^sizeLow and latency buckets from 2^latencyLow ns (DeltaPool's). */
    private static OpCounters op(Random r, Op op, int n, int sizeLow, int latencyLow) {
        long[] size = new long[sizeLow + 9];
        long[] latency = new long[latencyLow + 6];
        long bytes = 0, latencyNs = 0, requested = 0;
        int errors = r.nextInt(20) == 0 ? 1 + r.nextInt(3) : 0;
        for (int i = 0; i < n + errors; i++) {
            int sb = sizeLow + Math.min(8, (int) Math.abs(r.nextGaussian() * 3));
            int lb = latencyLow + Math.min(5, (int) Math.abs(r.nextGaussian() * 2));
            long length = 1L << sb;
            size[sb]++;
            latency[lb]++;
            latencyNs += (1L << lb) + r.nextInt(1 << lb);
            requested += length;
            if (i < n) {
                bytes += length;
            }
        }
        OpCounters.Builder b = OpCounters.newBuilder()
                .setOp(op)
                .setRequests(n)
                .setBytes(bytes)
                .setLatencyNs(latencyNs)
                .setRequestedBytes(requested);
        if (errors > 0) {
            b.setErrors(errors)
                    .addErrorsByCode(ErrorCount.newBuilder().setError(5).setCount(errors));
        }
        Arrays.stream(size).forEach(b::addSizeHistogram);
        Arrays.stream(latency).forEach(b::addLatencyHistogram);
        return b.build();
    }
}
