package dev.dmp.agent.link;

import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeDelta;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The agent's numbered deltas: hands out sequence numbers within a run, keeps each delta until the
 * controller acknowledges it, and says which ones still have to be sent. While a delta has not been
 * sent to anyone, later counts are merged into it instead of opening a new number, so a long outage
 * costs one delta, not one per second. A delta that went out on a stream is never changed again: the
 * controller may have applied it.
 */
public final class DeltaStream {

    private static final class Entry {
        StatsDelta delta;
        boolean sent;

        Entry(StatsDelta delta) {
            this.delta = delta;
        }
    }

    private final String runId;
    private long lastSeq;
    private final LinkedHashMap<Long, Entry> unacked = new LinkedHashMap<>();

    /** A fresh run. */
    public DeltaStream() {
        this(UUID.randomUUID().toString(), 0, List.of());
    }

    /** A run restored from a checkpoint: its numbering goes on, its unacknowledged deltas are sent again. */
    public DeltaStream(String runId, long lastSeq, List<StatsDelta> unacked) {
        this.runId = runId;
        this.lastSeq = lastSeq;
        for (StatsDelta d : unacked) {
            // The checkpoint is saved before a delta is sent, so each of these may have been applied:
            // counted as sent, new counts never merge into them; the first stream's resendAll sends them.
            Entry e = new Entry(d);
            e.sent = true;
            this.unacked.put(d.getSeq(), e);
            // A checkpoint whose last number is behind its own deltas (damaged, or hand-edited) must not
            // make the next delta reuse one of their numbers.
            this.lastSeq = Math.max(this.lastSeq, d.getSeq());
        }
    }

    public String runId() {
        return runId;
    }

    public synchronized long lastSeq() {
        return lastSeq;
    }

    /** Adds the journal's new counts: merged into the last delta if it was never sent, else numbered anew. */
    public synchronized void append(List<StatsJournal.Delta> deltas) {
        if (deltas.isEmpty()) {
            return;
        }
        Entry tail = unacked.isEmpty() ? null : unacked.get(lastSeq);
        if (tail != null && !tail.sent) {
            tail.delta = merge(tail.delta, deltas);
            return;
        }
        StatsDelta d = merge(StatsDelta.newBuilder().setSeq(++lastSeq).build(), deltas);
        unacked.put(d.getSeq(), new Entry(d));
    }

    /**
     * Adds the counts per (volume, generation) in first-seen order, so a reset's closing delta stays
     * ahead of the new generation's; in-flight takes the latest level.
     */
    private static StatsDelta merge(StatsDelta into, List<StatsJournal.Delta> deltas) {
        Map<String, VolumeDelta.Builder> byKey = new LinkedHashMap<>();
        for (VolumeDelta v : into.getVolumesList()) {
            byKey.put(v.getVolume() + "\0" + v.getGeneration(), v.toBuilder());
        }
        for (StatsJournal.Delta d : deltas) {
            VolumeDelta.Builder b = byKey.get(d.volume() + "\0" + d.generation());
            if (b == null) {
                byKey.put(
                        d.volume() + "\0" + d.generation(),
                        VolumeDelta.newBuilder()
                                .setVolume(d.volume())
                                .setGeneration(d.generation())
                                .addAllOps(d.counts().toProto())
                                .setInFlight(d.inFlight()));
            } else {
                dev.dmp.proto.CounterSet sum = dev.dmp.proto.CounterSet.fromProto(b.getOpsList());
                sum.add(d.counts());
                b.clearOps().addAllOps(sum.toProto()).setInFlight(d.inFlight());
            }
        }
        StatsDelta.Builder out = into.toBuilder().clearVolumes();
        byKey.values().forEach(out::addVolumes);
        return out.build();
    }

    /** Deltas not yet sent on the current stream, oldest first; they count as sent from now on. */
    public synchronized List<StatsDelta> takeUnsent() {
        List<StatsDelta> out = new ArrayList<>();
        for (Entry e : unacked.values()) {
            if (!e.sent) {
                e.sent = true;
                out.add(e.delta);
            }
        }
        return out;
    }

    /** A new stream: every unacknowledged delta has to go out again. */
    public synchronized void resendAll() {
        unacked.values().forEach(e -> e.sent = false);
    }

    /** The controller applied everything up to {@code seq}. */
    public synchronized void ack(long seq) {
        unacked.keySet().removeIf(s -> s <= seq);
        notifyAll();
    }

    /** Waits until the controller has acknowledged every delta, or the time is up; true if it has. */
    public synchronized boolean awaitAcked(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!unacked.isEmpty()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            wait(left);
        }
        return true;
    }

    /** The highest sequence number the controller acknowledged in this run (0 if none): all before the first kept. */
    public synchronized long ackedSeq() {
        return unacked.isEmpty() ? lastSeq : unacked.firstEntry().getKey() - 1;
    }

    /** Every unacknowledged delta, for a checkpoint. */
    public synchronized List<StatsDelta> unacked() {
        return unacked.values().stream().map(e -> e.delta).toList();
    }
}
