package dev.dmp.agent.nbd;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.stats.VolumeStats;

/**
 * A volume as an NBD server sees it: an export name, the backend that serves its requests and the
 * counters each connection records its requests in.
 */
public record Export(String name, Backend backend, VolumeStats stats) {

    /** Transmission flags advertised for this export. */
    public int transmissionFlags() {
        // Every backend shares one open file (or none) across connections, so a FLUSH on any
        // connection covers writes completed on all of them: multi-conn is safe.
        return NbdProtocol.NBD_FLAG_HAS_FLAGS | NbdProtocol.NBD_FLAG_SEND_FLUSH | NbdProtocol.NBD_FLAG_SEND_FUA
                | NbdProtocol.NBD_FLAG_CAN_MULTI_CONN;
    }
}
