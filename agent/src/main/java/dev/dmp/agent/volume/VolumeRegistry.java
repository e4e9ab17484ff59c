package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.FileBackend;
import dev.dmp.agent.backend.ZeroBackend;
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

    private final ConcurrentSkipListMap<String, Volume> volumes = new ConcurrentSkipListMap<>();
    private final StatsJournal journal;

    public VolumeRegistry(StatsJournal journal) {
        this.journal = journal;
    }

    /**
     * Opens the backend and starts serving a new volume. Nothing changes when it fails. Idempotent: a
     * volume that exists with the same spec is returned as it is; with another spec it is ALREADY_EXISTS.
     */
    public synchronized Volume create(String name, dev.dmp.proto.v1.Backend spec) throws VolumeException {
        String problem = VolumeName.problem(name);
        if (problem != null) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, problem);
        }
        Volume existing = volumes.get(name);
        if (existing != null) {
            if (existing.spec().equals(spec)) {
                return existing;
            }
            throw new VolumeException(Status.Code.ALREADY_EXISTS, "volume '" + name
                    + "' already exists with another backend; delete it first or choose another name");
        }
        Backend backend = open(spec);
        Volume volume = new Volume(name, spec, backend);
        volumes.put(name, volume);
        journal.add(name, volume.stats());
        LOG.infof("volume %s created on %s, %d bytes", name, backend.describe(), backend.size());
        return volume;
    }

    private static Backend open(dev.dmp.proto.v1.Backend spec) throws VolumeException {
        try {
            return switch (spec.getKindCase()) {
                case ZERO -> new ZeroBackend(spec.getZero().getSizeBytes());
                case FILE -> openFile(spec.getFile().getPath());
                case KIND_NOT_SET -> throw new VolumeException(Status.Code.INVALID_ARGUMENT,
                        "a backend is required: zero {sizeBytes} or file {path}");
            };
        } catch (IllegalArgumentException e) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, e.getMessage());
        }
    }

    private static Backend openFile(String path) throws VolumeException {
        if (path.isEmpty() || !Path.of(path).isAbsolute()) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT,
                    "file backend: path must be absolute, got '" + path + "'");
        }
        try {
            return FileBackend.open(Path.of(path));
        } catch (IOException e) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, "file backend: cannot open " + path + ": " + e);
        }
    }

    /** Stops serving a volume and closes its backend. */
    public synchronized void delete(String name) throws VolumeException {
        Volume volume = volumes.remove(name);
        if (volume == null) {
            throw new VolumeException(Status.Code.NOT_FOUND, "volume '" + name + "' does not exist");
        }
        journal.remove(name);
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

    @Override
    public synchronized void close() {
        for (String name : new ArrayList<>(volumes.keySet())) {
            try {
                delete(name);
            } catch (VolumeException e) {
                // Already gone: nothing to close.
            }
        }
    }
}
