package dev.dmp.agent.link;

import static dev.dmp.proto.CounterSet.READ;
import static dev.dmp.proto.CounterSet.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeDelta;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeltaStreamTest {
    private final DeltaStream stream = new DeltaStream("run-1", 0, List.of());

    /** n requests of {@code bytes} each, latency 1000 ns. */
    private static CounterSet counts(int op, int n, long bytes) {
        CounterSet c = CounterSet.empty();
        for (int i = 0; i < n; i++) {
            c.record(op, bytes, 0, 1000);
        }
        return c;
    }

    private static StatsJournal.Delta j(String volume, long generation, CounterSet counts, long inFlight) {
        return new StatsJournal.Delta(volume, generation, counts, inFlight);
    }

    private static VolumeDelta v(String volume, long generation, CounterSet counts, long inFlight) {
        return VolumeDelta.newBuilder()
                .setVolume(volume)
                .setGeneration(generation)
                .addAllOps(counts.toProto())
                .setInFlight(inFlight)
                .build();
    }

    private static StatsDelta d(long seq, VolumeDelta... volumes) {
        return StatsDelta.newBuilder()
                .setSeq(seq)
                .addAllVolumes(List.of(volumes))
                .build();
    }

    @Test
    void aCheckpointWhoseLastSeqIsBehindItsDeltasNumbersOnAfterTheHighest() {
        // Found by CheckpointFuzzTest: a checkpoint with no last_seq (0) and an unacknowledged delta 2
        // restored a stream that numbered its next deltas 1 and then 2, replacing the restored delta 2
        // (its counts lost, and its number handed out twice).
        DeltaStream restored = new DeltaStream("run-1", 0, List.of(d(2, v("a", 0, counts(WRITE, 1, 4096), 0))));
        assertEquals(2, restored.lastSeq());
        restored.append(List.of(j("a", 0, counts(READ, 1, 512), 0)));
        assertEquals(
                List.of(d(2, v("a", 0, counts(WRITE, 1, 4096), 0)), d(3, v("a", 0, counts(READ, 1, 512), 0))),
                restored.unacked());
    }

    @Test
    void deltasAreNumberedFromOneOncePreviousOnesWereSent() {
        assertEquals("run-1", stream.runId());
        assertEquals(0, stream.lastSeq());
        stream.append(List.of());
        assertEquals(0, stream.lastSeq(), "nothing to send: no number");
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 4096), 0)));
        assertEquals(1, stream.lastSeq());
        assertEquals(List.of(d(1, v("a", 0, counts(WRITE, 1, 4096), 0))), stream.takeUnsent());
        assertEquals(List.of(), stream.takeUnsent());
        stream.append(List.of(j("a", 0, counts(READ, 1, 512), 1), j("b", 0, counts(WRITE, 2, 512), 0)));
        assertEquals(2, stream.lastSeq());
        assertEquals(
                List.of(d(2, v("a", 0, counts(READ, 1, 512), 1), v("b", 0, counts(WRITE, 2, 512), 0))),
                stream.takeUnsent());
    }

    @Test
    void anUnsentTailTakesLaterCountsPerVolumeAndGeneration() {
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 4096), 3), j("b", 0, counts(READ, 1, 512), 0)));
        // a reset of a, with more counts of b, while nothing could be sent
        stream.append(List.of(
                j("a", 0, counts(WRITE, 1, 4096), 2),
                j("a", 1, CounterSet.empty(), 2),
                j("b", 0, counts(READ, 1, 512), 0),
                j("a", 1, counts(READ, 1, 1024), 1)));
        assertEquals(1, stream.lastSeq(), "merged, not numbered anew");
        // a's closing counts stay ahead of its new generation; in-flight is the latest level
        assertEquals(
                List.of(d(
                        1,
                        v("a", 0, counts(WRITE, 2, 4096), 2),
                        v("b", 0, counts(READ, 2, 512), 0),
                        v("a", 1, counts(READ, 1, 1024), 1))),
                stream.takeUnsent());
    }

    @Test
    void aSentDeltaIsNeverChanged() {
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 4096), 0)));
        List<StatsDelta> sent = stream.takeUnsent();
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 4096), 0)));
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 4096), 0)));
        assertEquals(2, stream.lastSeq());
        assertEquals(List.of(sent.get(0), d(2, v("a", 0, counts(WRITE, 2, 4096), 0))), stream.unacked());
    }

    @Test
    void aNewStreamResendsEverythingNotAcknowledged() {
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 1), 0)));
        stream.takeUnsent();
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 2), 0)));
        stream.takeUnsent();
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 3), 0)));
        List<StatsDelta> all = stream.unacked();
        assertEquals(List.of(1L, 2L, 3L), all.stream().map(StatsDelta::getSeq).toList());

        stream.resendAll();
        assertEquals(all, stream.takeUnsent());
        stream.ack(2);
        assertEquals(List.of(all.get(2)), stream.unacked());
        stream.resendAll();
        assertEquals(List.of(all.get(2)), stream.takeUnsent());
        stream.ack(3);
        assertEquals(List.of(), stream.unacked());
        stream.resendAll();
        assertEquals(List.of(), stream.takeUnsent());
        stream.ack(1); // an old ack changes nothing
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 4), 0)));
        assertEquals(4, stream.lastSeq());
    }

    @Test
    void theAckedSeqIsTheLastNumberBeforeTheFirstKept() {
        assertEquals(0, stream.ackedSeq());
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 1), 0)));
        assertEquals(0, stream.ackedSeq(), "1 is kept");
        stream.takeUnsent();
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 2), 0)));
        stream.takeUnsent();
        stream.append(List.of(j("a", 0, counts(WRITE, 1, 3), 0)));
        stream.ack(1);
        assertEquals(1, stream.ackedSeq());
        stream.ack(3);
        assertEquals(3, stream.ackedSeq(), "none kept: every number handed out");
        stream.ack(2); // an old ack changes nothing
        assertEquals(3, stream.ackedSeq());
    }

    @Test
    void aRestoredRunGoesOnWithItsNumberingAndNeverMergesIntoWhatItMayHaveSent() {
        // The checkpoint is saved before a delta leaves: seq 7 may have reached the controller.
        StatsDelta six = d(6, v("a", 0, counts(WRITE, 1, 4096), 0));
        StatsDelta seven = d(7, v("a", 0, counts(WRITE, 1, 512), 0));
        DeltaStream restored = new DeltaStream("run-1", 7, List.of(six, seven));
        assertEquals("run-1", restored.runId());
        assertEquals(7, restored.lastSeq());
        restored.append(List.of(j("a", 0, counts(READ, 1, 1024), 0)));
        assertEquals(8, restored.lastSeq());
        assertEquals(List.of(six, seven, d(8, v("a", 0, counts(READ, 1, 1024), 0))), restored.unacked());
        restored.resendAll(); // what the link does on its first stream
        assertEquals(restored.unacked(), restored.takeUnsent());
    }
}
