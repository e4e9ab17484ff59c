package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import java.util.function.Supplier;

/**
 * A volume as the NBD server sees it: the chain each request of a connection runs through, the
 * transmission loop calling {@code observers} (one {@link RequestObserver} per connection: the
 * volume's counters) and {@code backend} (where the bytes go). Made where the volume is assembled
 * ({@code dev.dmp.agent.volume.VolumeFactory}); {@code readOnly} is the volume's flag, and a backend
 * that cannot write makes the export refuse writes too.
 */
public record Export(
        String name,
        Backend backend,
        boolean readOnly,
        Supplier<RequestObserver> observers,
        String description,
        ExportConnections connections) {

    /** An export described by its backend alone. */
    public Export(String name, Backend backend, boolean readOnly, Supplier<RequestObserver> observers) {
        this(name, backend, readOnly, observers, backend.describe());
    }

    /** A new volume's export: no connection yet. */
    public Export(
            String name, Backend backend, boolean readOnly, Supplier<RequestObserver> observers, String description) {
        this(name, backend, readOnly, observers, description, new ExportConnections());
    }

    /** The same export with no observer: what the benchmark's uncounted socket serves (its connections count too). */
    public Export unobserved() {
        return new Export(name, backend, readOnly, () -> RequestObserver.NONE, description, connections);
    }

    /** NBD_INFO_BLOCK_SIZE's minimum: the backend's (an upstream's, a block device's logical block size). */
    public int minimumBlockSize() {
        return backend.minimumBlockSize();
    }

    /** True when writes, trims and zeroing get NBD_EPERM. */
    public boolean refusesWrites() {
        return readOnly || backend.isReadOnly();
    }

    /** Transmission flags advertised for this export. */
    public int transmissionFlags() {
        int flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_CACHE;
        if (refusesWrites()) {
            flags |= NBD_FLAG_READ_ONLY;
        } else {
            // FAST_ZERO is advertised whether or not the backend can zero fast: a quick NBD_ENOTSUP is
            // a valid answer (spec, NBD_CMD_WRITE_ZEROES), and saves a client a slow probe.
            flags |= NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES | NBD_FLAG_SEND_FAST_ZERO;
        }
        // A backend with one shared store (one open file, one map, one upstream connection) makes a FLUSH
        // on any connection cover writes completed on all of them.
        if (backend.canMultiConn()) {
            flags |= NBD_FLAG_CAN_MULTI_CONN;
        }
        return flags;
    }
}
