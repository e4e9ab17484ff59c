package dev.dmp.agent.backend;

import static dev.dmp.agent.backend.FakeUpstream.chunk;
import static dev.dmp.agent.backend.FakeUpstream.data;
import static dev.dmp.agent.backend.FakeUpstream.error;
import static dev.dmp.agent.backend.FakeUpstream.hole;
import static dev.dmp.agent.backend.FakeUpstream.none;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.protocol.NbdRequest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An upstream that breaks the rules of structured replies ("Structured reply types", NBD_CMD_READ):
 * the client drops the connection ("MUST initiate a hard disconnect" for an unknown non-error type;
 * "MAY" for overlapping chunks or too little data), the request fails with an IOException that says
 * what the server did, within seconds, and every later request fails at once. A READ of 4 KiB at
 * offset 4096 is what each hostile reply answers. The timeout is a bound for a regression that
 * hangs, never a wait the tests rely on.
 */
@Timeout(60)
class NbdClientHostileRepliesTest {
    private static final long WAIT_SECONDS = 10;
    private static final String BROKE = "the server broke the protocol: ";

    @TempDir
    Path dir;

    private FakeUpstream upstream;
    private NbdClient client;

    @BeforeEach
    void connect() throws Exception {
        upstream = new FakeUpstream(dir, 1 << 20, 7);
        client = upstream.connect(NbdClient::connect);
    }

    @AfterEach
    void close() throws IOException {
        client.close();
        upstream.close();
    }

    private CompletableFuture<NbdClient.Result> read(long offset, int length, ByteBuffer dst) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return client.request(NBD_CMD_READ, 0, offset, length, dst);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** Answers the READ of 4 KiB at 4096 with {@code reply(cookie)} and returns why the client gave up. */
    private String rejected(java.util.function.LongFunction<byte[][]> reply) throws Exception {
        CompletableFuture<NbdClient.Result> pending = read(4096, 4096, ByteBuffer.allocate(4096));
        NbdRequest r = upstream.nextRequest();
        assertEquals(NBD_CMD_READ, r.type());
        upstream.send(reply.apply(r.cookie()));
        ExecutionException e =
                assertThrows(ExecutionException.class, () -> pending.get(WAIT_SECONDS, TimeUnit.SECONDS));
        IOException cause = assertInstanceOf(IOException.class, e.getCause().getCause());
        // The connection is gone for good: closed on our side, and a later request fails at once.
        assertTrue(upstream.closedByClient(), "the client closed the connection");
        IOException later = assertThrows(IOException.class, () -> client.request(NBD_CMD_FLUSH, 0, 0, 0, null));
        assertTrue(later.getMessage().contains("connection lost"), later.getMessage());
        String prefix = upstream.uri() + ": ";
        assertTrue(cause.getMessage().startsWith(prefix), cause.getMessage());
        return cause.getMessage().substring(prefix.length());
    }

    @Test
    void dataOutsideTheReadIsRejected() throws Exception {
        assertEquals(BROKE + "data or a hole outside the READ", rejected(cookie ->
                new byte[][] {data(cookie, true, 8192, new byte[4096])}));
    }

    @Test
    void aHoleBeforeTheReadIsRejected() throws Exception {
        assertEquals(BROKE + "data or a hole outside the READ", rejected(cookie ->
                new byte[][] {hole(cookie, true, 0, 8192)}));
    }

    /**
     * An offset so far past the READ that offset + length wraps around 2^63: it must be outside the
     * READ all the same, not an index into the caller's buffer (that threw in the reply reader, which
     * died and left the request waiting for ever).
     */
    @Test
    void anOffsetThatWrapsAroundIsRejectedNotHung() throws Exception {
        long far = 4096 + Long.MAX_VALUE - 5;
        assertEquals(BROKE + "data or a hole outside the READ", rejected(cookie ->
                new byte[][] {data(cookie, true, far, new byte[10])}));
    }

    @Test
    void aHoleThatWrapsAroundIsRejectedNotHung() throws Exception {
        long far = 4096 + Long.MAX_VALUE - 5;
        assertEquals(BROKE + "data or a hole outside the READ", rejected(cookie ->
                new byte[][] {hole(cookie, true, far, 100)}));
    }

    @Test
    void overlappingChunksAreRejected() throws Exception {
        assertEquals(BROKE + "data or holes that overlap", rejected(cookie ->
                new byte[][] {data(cookie, false, 4096, new byte[2048]), hole(cookie, true, 4096 + 1024, 2048)}));
    }

