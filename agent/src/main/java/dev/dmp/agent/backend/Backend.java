package dev.dmp.agent.backend;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Where a volume's bytes go. A chain of backends serves a volume: a filter (such as the stats filter)
 * implements this interface and passes what it does not care about to the next one, as nbdkit's
 * filters do. Requests reach a backend already checked against {@link #size()}; implementations
 * must be safe for concurrent calls.
 */
public interface Backend extends AutoCloseable {

    /** Size in bytes, fixed for the life of the backend. */
    long size();

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src} from its position to its limit at {@code offset}; durable before returning if {@code fua}. */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /** Makes every completed write durable. */
    void flush() throws IOException;

    /** A short description for logs and listings, e.g. {@code file:/var/lib/dmp/disk.img}. */
    String describe();

    @Override
    void close() throws IOException;
}
