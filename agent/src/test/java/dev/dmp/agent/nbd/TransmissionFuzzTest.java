package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.dmp.agent.fuzz.HeapBudget;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.Wire;
import dev.dmp.agent.stats.VolumeStats;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The transmission phase as a hostile client drives it, with simple or structured replies and with or
 * without base:allocation, on a writable or read-only sparse volume: any bytes after the handshake.
 * Requests are served one at a time on the reading thread (an executor that runs each task where it is
 * handed), so the replies come in order and each run is the same. Whatever the bytes:
 *
 * <ul>
 *   <li>each request header decodes to an {@link NbdRequest} that encodes to the same 28 bytes;
 *   <li>every whole request gets exactly one reply (a simple reply, or chunks up to one with DONE), with
 *       its cookie, a READ's data only when it succeeded, an error only from the spec's list;
 *   <li>the loop ends normally at NBD_CMD_DISC or where the client stopped between requests, else with
 *       its protocol error ({@link NbdProtocolException}: a bad magic, an oversized WRITE;
 *       {@link EOFException}: a request cut short), never anything else, and never hangs;
 *   <li>its heap stays within {@link HeapBudget} plus a share for the data the READs ask for.
 * </ul>
 */
class TransmissionFuzzTest {
    private static final int SIZE = 1 << 18;
    private static final Set<Integer> SPEC_ERRORS =
            Set.of(NBD_EPERM, NBD_EIO, NBD_ENOMEM, NBD_EINVAL, NBD_ENOSPC, NBD_EOVERFLOW, NBD_ENOTSUP, NBD_ESHUTDOWN);

    /** Runs each task on the thread that hands it over: the loop's requests in order, one at a time. */
    private static final class Inline extends AbstractExecutorService {
        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public void shutdown() {}

        @Override
        public List<Runnable> shutdownNow() {
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }

    @FuzzTest
    void answersEveryRequestOnceOrEndsWithItsProtocolError(FuzzedDataProvider data) throws Exception {
        boolean structured = data.consumeBoolean();
        boolean blockStatus = data.consumeBoolean() && structured;
        boolean readOnly = data.consumeBoolean();
        int minimumBlock = data.consumeBoolean() ? 512 : 1;
        byte[] sent = data.consumeRemainingAsBytes();
        List<NbdRequest> requests = new ArrayList<>();
        boolean clean = requests(sent, requests);

        long readBytes = requests.stream()
                .filter(r -> r.type() == NBD_CMD_READ)
                .mapToLong(NbdRequest::length)
                .sum();
        ScriptedChannel[] ch = new ScriptedChannel[1];
        boolean ended;
        try {
            // Per byte a READ asks for: its reply buffer (the next power of two above data and header), the
            // backend's copies, and this test's channel, which copies all that is written into a
            // ByteArrayOutputStream that doubles as it grows (a 60 s run found 4 times too tight).
            HeapBudget.within(HeapBudget.forInput(sent.length) + 8 * readBytes, "the transmission loop", () -> {
                SparseBackend backend = new SparseBackend(SIZE, minimumBlock).data(SparseBackend.PAGE, 4096);
                Export export = new Export("fuzz", backend, readOnly, new VolumeStats()::observer);
                Session session = new Session(export, structured, blockStatus ? 1 : 0);
                ch[0] = new ScriptedChannel(sent);
                new TransmissionLoop(
                                ch[0], session, new Inline(), new BufferPool(8L << 20, ByteBuffer::allocate), false)
                        .run();
                return null;
            });
            ended = true;
        } catch (NbdProtocolException | EOFException e) {
            ended = false;
        }
        assertEquals(clean, ended, "how the loop ended, for a client whose last request was whole: " + clean);
        checkReplies(requests, ch[0].written(), structured);
    }

    /**
     * The whole requests in {@code sent}, up to NBD_CMD_DISC; true when the client stopped cleanly (at
     * DISC or between requests), false when the loop must refuse what follows.
     */
    private static boolean requests(byte[] sent, List<NbdRequest> requests) throws NbdProtocolException {
        ByteBuffer in = ByteBuffer.wrap(sent);
        while (in.hasRemaining()) {
            if (in.remaining() < NbdRequest.SIZE || in.getInt(in.position()) != NBD_REQUEST_MAGIC) {
                return false;
            }
            byte[] header = new byte[NbdRequest.SIZE];
            in.get(header);
            NbdRequest r = NbdRequest.decode(ByteBuffer.wrap(header));
            ByteBuffer again = ByteBuffer.allocate(NbdRequest.SIZE);
            r.encode(again);
            assertEquals(Wire.hex(header), Wire.hex(again.array()), "a request header encoded again");
            if (r.type() == NBD_CMD_DISC) {
                return true;
            }
            if (r.type() == NBD_CMD_WRITE) {
                if (r.length() > Handshake.MAX_BLOCK || r.length() > in.remaining()) {
                    return false;
                }
                in.position(in.position() + (int) r.length());
            }
            requests.add(r);
        }
        return true;
    }

    /** One reply per request, in order, each with its cookie; nothing after the last. */
    private static void checkReplies(List<NbdRequest> requests, byte[] written, boolean structured) {
        ByteBuffer out = ByteBuffer.wrap(written);
        for (NbdRequest r : requests) {
            boolean done = false;
            while (!done) {
                assertTrue(out.remaining() >= 16, "no reply to " + r);
                int magic = out.getInt();
                if (magic == NBD_SIMPLE_REPLY_MAGIC) {
                    int error = out.getInt();
                    assertEquals(r.cookie(), out.getLong(), "the cookie of the reply to " + r);
                    assertTrue(error == 0 || SPEC_ERRORS.contains(error), "error " + error);
                    if (!structured && r.type() == NBD_CMD_READ && error == 0) {
                        assertTrue(out.remaining() >= r.length(), "a READ's data cut short");
                        out.position(out.position() + (int) r.length());
                    }
                    done = true;
                } else {
                    assertTrue(structured && magic == NBD_STRUCTURED_REPLY_MAGIC, "reply magic " + magic);
                    assertTrue(out.remaining() >= 16, "a chunk header cut short");
                    int flags = Short.toUnsignedInt(out.getShort());
                    int type = Short.toUnsignedInt(out.getShort());
                    assertEquals(r.cookie(), out.getLong(), "the cookie of a chunk answering " + r);
                    long length = Integer.toUnsignedLong(out.getInt());
                    assertTrue(length <= out.remaining(), "a chunk cut short");
                    if ((type & 0x8000) != 0) {
                        int error = out.getInt(out.position());
                        assertTrue(SPEC_ERRORS.contains(error), "error " + error);
                    }
                    out.position(out.position() + (int) length);
                    done = (flags & NBD_REPLY_FLAG_DONE) != 0;
                }
            }
        }
        assertEquals(0, out.remaining(), "bytes after the last reply");
    }
}
