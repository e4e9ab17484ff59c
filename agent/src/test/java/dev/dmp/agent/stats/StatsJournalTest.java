package dev.dmp.agent.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.stats.StatsJournal.Delta;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatsJournalTest {
    private final StatsJournal journal = new StatsJournal(true);
    private final VolumeStats a = new VolumeStats();
    private final VolumeStats b = new VolumeStats();

    private static Delta delta(String volume, long generation, long rr, long rb, long wr, long wb) {
        return new Delta(volume, generation, new StatsSnapshot(rr, rb, wr, wb));
    }

    @Test
    void addingAVolumeAnnouncesItWithAZeroDelta() {
        journal.add("a", a);
        assertEquals(List.of(delta("a", 0, 0, 0, 0, 0)), journal.drain());
        assertEquals(List.of(), journal.drain());
    }

    @Test
    void drainGivesWhatChangedSinceTheLastDrain() {
        journal.add("a", a);
        journal.add("b", b);
        journal.drain();
        a.recordWrite(4096);
        a.recordWrite(4096);
        assertEquals(List.of(delta("a", 0, 0, 0, 2, 8192)), journal.drain());
        a.recordRead(8192);
        b.recordWrite(512);
        assertEquals(List.of(delta("a", 0, 1, 8192, 0, 0), delta("b", 0, 0, 0, 1, 512)), journal.drain());
        assertEquals(List.of(), journal.drain());
    }

    @Test
    void resetClosesTheOldGenerationAndOpensTheNewOneWithZero() {
        journal.add("a", a);
        journal.drain();
        a.recordWrite(4096);
        assertEquals(List.of(delta("a", 0, 0, 0, 1, 4096)), journal.drain());
        a.recordWrite(4096);
        a.recordRead(512);
        assertEquals(1, journal.reset(List.of("a", "unknown")));
        a.recordRead(1024);
        assertEquals(List.of(
                delta("a", 0, 1, 512, 1, 4096), // counted before the reset: old generation
                delta("a", 1, 0, 0, 0, 0), // the reset boundary
                delta("a", 1, 1, 1024, 0, 0)), // counted after it
                journal.drain());
        assertEquals(new StatsSnapshot(1, 1024, 0, 0), a.sinceReset());
    }

    @Test
    void resetsWithoutDrainsInBetweenKeepEveryBoundary() {
        journal.add("a", a);
        a.recordWrite(100);
        journal.reset(List.of("a"));
        journal.reset(List.of("a"));
        a.recordWrite(300);
        assertEquals(List.of(
                delta("a", 0, 0, 0, 0, 0),
                delta("a", 0, 0, 0, 1, 100),
                delta("a", 1, 0, 0, 0, 0),
                delta("a", 1, 0, 0, 0, 0),
                delta("a", 2, 0, 0, 0, 0),
                delta("a", 2, 0, 0, 1, 300)), journal.drain());
    }

    @Test
    void nothingIsCountedTwiceOrLostAcrossInterleavings() {
        journal.add("a", a);
        List<Delta> all = new ArrayList<>();
        long written = 0;
        for (int i = 1; i <= 40; i++) {
            a.recordWrite(i);
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
        for (Delta d : all) {
            requests += d.counts().writeRequests();
            bytes += d.counts().writeBytes();
            // generations never go back, so the controller can drop stale ones safely
            assertEquals(true, d.generation() >= lastGeneration);
            if (d.generation() > lastGeneration) {
                sinceLastReset = 0;
            }
            lastGeneration = d.generation();
            sinceLastReset += d.counts().writeBytes();
        }
        assertEquals(40, requests);
        assertEquals(written, bytes);
        assertEquals(5, lastGeneration); // resets at 7, 14, 21, 28, 35
        assertEquals(36 + 37 + 38 + 39 + 40, sinceLastReset);
        assertEquals(sinceLastReset, a.sinceReset().writeBytes());
    }

    @Test
    void removedVolumesLeaveNoPendingDeltas() {
        journal.add("a", a);
        journal.add("b", b);
        a.recordWrite(1);
        journal.reset(List.of("a"));
        journal.remove("a");
        assertEquals(List.of(delta("b", 0, 0, 0, 0, 0)), journal.drain());
    }

    @Test
    void standaloneQueuesNothingButStillResets() {
        StatsJournal standalone = new StatsJournal(false);
        standalone.add("a", a);
        a.recordWrite(4096);
        assertEquals(1, standalone.reset(List.of("a")));
        assertEquals(StatsSnapshot.ZERO, a.sinceReset());
        assertEquals(1, a.generation());
        a.recordRead(512);
        // only the live counts since the last reset, no queued boundaries
        assertEquals(List.of(delta("a", 1, 1, 512, 0, 0)), standalone.drain());
    }
}
