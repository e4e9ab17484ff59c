package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.FileBackend;
import dev.dmp.agent.backend.MemoryBackend;
import dev.dmp.agent.backend.NbdBackend;
import dev.dmp.agent.backend.ZeroBackend;
import dev.dmp.agent.nbd.NbdUri;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.VolumeName;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import org.jboss.logging.Logger;

/** The volumes this agent serves, by name. Creation and deletion are serialised; lookups are lock-free. */
public final class VolumeRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VolumeRegistry.class);

    /** Told of every volume that starts or stops being served (metrics, for one). */
    public interface Listener {
        void created(Volume volume);

        void deleted(Volume volume);
    }

    private final ConcurrentSkipListMap<String, Volume> volumes = new ConcurrentSkipListMap<>();
    private final StatsJournal journal;
    private final AllowedPaths allowedPaths;
    private final java.util.List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public VolumeRegistry(StatsJournal journal, AllowedPaths allowedPaths) {
        this.journal = journal;
        this.allowedPaths = allowedPaths;
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
        volumes.values().forEach(listener::created);
    }

    /**
     * Opens the backend and starts serving a new volume. Nothing changes when it fails. Idempotent: a
     * volume that exists with the same spec is returned as it is; with another spec it is ALREADY_EXISTS.
     */
    public synchronized Volume create(String name, dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException {
        Volume existing = volumes.get(name);
        if (existing != null) {
            if (existing.spec().equals(spec)) {
                return existing;
            }
            throw new VolumeException(Status.Code.ALREADY_EXISTS, "volume '" + name
                    + "' already exists with another backend; delete it first or choose another name");
        }
        Volume volume = open(name, spec, readOnly);
        journal.add(name, volume.stats());
        LOG.infof("volume %s created on %s, %d bytes%s", name, volume.backend().describe(), volume.size(),
                volume.readOnly() ? ", read-only" : "");
        return volume;
    }

    /** Serves again a volume of a previous run, with the counts its checkpoint saved. */
    public synchronized Volume restore(String name, dev.dmp.proto.v1.Backend spec, boolean readOnly,
            StatsJournal.VolumeCheckpoint saved) throws VolumeException {
        Volume volume = open(name, spec, readOnly);
        journal.restore(name, volume.stats(), saved);
        LOG.infof("volume %s restored on %s, %d bytes (generation %d)", name, volume.backend().describe(),
                volume.size(), saved.generation());
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
        Volume volume = new Volume(name, spec, openBackend(spec, readOnly), readOnly);
        volumes.put(name, volume);
        listeners.forEach(l -> l.created(volume));
        return volume;
    }

    private Backend openBackend(dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException {
        try {
            return switch (spec.getKindCase()) {
                case ZERO -> new ZeroBackend(spec.getZero().getSizeBytes());
                case MEMORY -> new MemoryBackend(spec.getMemory().getSizeBytes());
                case FILE -> openFile(spec.getFile().getPath(), readOnly);
                case NBD -> openNbd(spec.getNbd().getUri());
                case KIND_NOT_SET -> throw new VolumeException(Status.Code.INVALID_ARGUMENT,
                        "a backend is required: zero {sizeBytes}, memory {sizeBytes}, file {path} or nbd {uri}");
            };
        } catch (IllegalArgumentException e) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, e.getMessage());
        }
    }

    private Backend openFile(String path, boolean readOnly) throws VolumeException {
        Path real = allowedPaths.check("file backend: path", path);
        try {
            return FileBackend.open(real, readOnly);
        } catch (IOException e) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, "file backend: cannot open " + path + ": " + e);
        }
    }

    private Backend openNbd(String uri) throws VolumeException {
        NbdUri parsed = NbdUri.parse(uri);
        if (parsed.socket() != null) {
            allowedPaths.check("nbd backend: socket", parsed.socket().toString());
        }
        try {
            return NbdBackend.connect(parsed);
        } catch (IOException e) {
            throw new VolumeException(Status.Code.FAILED_PRECONDITION, "nbd backend: cannot reach " + e.getMessage());
        }
    }

    /** Stops serving a volume and closes its backend. */
    public synchronized void delete(String name) throws VolumeException {
        Volume volume = volumes.remove(name);
        if (volume == null) {
            throw new VolumeException(Status.Code.NOT_FOUND, "volume '" + name + "' does not exist");
        }
        journal.remove(name);
        listeners.forEach(l -> l.deleted(volume));
        try {
            volume.close();
        } catch (IOException e) {
            LOG.warnf("volume %s: closing its backend failed: %s", name, e);
        }
        LOG.infof("volume %s deleted", name);
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
