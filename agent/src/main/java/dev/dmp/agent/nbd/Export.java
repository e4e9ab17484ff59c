package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.stats.VolumeStats;

/**
/**
 * A volume as an NBD server sees it: an export name, the backend that serves its requests, the
 * counters each connection records its requests in, and whether it refuses writes (the volume's
 * flag, or a backend that cannot write).
 */
public record Export(String name, Backend backend, VolumeStats stats, boolean readOnly) {

    public Export(String name, Backend backend, VolumeStats stats) {
        this(name, backend, stats, false);
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
