package dev.dmp.agent.backend;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A shared read-only megabyte of zeroes, and zeroing by plain writes for backends that cannot do better. */
public final class Zeroes {
    /** Direct, so that channel writes from it need no temporary copy. */
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private Zeroes() {}

    /** A read-only buffer of {@code min(length, 1 MiB)} zero bytes, positioned at 0. */
    public static ByteBuffer upTo(long length) {
        return ZEROES.duplicate().limit((int) Math.min(ZEROES.capacity(), length));
    }

    /** Fills {@code dst} from its position to its limit with zeroes (a memcpy, not a byte loop). */
    public static void fill(ByteBuffer dst) {
        while (dst.hasRemaining()) {
            dst.put(upTo(dst.remaining()));
        }
    }

    /** Writes {@code length} zero bytes at {@code offset} through {@code backend}, a megabyte at a time. */
    public static void write(Backend backend, long offset, long length, boolean fua) throws IOException {
        long done = 0;
        while (done < length) {
            ByteBuffer chunk = upTo(length - done);
            int n = chunk.remaining();
            backend.write(offset + done, chunk, false);
            done += n;
        }
        if (fua) {
            backend.flush();
        }
    }
}
