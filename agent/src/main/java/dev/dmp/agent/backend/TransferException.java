package dev.dmp.agent.backend;

import java.io.IOException;

/**
 * A {@link Backend#transferTo} that failed part-way: how many bytes reached the target first, so that
 * a structured reply can complete its chunk and say where the data stopped.
 */
public final class TransferException extends IOException {
    private final long transferred;

    public TransferException(long transferred, Throwable cause) {
        super(cause.getMessage(), cause);
        this.transferred = transferred;
    }

    public long transferred() {
        return transferred;
    }
}
