package dev.dmp.agent.backend;

import java.io.IOException;

/**
 * A failed request whose NBD error the client should see exactly (for example NBD_ENOTSUP for a
 * fast zero the backend cannot do fast, or an error passed on from an upstream server).
 * Error values are the spec's {@code NBD_E*} ({@link dev.dmp.agent.protocol.NbdProtocol}).
 */
public class BackendException extends IOException {

    private final int nbdError;

    public BackendException(int nbdError, String message) {
        super(message);
        this.nbdError = nbdError;
    }

    public int nbdError() {
        return nbdError;
    }
}
