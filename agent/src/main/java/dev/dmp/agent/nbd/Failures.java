package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.NBD_EIO;

import dev.dmp.agent.backend.BackendException;
import org.jboss.logging.Logger;

/** What a backend's failure becomes in a reply: its NBD error, and a message for people. */
final class Failures {
    private static final Logger LOG = Logger.getLogger(Failures.class);

    private Failures() {}

    /**
     * The backend's own NBD error (a full disk is NBD_ENOSPC, told by the file backend from its errno;
     * an upstream's error is passed on), else NBD_EIO, logged: nobody expected it.
     */
    static int error(Exception e) {
        if (e instanceof BackendException be) {
            LOG.debugf("error %d: %s", be.nbdError(), be.getMessage());
            return be.nbdError();
        }
        LOG.warnf("backend failure: %s", e.toString());
        return NBD_EIO;
    }

    /** "READ at offset 4096, length 512 failed: ..." */
    static String message(Received r, long offset, long length, Exception e) {
        return r.commandName() + " at offset " + offset + ", length " + length + " failed: " + e.getMessage();
    }
}