    /** "When no error is detected, the server MUST send enough data chunks to cover the entire region". */
    @Test
    void aReplyThatEndsBeforeCoveringTheReadIsRejected() throws Exception {
        assertEquals(BROKE + "a READ answered with 2048 of 4096 bytes", rejected(cookie ->
                new byte[][] {data(cookie, false, 4096, new byte[2048]), none(cookie)}));
    }

    /** "If the client receives an unknown or unexpected type, other than an error chunk, it MUST initiate a hard disconnect." */
    @Test
    void anUnknownChunkTypeThatIsNotAnErrorIsRejected() throws Exception {
        assertEquals(BROKE + "chunk type 3", rejected(cookie ->
                new byte[][] {chunk(NBD_REPLY_FLAG_DONE, 3, cookie, new byte[0])}));
    }

    /** "... unless it detects that message length is too large to fit within the length specified by the header." */
    @Test
    void anErrorMessageLongerThanItsChunkIsRejected() throws Exception {
        // error EIO, message length 100, 4 bytes of message: the chunk's length is 10
        byte[] payload = ByteBuffer.allocate(10)
                .putInt(NBD_EIO)
                .putShort((short) 100)
                .put("oops".getBytes())
                .array();
        assertEquals(BROKE + "an error chunk with error 0 or a message past its end", rejected(cookie ->
                new byte[][] {chunk(NBD_REPLY_FLAG_DONE, NBD_REPLY_TYPE_ERROR, cookie, payload)}));
    }

    @Test
    void anErrorChunkWithErrorZeroIsRejected() throws Exception {
        assertEquals(BROKE + "an error chunk with error 0 or a message past its end", rejected(cookie ->
                new byte[][] {error(NBD_REPLY_TYPE_ERROR, cookie, 0, "fine", new byte[0])}));
    }

    @Test
    void aNoneChunkThatIsNotTheLastIsRejected() throws Exception {
        assertEquals(BROKE + "a NONE chunk with a payload, or not the last", rejected(cookie ->
                new byte[][] {chunk(0, NBD_REPLY_TYPE_NONE, cookie, new byte[0])}));
    }

    @Test
    void aBlockStatusChunkForAReadIsRejected() throws Exception {
        assertEquals(BROKE + "a BLOCK_STATUS chunk of 12 bytes", rejected(cookie ->
                new byte[][] {FakeUpstream.blockStatus(cookie, true, 7, 4096, 0)}));
    }

    @Test
    void aReplyToNoRequestIsRejected() throws Exception {
        assertEquals("reply for unknown cookie 999", rejected(cookie -> new byte[][] {none(999)}));
    }

    /**
     * "If the client receives an unknown or unexpected type with bit 15 set, it MUST consider the
     * current reply as errored, but MAY continue transmission": an error chunk is the request's
     * failure, not the connection's.
     */
    @Test
    void anErrorChunkFailsTheRequestAndTheConnectionGoesOn() throws Exception {
        CompletableFuture<NbdClient.Result> first = read(4096, 4096, ByteBuffer.allocate(4096));
        long cookie = upstream.nextRequest().cookie();
        upstream.send(error(
                NBD_REPLY_TYPE_ERROR_OFFSET,
                cookie,
                NBD_EIO,
                "bad sector",
                ByteBuffer.allocate(8).putLong(6144).array()));
        assertEquals(new NbdClient.Result(NBD_EIO, "bad sector"), first.get(WAIT_SECONDS, TimeUnit.SECONDS));

        // an error type nobody defined (bit 15 set): errored all the same, with its message
        CompletableFuture<NbdClient.Result> second = read(4096, 4096, ByteBuffer.allocate(4096));
        cookie = upstream.nextRequest().cookie();
        upstream.send(error(0x8003, cookie, NBD_ENOSPC, "full", new byte[3]));
        assertEquals(new NbdClient.Result(NBD_ENOSPC, "full"), second.get(WAIT_SECONDS, TimeUnit.SECONDS));

        ByteBuffer dst = ByteBuffer.allocate(4096);
        CompletableFuture<NbdClient.Result> third = read(4096, 4096, dst);
        cookie = upstream.nextRequest().cookie();
        upstream.send(hole(cookie, true, 4096, 4096));
        assertEquals(NbdClient.Result.OK, third.get(WAIT_SECONDS, TimeUnit.SECONDS));
    }
}
