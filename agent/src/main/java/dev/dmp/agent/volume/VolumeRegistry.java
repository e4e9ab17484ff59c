package dev.dmp.agent.volume;

import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.VolumeName;
import io.grpc.Status;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jboss.logging.Logger;

/**
 * The volumes this agent serves, by name. Creation and deletion are serialised; lookups are
 * lock-free. Listeners are told of each change after the registry's lock is released, so a listener
 * may take locks of its own (the controller link, the stats reporter) without an order to keep with it.
 */
public final class VolumeRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VolumeRegistry.class);

    /** Told of every volume that starts or stops being served. */
    public interface Listener {
        void created(Volume volume);

        void deleted(Volume volume);
    }

    private final ConcurrentSkipListMap<String, Volume> volumes = new ConcurrentSkipListMap<>();
    private final StatsJournal journal;
    private final VolumeFactory factory;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public VolumeRegistry(StatsJournal journal, VolumeFactory factory) {
        this.journal = journal;
        this.factory = factory;
    }

    /** Adds a listener; it is told of changes from now on, in the order listeners were added. */
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    /**
     * Opens the backend and starts serving a new volume. Nothing changes when it fails. Idempotent: a
     * volume that exists with the same spec is returned as it is; with another spec it is ALREADY_EXISTS.
     */
    public Volume create(String name, dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException {
        Volume volume;
        synchronized (this) {
            Volume existing = volumes.get(name);
            if (existing != null) {
                if (existing.spec().equals(spec)) {
                    return existing;
                }
                throw new VolumeException(
                        Status.Code.ALREADY_EXISTS,
                        "volume '" + name
                                + "' already exists with another backend; delete it first or choose another name");
            }
            volume = open(name, spec, readOnly);
            journal.add(name, volume.stats());
        }
        LOG.infof(
                "volume %s created on %s, %d bytes%s",
                name, volume.backend().describe(), volume.size(), volume.readOnly() ? ", read-only" : "");
        listeners.forEach(l -> l.created(volume));
        return volume;
    }

    /**
     * Serves again a volume of a previous run, with the counts its checkpoint saved. At start-up,
     * before any listener is added: nobody is told.
     */
    public synchronized Volume restore(
            String name, dev.dmp.proto.v1.Backend spec, boolean readOnly, StatsJournal.VolumeCheckpoint saved)
            throws VolumeException {
        Volume volume = open(name, spec, readOnly);
        journal.restore(name, volume.stats(), saved);
        LOG.infof(
                "volume %s restored on %s, %d bytes (generation %d)",
                name, volume.backend().describe(), volume.size(), saved.generation());
        return volume;
    }

    private Volume open(String name, dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException {
        String problem = VolumeName.problem(name);
        if (problem != null) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, problem);
        }
        if (volumes.containsKey(name)) {
            throw new VolumeException(Status.Code.ALREADY_EXISTS, "volume '" + name + "' already exists");
        }
        Volume volume = factory.make(name, spec, readOnly);
        volumes.put(name, volume);
        return volume;
    }

    /** Stops serving a volume and closes its backend. */
    public void delete(String name) throws VolumeException {
        Volume volume;
        synchronized (this) {
            volume = volumes.remove(name);
            if (volume == null) {
                throw new VolumeException(Status.Code.NOT_FOUND, "volume '" + name + "' does not exist");
            }
            journal.remove(name);
        }
        // Outside the lock: the close first lets the volume's NBD requests in flight finish (up to 5 s),
        // and other volumes' creates and deletes need not wait for that.
        try {
            volume.close();
        } catch (IOException e) {
            LOG.warnf("volume %s: closing its backend failed: %s", name, e);
        }
        LOG.infof("volume %s deleted", name);
        listeners.forEach(l -> l.deleted(volume));
    }

    /** The volume, or null. */
    public Volume get(String name) {
        return volumes.get(name);
    }

    /** Every volume, sorted by name. */
    public List<Volume> list() {
        return new ArrayList<>(volumes.values());
    }

    /** Closes every backend at shutdown; the volumes stay in the checkpoint and come back at the next start. */
    @Override
    public synchronized void close() {
        for (Volume volume : volumes.values()) {
            try {
                volume.close();
            } catch (IOException e) {
                LOG.warnf("volume %s: closing its backend failed: %s", volume.name(), e);
            }
        }
        volumes.clear();
    }
}
