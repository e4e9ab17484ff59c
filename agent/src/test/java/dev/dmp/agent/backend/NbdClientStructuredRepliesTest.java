package dev.dmp.agent.backend;

import static dev.dmp.agent.backend.ExtentsTest.held;
import static dev.dmp.agent.backend.FakeUpstream.blockStatus;
import static dev.dmp.agent.backend.FakeUpstream.data;
import static dev.dmp.agent.backend.FakeUpstream.hole;
import static dev.dmp.agent.backend.FakeUpstream.none;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.protocol.NbdRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Well-formed structured replies from an upstream, taken in by the client: READ chunks in any order
 * reassembled into the caller's buffer, and base:allocation block status under the context id the
 * upstream gave (9 here), through NbdClient and through the nbd backend's extents.
 */
class NbdClientStructuredRepliesTest {
    private static final long WAIT_SECONDS = 10;
    private static final int CONTEXT = 9;

    @TempDir
    Path dir;

    private static <T> CompletableFuture<T> async(IoCall<T> call) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    interface IoCall<T> {
        T run() throws IOException;
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    @Test
    void dataAndHolesInAnyOrderAreReassembled() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream(dir, 1 << 20, CONTEXT);
                NbdClient client = upstream.connect(NbdClient::connect)) {
            assertTrue(client.hasBlockStatus());
            // the caller's buffer holds garbage, and a slice of it is the READ's: holes must be zeroed there
            ByteBuffer buffer = ByteBuffer.allocate(3 * 4096 + 100);
            Arrays.fill(buffer.array(), (byte) 0xee);
            ByteBuffer dst = buffer.slice(50, 3 * 4096);
            CompletableFuture<NbdClient.Result> read =
                    async(() -> client.request(NBD_CMD_READ, 0, 8192, 3 * 4096, dst));
            NbdRequest r = upstream.nextRequest();
            assertEquals(new NbdRequest(0, NBD_CMD_READ, r.cookie(), 8192, 3 * 4096), r);
            byte[] first = bytes(4096, 1);
            byte[] last = bytes(4096, 2);
            // the last 4 KiB first, then the hole in the middle, then the first 4 KiB
            upstream.send(
                    data(r.cookie(), false, 8192 + 8192, last),
                    hole(r.cookie(), false, 8192 + 4096, 4096),
                    data(r.cookie(), false, 8192, first),
                    none(r.cookie()));
            assertEquals(NbdClient.Result.OK, read.get(WAIT_SECONDS, TimeUnit.SECONDS));
            byte[] expected = new byte[3 * 4096 + 100];
            Arrays.fill(expected, (byte) 0xee);
            System.arraycopy(first, 0, expected, 50, 4096);
            Arrays.fill(expected, 50 + 4096, 50 + 8192, (byte) 0);
            System.arraycopy(last, 0, expected, 50 + 8192, 4096);
            assertArrayEquals(expected, buffer.array());
        }
    }

    @Test
    void blockStatusTakesTheNegotiatedContextAndIgnoresOthers() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream(dir, 1 << 20, CONTEXT);
                NbdClient client = upstream.connect(NbdClient::connect)) {
            Extents extents = new Extents(0, 1 << 20, 100);
            CompletableFuture<NbdClient.Result> status = async(() -> client.blockStatus(extents));
            NbdRequest r = upstream.nextRequest();
            assertEquals(new NbdRequest(0, NBD_CMD_BLOCK_STATUS, r.cookie(), 0, 1 << 20), r);
            upstream.send(
                    // a context the client never asked for: not base:allocation, not taken in
                    blockStatus(r.cookie(), false, 4, 1 << 20, 0),
                    // flags beyond HOLE and ZERO are reserved: "clients MUST ignore unknown flags"
                    blockStatus(r.cookie(), true, CONTEXT, 0x10000, 3, 0x10000, 0, 0xe0000, 0x7));
            assertEquals(NbdClient.Result.OK, status.get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertEquals(List.of("65536/3", "65536/0", "917504/3"), held(extents));
        }
    }

    @Test
    void blockStatusWithoutTheNegotiatedContextIsRejected() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream(dir, 1 << 20, CONTEXT);
                NbdClient client = upstream.connect(NbdClient::connect)) {
            CompletableFuture<NbdClient.Result> status = async(() -> client.blockStatus(new Extents(0, 4096, 10)));
            long cookie = upstream.nextRequest().cookie();
            upstream.send(blockStatus(cookie, true, 4, 4096, 0));
            ExecutionException e =
                    assertThrows(ExecutionException.class, () -> status.get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertTrue(
                    e.getCause()
                            .getMessage()
                            .endsWith("the server broke the protocol: a BLOCK_STATUS answered without"
                                    + " the status of base:allocation"),
                    e.getCause().getMessage());
        }
    }

    /**
     * The nbd backend passes the upstream's extents through, asking again from where a reply stopped
     * ("most client implementations will likely follow up with a request ... at the first offset not
     * covered").
     */
    @Test
    void theNbdBackendAsksUntilItsRangeIsCovered() throws Exception {
        try (FakeUpstream upstream = new FakeUpstream(dir, 1 << 20, CONTEXT);
                NbdBackend backend = upstream.connect(NbdBackend::connect)) {
            Extents extents = new Extents(0, 1 << 20, 100);
            CompletableFuture<Extents> status = async(() -> {
                backend.extents(extents);
                return extents;
            });
            NbdRequest first = upstream.nextRequest();
            assertEquals(new NbdRequest(0, NBD_CMD_BLOCK_STATUS, first.cookie(), 0, 1 << 20), first);
            upstream.send(blockStatus(first.cookie(), true, CONTEXT, 0x10000, 3, 0x10000, 0));
            NbdRequest second = upstream.nextRequest();
            assertEquals(new NbdRequest(0, NBD_CMD_BLOCK_STATUS, second.cookie(), 0x20000, 0xe0000), second);
            // the upstream knows more than was asked: the extent is cut at the range's end
            upstream.send(blockStatus(second.cookie(), true, CONTEXT, 0x200000, 3));
            status.get(WAIT_SECONDS, TimeUnit.SECONDS);
            assertEquals(List.of("65536/3", "65536/0", "917504/3"), held(extents));
        }
    }
}
