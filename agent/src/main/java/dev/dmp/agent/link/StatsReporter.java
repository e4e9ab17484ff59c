package dev.dmp.agent.link;

import dev.dmp.agent.state.CheckpointFile;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.v1.AgentCheckpoint;
import dev.dmp.proto.v1.CreateVolume;
import dev.dmp.proto.v1.VolumeState;
import java.io.IOException;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import org.jboss.logging.Logger;

/**
 * Once a second (and after every command and every volume created or deleted): drains the journal into
 * the delta stream, saves the checkpoint, then lets the controller link send what is new. The
 * checkpoint is durable before a delta leaves the agent, so whatever the controller may have applied, a
 * restarted agent knows it sent (see docs/stats-protocol.md). A tick runs under this reporter's lock,
 * and so does what the link asks to send after one ({@link #tickThen}, {@link #exclusively}), so deltas,
 * command results and checkpoints keep one order.
 */
public final class StatsReporter implements VolumeRegistry.Listener, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StatsReporter.class);
    static final long INTERVAL_MS = 1000;

    private final Object lock = new Object();
    private final VolumeRegistry registry;
    private final StatsJournal journal;
    private final DeltaStream deltas;
    private final CheckpointFile checkpoint;
    private final Predicate<String> kernel;
    /** A kernel volume's own request timeout in seconds (0: the agent's), kept for the next start's attach. */
    private final ToLongFunction<String> kernelTimeout;

    private final Thread thread;
    private volatile Runnable sender = () -> {};
    private volatile boolean running = true;
    private boolean volumesChanged = true;
    /** The checkpoint of the last tick that numbered deltas (saved or not), or null before the first. */
    private AgentCheckpoint lastBuilt;

    /** {@code kernel} tells which volumes asked for a kernel device, so that the next start attaches them again. */
    public StatsReporter(
            VolumeRegistry registry,
            StatsJournal journal,
            DeltaStream deltas,
            CheckpointFile checkpoint,
            Predicate<String> kernel,
            ToLongFunction<String> kernelTimeout) {
        this.kernel = kernel;
        this.kernelTimeout = kernelTimeout;
        this.registry = registry;
        this.journal = journal;
        this.deltas = deltas;
        this.checkpoint = checkpoint;
        this.thread = Thread.ofPlatform().name("stats-reporter").daemon().unstarted(this::loop);
    }

    public DeltaStream deltas() {
        return deltas;
    }

    /** A volume was created: the checkpoint follows at once, so a killed agent restarts with it. */
    @Override
    public void created(Volume volume) {
        volumesChanged();
        tick();
    }

    /** A volume was deleted: the checkpoint follows at once. */
    @Override
    public void deleted(Volume volume) {
        volumesChanged();
        tick();
    }

    /** What to call, under the lock, after each checkpoint: the link sends the new deltas. */
    void onCheckpoint(Runnable sender) {
        this.sender = sender;
    }

    public void start() {
        thread.start();
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(INTERVAL_MS);
            } catch (InterruptedException e) {
                return;
            }
            tick();
        }
    }

    /** Volumes were created or deleted: the next tick saves a checkpoint even if no counts changed. */
    public void volumesChanged() {
        synchronized (lock) {
            volumesChanged = true;
        }
    }

    public void tick() {
        tickThen(() -> {});
    }

    /**
     * A tick, then {@code after} under the same lock: what the link sends after the counts made so far
     * (a command's result, an announcement), so nothing overtakes them. {@code after} runs even when the
     * checkpoint could not be saved (it sends no counts).
     */
    public void tickThen(Runnable after) {
        synchronized (lock) {
            tickLocked();
            after.run();
        }
    }

    /** Runs {@code action} with no tick in between: a new stream's first messages. */
    void exclusively(Runnable action) {
        synchronized (lock) {
            action.run();
        }
    }

    /**
     * The volumes' counts as the deltas up to {@link DeltaStream#lastSeq} add up to, for a Hello; the
     * caller holds the lock ({@link #exclusively}, {@link #tickThen}). Taken from the last tick's
     * checkpoint, not from the journal now: between ticks a reset has already moved the journal's
     * counts past its closing delta, which has no number yet.
     */
    AgentCheckpoint countsAsOfLastSeq() {
        if (lastBuilt == null) {
            lastBuilt = build(); // before the first tick: the journal is as the checkpoint restored it
        }
        return lastBuilt;
    }

    /** Drains the journal, checkpoints, and lets the link send; the caller holds the lock. */
    private void tickLocked() {
        List<StatsJournal.Delta> drained = journal.drain();
        long before = deltas.lastSeq();
        deltas.append(drained);
        if (volumesChanged || !drained.isEmpty() || deltas.lastSeq() != before) {
            try {
                lastBuilt = build();
                checkpoint.save(lastBuilt);
                volumesChanged = false;
            } catch (IOException e) {
                // Not sending what is not saved keeps the controller from ever being ahead of us.
                LOG.errorf(
                        "cannot save the checkpoint %s: %s; stats are held back until it works",
                        checkpoint.path(), e.getMessage());
                return;
            }
        }
        sender.run();
    }

    private AgentCheckpoint build() {
        AgentCheckpoint.Builder cp = AgentCheckpoint.newBuilder()
                .setRunId(deltas.runId())
                .setLastSeq(deltas.lastSeq())
                .addAllUnacked(deltas.unacked());
        for (StatsJournal.VolumeCheckpoint v : journal.checkpoint()) {
            Volume volume = registry.get(v.volume());
            if (volume == null) {
                continue;
            }
            cp.addVolumes(VolumeState.newBuilder()
                    .setSpec(CreateVolume.newBuilder()
                            .setName(v.volume())
                            .setBackend(volume.spec())
                            .setReadOnly(volume.readOnly())
                            .setKernel(kernel.test(v.volume()))
                            .setKernelTimeoutSeconds((int) kernelTimeout.applyAsLong(v.volume())))
                    .setGeneration(v.generation())
                    .addAllCumulative(v.reported().toProto())
                    .addAllBaseline(v.baseline().toProto()));
        }
        return cp.build();
    }

    /** A last tick, so a graceful stop loses nothing. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        tick();
    }
}
