package dev.dmp.agent.backend;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.protocol.NbdUri;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Forwards every request to an upstream NBD server over one connection, like nbdkit's nbd plugin, so
 * that dmp counts the I/O of any existing NBD server. Size and capabilities are the upstream export's.
 * What the upstream does not support is emulated where the meaning allows (FUA as write then flush,
 * WRITE_ZEROES as writes) or dropped where it is only a hint (TRIM, CACHE). Upstream errors reach the
 * client unchanged. All of dmp's connections share the one upstream connection, so a FLUSH on any of
 * them covers every write completed on all of them: multi-conn is always true.
 */
public final class NbdBackend implements Backend {
    private final NbdClient upstream;

    private NbdBackend(NbdClient upstream) {
        this.upstream = upstream;
    }

    public static NbdBackend connect(NbdUri uri) throws IOException {
        return new NbdBackend(NbdClient.connect(uri));
    }

    @Override
    public long size() {
        return upstream.size();
    }

    @Override
    public boolean isReadOnly() {
        return upstream.has(NBD_FLAG_READ_ONLY);
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int n = Math.min(dst.remaining(), upstream.maxBlock());
            ByteBuffer chunk = dst.slice(dst.position(), n);
            check(upstream.request(NBD_CMD_READ, 0, position, n, chunk), "READ", position, n);
            dst.position(dst.position() + n);
            position += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        boolean nativeFua = fua && upstream.has(NBD_FLAG_SEND_FUA);
        long position = offset;
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), upstream.maxBlock());
            ByteBuffer chunk = src.slice(src.position(), n);
            check(
                    upstream.request(NBD_CMD_WRITE, nativeFua ? NBD_CMD_FLAG_FUA : 0, position, n, chunk),
                    "WRITE",
                    position,
                    n);
            src.position(src.position() + n);
            position += n;
        }
        if (fua && !nativeFua) {
            flush();
        }
    }

    @Override
    public void flush() throws IOException {
        if (upstream.has(NBD_FLAG_SEND_FLUSH)) {
            check(upstream.request(NBD_CMD_FLUSH, 0, 0, 0, null), "FLUSH", 0, 0);
        }
    }

    @Override
    public void trim(long offset, long length, boolean fua) throws IOException {
        if (upstream.has(NBD_FLAG_SEND_TRIM)) {
            boolean nativeFua = fua && upstream.has(NBD_FLAG_SEND_FUA);
            check(
                    upstream.request(NBD_CMD_TRIM, nativeFua ? NBD_CMD_FLAG_FUA : 0, offset, length, null),
                    "TRIM",
                    offset,
                    length);
            if (fua && !nativeFua) {
                flush();
            }
        } else if (fua) {
            flush();
        }
    }

    @Override
    public void zero(long offset, long length, boolean mayTrim, boolean fast, boolean fua) throws IOException {
        if (!upstream.has(NBD_FLAG_SEND_WRITE_ZEROES) || (fast && !upstream.has(NBD_FLAG_SEND_FAST_ZERO))) {
            Backend.super.zero(offset, length, mayTrim, fast, fua);
            return;
        }
        boolean nativeFua = fua && upstream.has(NBD_FLAG_SEND_FUA);
        int flags = (nativeFua ? NBD_CMD_FLAG_FUA : 0)
                | (mayTrim ? 0 : NBD_CMD_FLAG_NO_HOLE)
                | (fast ? NBD_CMD_FLAG_FAST_ZERO : 0);
        check(upstream.request(NBD_CMD_WRITE_ZEROES, flags, offset, length, null), "WRITE_ZEROES", offset, length);
        if (fua && !nativeFua) {
            flush();
        }
    }

    @Override
    public void cache(long offset, long length) throws IOException {
        if (upstream.has(NBD_FLAG_SEND_CACHE)) {
            check(upstream.request(NBD_CMD_CACHE, 0, offset, length, null), "CACHE", offset, length);
        }
    }

    private void check(NbdClient.Result result, String command, long offset, long length) throws BackendException {
        if (result.error() != NBD_OK) {
            throw new BackendException(
                    result.error(),
                    "upstream " + describe() + ": " + command + " at offset " + offset + ", length " + length
                            + ": " + errorName(result.error())
                            + (result.message().isEmpty() ? "" : ": " + result.message()));
        }
    }

    /**
     * The upstream's own base:allocation extents, asked again until the range is covered (a server may
     * answer a part), when it has block status; all data when it has none.
     */
    @Override
    public void extents(Extents extents) throws IOException {
        if (!upstream.hasBlockStatus()) {
            Backend.super.extents(extents);
            return;
        }
        while (extents.wantsMore()) {
            long before = extents.covered();
            long at = extents.next();
            check(upstream.blockStatus(extents), "BLOCK_STATUS", at, extents.remaining());
            if (extents.covered() == before) {
                throw new BackendException(
                        NBD_EIO, "upstream " + describe() + ": BLOCK_STATUS at offset " + at + " described nothing");
            }
        }
    }

    /** The upstream's minimum block size: dmp refuses what the upstream would, before asking it. */
    @Override
    public int minimumBlockSize() {
        return upstream.minBlock();
    }

    @Override
    public String describe() {
        return "nbd:" + upstream;
    }

    @Override
    public void close() throws IOException {
        upstream.close();
    }
}
