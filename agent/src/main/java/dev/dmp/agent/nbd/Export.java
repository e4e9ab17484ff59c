package dev.dmp.agent.nbd;

import dev.dmp.agent.backend.Backend;

/** A volume as an NBD server sees it: an export name and the chain that serves its requests. */
public record Export(String name, Backend backend) {

    /** Transmission flags advertised for this export. */
    public int transmissionFlags() {
        // Every backend shares one open file (or none) across connections, so a FLUSH on any
        // connection covers writes completed on all of them: multi-conn is safe.
        return NbdProtocol.NBD_FLAG_HAS_FLAGS | NbdProtocol.NBD_FLAG_SEND_FLUSH | NbdProtocol.NBD_FLAG_SEND_FUA
                | NbdProtocol.NBD_FLAG_CAN_MULTI_CONN;
    }
}
