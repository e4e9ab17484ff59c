package dev.dmp.agent.backend;

import dev.dmp.agent.protocol.NbdProtocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;

/**
 * Where a volume's bytes go: the end of the chain every request of a volume runs through (the NBD
 * transmission loop, then the volume's observers, then this; see {@code dev.dmp.agent.volume.VolumeFactory}).
 * Requests reach a backend already checked against {@link #size()} and against the volume's read-only
 * flag; implementations must be safe for concurrent calls. A backend is opened from its spec by
 * {@code dev.dmp.agent.volume.BackendFactory}, which is where a new kind of backend is added.
 *
 * <p>A backend reports a refusal the client should see with a precise NBD error by throwing
 * {@link BackendException}; any other {@link IOException} reaches the client as NBD_EIO.
 */
public interface Backend extends AutoCloseable {

    /** Size in bytes, fixed for the life of the backend. */
    long size();

    /** Fills {@code dst} from its position to its limit with the bytes at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /**
     * True when {@link #transferTo} can send a range straight from the backend into a socket without
     * copying it through a buffer of ours (a file: sendfile(2)).
     */
    default boolean canTransferTo() {
        return false;
    }

    /**
     * Sends {@code length} bytes at {@code offset} into {@code target}, a blocking socket, whole. Only
     * called when {@link #canTransferTo} is true. A failure part-way leaves the target with part of the
     * data: the caller must then close it.
     */
    default void transferTo(long offset, long length, WritableByteChannel target) throws IOException {
        throw new UnsupportedOperationException(describe() + " cannot transfer to a channel");
    }

    /** Writes {@code src} from its position to its limit at {@code offset}; durable before returning if {@code fua}. */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /** Makes every completed write durable. */
    void flush() throws IOException;

    /**
     * A hint that {@code length} bytes at {@code offset} are no longer needed (NBD_CMD_TRIM): the
     * backend may discard them, and what they read afterwards is unspecified. The default ignores it.
     */
    default void trim(long offset, long length, boolean fua) throws IOException {
        if (fua) {
            flush();
        }
    }

    /**
     * Makes {@code length} bytes at {@code offset} read back as zeroes (NBD_CMD_WRITE_ZEROES).
     * {@code mayTrim}: the range may become a hole (false for NBD_CMD_FLAG_NO_HOLE). {@code fast}: fail
     * with NBD_ENOTSUP, changing nothing, unless it is faster than writing zeroes (NBD_CMD_FLAG_FAST_ZERO).
     * The default writes zeroes.
     */
    default void zero(long offset, long length, boolean mayTrim, boolean fast, boolean fua) throws IOException {
        if (fast) {
            throw new BackendException(NbdProtocol.NBD_ENOTSUP, "no fast zeroing: " + describe());
        }
        Zeroes.write(this, offset, length, fua);
    }

    /** A hint that the range will be read soon (NBD_CMD_CACHE). The default ignores it. */
    default void cache(long offset, long length) throws IOException {}

    /**
     * True when a FLUSH on one connection makes durable the writes completed on every connection, so
     * NBD_FLAG_CAN_MULTI_CONN may be advertised. True for backends with one shared store.
     */
    default boolean canMultiConn() {
        return true;
    }

    /** True when the backend refuses writes whatever the volume says (e.g. a read-only upstream). */
    default boolean isReadOnly() {
        return false;
    }

    /** A short description for logs and listings, e.g. {@code file:/var/lib/dmp/disk.img}. */
    String describe();

    @Override
    void close() throws IOException;
}
