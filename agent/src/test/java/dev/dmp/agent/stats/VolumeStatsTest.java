package dev.dmp.agent.stats;

import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.proto.CounterSet;
import org.junit.jupiter.api.Test;

class VolumeStatsTest {

    /** One successful request, as the transmission loop records it; latency 1000 ns. */
    static void completed(VolumeStats.Shard shard, int op, long bytes) {
        shard.started();
        shard.completed(op, bytes, 0, 1000);
    }

    /** The same requests counted straight into a CounterSet, for comparison. */
    static CounterSet counts(Object... opBytes) {
        CounterSet c = CounterSet.empty();
        for (int i = 0; i < opBytes.length; i += 2) {
            c.record((Integer) opBytes[i], ((Number) opBytes[i + 1]).longValue(), 0, 1000);
        }
        return c;
    }

    @Test
    void startsEmptyInGenerationZero() {
        VolumeStats s = new VolumeStats();
        assertEquals(CounterSet.empty(), s.cumulative());
        assertEquals(CounterSet.empty(), s.sinceReset());
        assertEquals(CounterSet.empty(), s.baseline());
        assertEquals(0, s.generation());
        assertEquals(0, s.inFlight());
    }

    @Test
    void recordsRequestsAndBytes() {
        VolumeStats s = new VolumeStats();
        VolumeStats.Shard shard = s.openShard();
        completed(shard, WRITE, 4096);
        completed(shard, WRITE, 4096);
        completed(shard, WRITE, 4096);
        completed(shard, READ, 8192);
        completed(shard, READ, 8192);
        CounterSet c = s.cumulative();
        assertEquals(2, c.requests(READ));
        assertEquals(16384, c.bytes(READ));
        assertEquals(3, c.requests(WRITE));
        assertEquals(12288, c.bytes(WRITE));
        assertEquals(c, s.sinceReset());
        assertEquals(counts(WRITE, 4096, WRITE, 4096, WRITE, 4096, READ, 8192, READ, 8192), c);
    }

    @Test
    void resetMovesTheBaselineAndStartsAGenerationButCountersOnlyGoUp() {
        VolumeStats s = new VolumeStats();
        VolumeStats.Shard shard = s.openShard();
        completed(shard, READ, 512);
        completed(shard, WRITE, 1024);
        assertEquals(1, s.reset(s.cumulative()));
        assertEquals(1, s.generation());
        assertEquals(counts(READ, 512, WRITE, 1024), s.baseline());
        assertEquals(CounterSet.empty(), s.sinceReset());
        completed(shard, WRITE, 2048);
        assertEquals(counts(WRITE, 2048), s.sinceReset());
        CounterSet c = s.cumulative();
        assertEquals(1, c.requests(READ));
        assertEquals(512, c.bytes(READ));
        assertEquals(2, c.requests(WRITE));
        assertEquals(3072, c.bytes(WRITE));
        assertEquals(2, s.reset(s.cumulative()));
        assertEquals(CounterSet.empty(), s.sinceReset());
    }

    @Test
    void shardsAddUpAndAClosedShardFoldsIntoTheTotal() {
        VolumeStats s = new VolumeStats();
        VolumeStats.Shard a = s.openShard();
        VolumeStats.Shard b = s.openShard();
        completed(a, WRITE, 4096);
        completed(b, WRITE, 512);
        completed(b, READ, 8192);
        a.started(); // one request of a still in flight
        b.started();
        b.started();
        assertEquals(3, s.inFlight());
        CounterSet expected = counts(WRITE, 4096, WRITE, 512, READ, 8192);
        assertEquals(expected, s.cumulative());

        b.completed(READ, 4096, 22, 1000); // an error: counted, no bytes
        b.close();
        b.close(); // twice: folded in once
        assertEquals(1, s.inFlight(), "a closed shard's requests are no longer in flight");
        CounterSet c = s.cumulative();
        assertEquals(2, c.requests(WRITE));
        assertEquals(4608, c.bytes(WRITE));
        assertEquals(1, c.requests(READ));
        assertEquals(8192, c.bytes(READ));
        assertEquals(1, c.errors(READ));

        a.completed(WRITE, 4096, 0, 1000);
        a.close();
        assertEquals(0, s.inFlight());
        c = s.cumulative();
        assertEquals(3, c.requests(WRITE));
        assertEquals(8704, c.bytes(WRITE));
        // a new connection after the others closed adds to the same totals
        completed(s.openShard(), WRITE, 1);
        assertEquals(4, s.cumulative().requests(WRITE));
        assertEquals(8705, s.cumulative().bytes(WRITE));
    }

    @Test
    void restoreTakesUpAPreviousRunsCounts() {
        VolumeStats s = new VolumeStats();
        CounterSet saved = counts(WRITE, 4096, WRITE, 4096, READ, 512);
        CounterSet baseline = counts(WRITE, 4096);
        s.restore(saved, baseline, 3);
        assertEquals(3, s.generation());
        assertEquals(saved, s.cumulative());
        assertEquals(counts(WRITE, 4096, READ, 512), s.sinceReset());
        completed(s.openShard(), READ, 1024);
        CounterSet c = s.cumulative();
        assertEquals(2, c.requests(READ));
        assertEquals(1536, c.bytes(READ));
        assertEquals(2, c.requests(WRITE));
        assertEquals(1, s.sinceReset().requests(WRITE));
        assertEquals(4, s.reset(s.cumulative()));
    }
}
