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
     * data, and is a {@link TransferException} saying how much: the caller completes its framing or
     * closes the target.
     */
    default void transferTo(long offset, long length, WritableByteChannel target) throws IOException {
        throw new UnsupportedOperationException(describe() + " cannot transfer to a channel");
    }

    /**
     * How many of the {@code length} bytes at {@code offset} {@link #transferTo} has to send as things
     * stand: all of them, unless the backend knows it ends before the range does (a file that shrank
     * under its volume). A READ sent as one final chunk asks first, so that a failure it could have
     * foreseen still gets an error chunk rather than a closed connection.
     */
    default long transferable(long offset, long length) {
        return length;
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

    /**
     * Describes the allocation of {@code extents}' range ({@code base:allocation}): adds consecutive
     * extents from its start while it {@link Extents#wantsMore wants more}. NBD_STATE_ZERO on an extent
     * is a promise that it reads as zeroes (a READ may then send it as a hole); NBD_STATE_HOLE that it
     * takes no space. The default knows nothing: all data. Implementations take a few system calls per
     * extent at most, never one per block.
     */
    default void extents(Extents extents) throws IOException {
        extents.add(extents.remaining(), 0);
    }

    /**
     * The smallest alignment and length requests to this backend must have (NBD_INFO_BLOCK_SIZE's
     * minimum): 1 for a file or memory, a block device's logical block size, an upstream NBD server's
     * own minimum. A power of 2 no larger than 65536.
     */
    default int minimumBlockSize() {
        return 1;
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
