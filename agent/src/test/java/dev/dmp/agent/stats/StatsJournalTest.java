package dev.dmp.agent.stats;

import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.stats.StatsJournal.Delta;
import dev.dmp.proto.CounterSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsJournalTest {
    private final StatsJournal journal = new StatsJournal(true);
    private final VolumeStats a = new VolumeStats();
    private final VolumeStats b = new VolumeStats();
    private final VolumeStats.Shard sa = a.openShard();
    private final VolumeStats.Shard sb = b.openShard();

    /** A delta's old-view numbers and in-flight level: what these tests are about. */
    private record Seen(String volume, long generation, long rr, long rb, long wr, long wb, long inFlight) {
        static Seen of(Delta d) {
            CounterSet c = d.counts();
            return new Seen(
                    d.volume(),
                    d.generation(),
                    c.requests(READ),
                    c.bytes(READ),
                    c.requests(WRITE),
                    c.bytes(WRITE),
                    d.inFlight());
        }
    }

    private static Seen delta(String volume, long generation, long rr, long rb, long wr, long wb) {
        return new Seen(volume, generation, rr, rb, wr, wb, 0);
    }

    private static List<Seen> seen(List<Delta> deltas) {
        return deltas.stream().map(Seen::of).toList();
    }

    private static void write(VolumeStats.Shard shard, long bytes) {
        shard.started();
        shard.completed(WRITE, bytes, 0, 1000);
    }

    private static void read(VolumeStats.Shard shard, long bytes) {
        shard.started();
        shard.completed(READ, bytes, 0, 1000);
    }

    @Test
    void addingAVolumeAnnouncesItWithAZeroDelta() {
        journal.add("a", a);
        assertEquals(List.of(new Delta("a", 0, CounterSet.empty(), 0)), journal.drain());
        assertEquals(List.of(), journal.drain());
    }

    @Test
    void drainGivesWhatChangedSinceTheLastDrain() {
        journal.add("a", a);
        journal.add("b", b);
        journal.drain();
        write(sa, 4096);
        write(sa, 4096);
        assertEquals(List.of(delta("a", 0, 0, 0, 2, 8192)), seen(journal.drain()));
        read(sa, 8192);
        write(sb, 512);
        assertEquals(List.of(delta("a", 0, 1, 8192, 0, 0), delta("b", 0, 0, 0, 1, 512)), seen(journal.drain()));
        assertEquals(List.of(), journal.drain());
    }

    @Test
    void aDeltaCarriesEveryCounterAndTheInFlightLevel() {
        journal.add("a", a);
        journal.drain();
        sa.started();
        sa.completed(READ, 4096, 22, 700);
        sa.started();
        sa.started(); // two requests still in flight
        CounterSet expected = CounterSet.empty();
        expected.record(READ, 4096, 22, 700);
        assertEquals(List.of(new Delta("a", 0, expected, 2)), journal.drain());
        // only the level changed: still a delta, with nothing counted
        sa.completed(WRITE, 512, 0, 300);
        CounterSet write = CounterSet.empty();
        write.record(WRITE, 512, 0, 300);
        assertEquals(List.of(new Delta("a", 0, write, 1)), journal.drain());
        sa.completed(WRITE, 512, 0, 300);
        assertEquals(List.of(new Delta("a", 0, write, 0)), journal.drain());
        assertEquals(List.of(), journal.drain());
    }

    @Test
    void resetClosesTheOldGenerationAndOpensTheNewOneWithZero() {
        journal.add("a", a);
        journal.drain();
        write(sa, 4096);
        assertEquals(List.of(delta("a", 0, 0, 0, 1, 4096)), seen(journal.drain()));
        write(sa, 4096);
        read(sa, 512);
        assertEquals(1, journal.reset(List.of("a", "unknown")));
        read(sa, 1024);
        assertEquals(
                List.of(
                        delta("a", 0, 1, 512, 1, 4096), // counted before the reset: old generation
                        delta("a", 1, 0, 0, 0, 0), // the reset boundary
                        delta("a", 1, 1, 1024, 0, 0)), // counted after it
                seen(journal.drain()));
        CounterSet sinceReset = a.sinceReset();
        assertEquals(delta("a", 1, 1, 1024, 0, 0), Seen.of(new Delta("a", 1, sinceReset, 0)));
    }

    @Test
    void resetsWithoutDrainsInBetweenKeepEveryBoundary() {
        journal.add("a", a);
        write(sa, 100);
        journal.reset(List.of("a"));
        journal.reset(List.of("a"));
        write(sa, 300);
        assertEquals(
                List.of(
                        delta("a", 0, 0, 0, 0, 0),
                        delta("a", 0, 0, 0, 1, 100),
                        delta("a", 1, 0, 0, 0, 0),
                        delta("a", 1, 0, 0, 0, 0),
                        delta("a", 2, 0, 0, 0, 0),
                        delta("a", 2, 0, 0, 1, 300)),
                seen(journal.drain()));
    }

    @Test
    void nothingIsCountedTwiceOrLostAcrossInterleavings() {
        journal.add("a", a);
        List<Delta> all = new ArrayList<>();
        long written = 0;
        for (int i = 1; i <= 40; i++) {
            write(sa, i);
            written += i;
            if (i % 3 == 0) {
                all.addAll(journal.drain());
            }
            if (i % 7 == 0) {
                journal.reset(List.of("a"));
            }
        }
        all.addAll(journal.drain());
        long requests = 0;
        long bytes = 0;
        long lastGeneration = 0;
        long sinceLastReset = 0;
        CounterSet sum = CounterSet.empty();
        for (Delta d : all) {
            requests += d.counts().requests(WRITE);
            bytes += d.counts().bytes(WRITE);
            sum.add(d.counts());
            // generations never go back, so the controller can drop stale ones safely
            assertEquals(true, d.generation() >= lastGeneration);
            if (d.generation() > lastGeneration) {
                sinceLastReset = 0;
            }
            lastGeneration = d.generation();
            sinceLastReset += d.counts().bytes(WRITE);
        }
        assertEquals(40, requests);
        assertEquals(written, bytes);
        assertEquals(a.cumulative(), sum, "the deltas add up to every counter, histograms included");
        assertEquals(5, lastGeneration); // resets at 7, 14, 21, 28, 35
        assertEquals(36 + 37 + 38 + 39 + 40, sinceLastReset);
        assertEquals(sinceLastReset, a.sinceReset().bytes(WRITE));
    }

    @Test
    void removedVolumesLeaveNoPendingDeltas() {
        journal.add("a", a);
        journal.add("b", b);
        write(sa, 1);
        journal.reset(List.of("a"));
        journal.remove("a");
        assertEquals(List.of(delta("b", 0, 0, 0, 0, 0)), seen(journal.drain()));
    }

    @Test
    void standaloneQueuesNothingButStillResets() {
        StatsJournal standalone = new StatsJournal(false);
        standalone.add("a", a);
        write(sa, 4096);
        assertEquals(1, standalone.reset(List.of("a")));
        assertEquals(CounterSet.empty(), a.sinceReset());
        assertEquals(1, a.generation());
        read(sa, 512);
        // nobody reads a standalone agent's deltas: none at all, not even the live counts
        assertEquals(List.of(), standalone.drain());
        assertEquals(1, a.sinceReset().requests(READ));
        assertEquals(512, a.sinceReset().bytes(READ));
        assertEquals(0, a.sinceReset().requests(WRITE));
    }

    @Test
    void aRestoredVolumeGoesOnFromItsCheckpointWithoutCountingItAgain() {
        CounterSet reported = CounterSet.empty();
        reported.record(WRITE, 4096, 0, 1000);
        reported.record(READ, 512, 0, 1000);
        CounterSet baseline = CounterSet.empty();
        baseline.record(READ, 512, 0, 1000);
        journal.restore("a", a, new StatsJournal.VolumeCheckpoint("a", 2, reported, baseline));
        assertEquals(List.of(), journal.drain(), "what the checkpoint holds was reported before");
        write(sa, 1024);
        assertEquals(List.of(delta("a", 2, 0, 0, 1, 1024)), seen(journal.drain()));
        List<StatsJournal.VolumeCheckpoint> saved = journal.checkpoint();
        assertEquals(1, saved.size());
        assertEquals(2, saved.get(0).generation());
        assertEquals(2, saved.get(0).reported().requests(WRITE));
        assertEquals(5120, saved.get(0).reported().bytes(WRITE));
        assertEquals(baseline, saved.get(0).baseline());
        assertEquals(a.cumulative(), saved.get(0).reported());
    }
}
