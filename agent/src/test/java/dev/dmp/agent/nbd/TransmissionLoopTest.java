package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.Wire;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.ErrorCount;
import dev.dmp.proto.v1.OpCounters;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transmission phase over a real unix socket pair: the test is the client, writing request
 * headers in hex and reading the simple replies back byte for byte.
 */
class TransmissionLoopTest {
    private static final int SIZE = 1 << 20;
    private static final long WAIT_SECONDS = 10;

    @TempDir
    Path dir;

    private final MemoryBackend backend = new MemoryBackend(SIZE);
    private final VolumeStats stats = new VolumeStats();
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private SocketChannel client;
    private SocketChannel server;
    private CompletableFuture<Void> loop;

    @BeforeEach
    void connect() throws IOException {
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")));
            client = SocketChannel.open(listener.getLocalAddress());
            server = listener.accept();
        }
        TransmissionLoop transmission = new TransmissionLoop(
                server, new Export("mem", backend, false, stats::observer), workers, new BufferPool(8L << 20));
        loop = CompletableFuture.runAsync(
                () -> {
                    try {
                        transmission.run();
                    } catch (IOException | NbdProtocolException e) {
                        throw new RuntimeException(e);
                    }
                },
                workers);
    }

    @AfterEach
    void close() throws IOException {
        backend.readGate.countDown();
        client.close();
        server.close();
        workers.close();
    }

    private void send(String hexFrame, byte[]... payload) throws IOException {
        Channels.writeFully(client, ByteBuffer.wrap(hex(hexFrame)));
        for (byte[] p : payload) {
            Channels.writeFully(client, ByteBuffer.wrap(p));
        }
    }

    private byte[] receive(int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        Channels.readFully(client, buf);
        return buf.array();
    }

    private void assertReply(String expectedHex) throws IOException {
        byte[] expected = hex(expectedHex);
        assertEquals(expectedHex.replace(" ", ""), Wire.hex(receive(expected.length)));
    }

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private void endWithDisc() throws Exception {
        send("25609513 0000 0002 00000000000000ff 0000000000000000 00000000");
        loop.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @Test
    void writeThenReadBackThenFlush() throws Exception {
        byte[] data = pattern(4096, 7);
        // WRITE 4096 at 8192, cookie 0102030405060708
        send("25609513 0000 0001 0102030405060708 0000000000002000 00001000", data);
        assertReply("67446698 00000000 0102030405060708");
        assertArrayEquals(data, Arrays.copyOfRange(backend.data, 8192, 8192 + 4096));

        // READ 4096 at 8192, cookie 1112131415161718: header, then the data
        send("25609513 0000 0000 1112131415161718 0000000000002000 00001000");
        assertReply("67446698 00000000 1112131415161718");
        assertArrayEquals(data, receive(4096));

        // WRITE with FUA, then FLUSH
        send("25609513 0001 0001 0000000000000021 0000000000000000 00000200", pattern(512, 1));
        assertReply("67446698 00000000 0000000000000021");
        assertEquals(1, backend.fuaWrites.get());
        send("25609513 0000 0003 0000000000000022 0000000000000000 00000000");
        assertReply("67446698 00000000 0000000000000022");
        assertEquals(1, backend.flushes.get());
        endWithDisc();
    }

    @Test
    void outOfRangeRequestsFailAndTheConnectionGoesOn() throws Exception {
        // READ 1024 at SIZE - 512: runs past the end -> NBD_EINVAL (22)
        send("25609513 0000 0000 0000000000000031 00000000000ffe00 00000400");
        assertReply("67446698 00000016 0000000000000031");
        // READ at an offset past 2^63 (negative as a long) -> NBD_EINVAL
        send("25609513 0000 0000 0000000000000032 8000000000000000 00000200");
        assertReply("67446698 00000016 0000000000000032");
        // WRITE 1024 at SIZE - 512 -> NBD_ENOSPC (28); its payload is consumed, not taken for a header
        send("25609513 0000 0001 0000000000000033 00000000000ffe00 00000400", pattern(1024, 3));
        assertReply("67446698 0000001c 0000000000000033");
        assertArrayEquals(new byte[SIZE], backend.data);
        // the connection still works: a good WRITE of the last 512 bytes
        byte[] tail = pattern(512, 9);
        send("25609513 0000 0001 0000000000000034 00000000000ffe00 00000200", tail);
        assertReply("67446698 00000000 0000000000000034");
        assertArrayEquals(tail, Arrays.copyOfRange(backend.data, SIZE - 512, SIZE));
        endWithDisc();
    }

    @Test
    void unknownCommandsAndBadFlagsGetEinval() throws Exception {
        // command 0x0042 nobody defined
        send("25609513 0000 0042 0000000000000041 0000000000000000 00000000");
        assertReply("67446698 00000016 0000000000000041");
        // TRIM with NO_HOLE, a flag only WRITE_ZEROES takes
        send("25609513 0002 0004 0000000000000042 0000000000000000 00001000");
        assertReply("67446698 00000016 0000000000000042");
        // FLUSH with a length
        send("25609513 0000 0003 0000000000000043 0000000000000000 00000200");
        assertReply("67446698 00000016 0000000000000043");
        assertEquals(0, backend.flushes.get());
        // READ with FAST_ZERO, a flag only WRITE_ZEROES takes (FUA is valid on every command)
        send("25609513 0010 0000 0000000000000044 0000000000000000 00000200");
        assertReply("67446698 00000016 0000000000000044");
        // still usable
        send("25609513 0000 0000 0000000000000045 0000000000000000 00000008");
        assertReply("67446698 00000000 0000000000000045 0000000000000000");
        endWithDisc();
    }

    @Test
    void writeOverTheMaximumEndsTheConnectionWithoutReadingIt() throws Exception {
        // WRITE of 32 MiB + 1 to a 1 MiB export; no payload follows. A server that tried to buffer it
        // would block reading (the client stays open) instead of failing at once.
        send("25609513 0000 0001 0000000000000051 0000000000000000 02000001");
        ExecutionException e = assertThrows(ExecutionException.class, () -> loop.get(WAIT_SECONDS, TimeUnit.SECONDS));
        NbdProtocolException cause =
                assertInstanceOf(NbdProtocolException.class, e.getCause().getCause());
        assertEquals("WRITE: length 33554433 is over the maximum of 33554432", cause.getMessage());
    }

    @Test
    void writeOfFourGibibytesEndsTheConnection() throws Exception {
        send("25609513 0000 0001 0000000000000052 0000000000000000 ffffffff");
        ExecutionException e = assertThrows(ExecutionException.class, () -> loop.get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertInstanceOf(NbdProtocolException.class, e.getCause().getCause());
    }

    @Test
    void badRequestMagicEndsTheConnection() throws Exception {
        send("25609512 0000 0000 0000000000000061 0000000000000000 00000200");
        ExecutionException e = assertThrows(ExecutionException.class, () -> loop.get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertInstanceOf(NbdProtocolException.class, e.getCause().getCause());
    }

    @Test
    void discWaitsForRequestsInFlight() throws Exception {
        System.arraycopy(pattern(16, 5), 0, backend.data, 0, 16);
        backend.readGate = new CountDownLatch(1);
        send("25609513 0000 0000 0000000000000071 0000000000000000 00000010");
        assertTrue(backend.readStarted.await(WAIT_SECONDS, TimeUnit.SECONDS));
        send("25609513 0000 0002 0000000000000072 0000000000000000 00000000");
        // The READ is held in the backend: the loop must not return yet.
        assertThrows(TimeoutException.class, () -> loop.get(300, TimeUnit.MILLISECONDS));
        backend.readGate.countDown();
        assertNull(loop.get(WAIT_SECONDS, TimeUnit.SECONDS));
        // Once run() has returned the connection may be closed at once: the READ's reply must be out.
        server.close();
        assertReply("67446698 00000000 0000000000000071");
        assertArrayEquals(pattern(16, 5), receive(16));
        assertEquals(-1, client.read(ByteBuffer.allocate(1)));
    }

    @Test
    void eachRequestIsCountedWhenItIsAnswered() throws Exception {
        // WRITE 4096 at 0
        send("25609513 0000 0001 0000000000000081 0000000000000000 00001000", pattern(4096, 2));
        assertReply("67446698 00000000 0000000000000081");
        // READ 8192 at 0
        send("25609513 0000 0000 0000000000000082 0000000000000000 00002000");
        assertReply("67446698 00000000 0000000000000082");
        receive(8192);
        // READ 1024 at SIZE - 512: out of range -> NBD_EINVAL
        send("25609513 0000 0000 0000000000000083 00000000000ffe00 00000400");
        assertReply("67446698 00000016 0000000000000083");
        // FLUSH
        send("25609513 0000 0003 0000000000000084 0000000000000000 00000000");
        assertReply("67446698 00000000 0000000000000084");

        // A reply may reach the client just before its request is recorded: wait (bounded) for the last.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (stats.inFlight() != 0 || stats.cumulative().requests(CounterSet.FLUSH) != 1) {
            assertTrue(System.nanoTime() < deadline, "FLUSH not counted within " + WAIT_SECONDS + " s");
            Thread.sleep(5);
        }
        assertCounted(stats.cumulative());
        assertEquals(0, stats.inFlight());

        // NBD_CMD_DISC is not counted; the connection's counts stay in the volume's total once it ends
        endWithDisc();
        assertCounted(stats.cumulative());
        assertEquals(0, stats.inFlight());
    }

    private static void assertCounted(CounterSet c) {
        assertEquals(1, c.requests(CounterSet.WRITE));
        assertEquals(4096, c.bytes(CounterSet.WRITE));
        assertEquals(0, c.errors(CounterSet.WRITE));
        assertEquals(1, c.requests(CounterSet.READ));
        assertEquals(8192, c.bytes(CounterSet.READ));
        assertEquals(1, c.errors(CounterSet.READ));
        assertEquals(1, c.requests(CounterSet.FLUSH));
        assertEquals(0, c.bytes(CounterSet.FLUSH));
        assertEquals(0, c.errors(CounterSet.FLUSH));
        for (int op : new int[] {CounterSet.TRIM, CounterSet.WRITE_ZEROES, CounterSet.CACHE}) {
            assertEquals(0, c.requests(op) + c.errors(op));
        }
        OpCounters read = c.toProto().stream()
                .filter(o -> o.getOpValue() == CounterSet.READ + 1)
                .findFirst()
                .orElseThrow();
        assertEquals(
                java.util.List.of(
                        ErrorCount.newBuilder().setError(22).setCount(1).build()),
                read.getErrorsByCodeList());
        // both READs are in the size histogram: 1024 (bucket 10) and 8192 (bucket 13)
        assertEquals(1, c.sizeBucket(CounterSet.READ, 10));
        assertEquals(1, c.sizeBucket(CounterSet.READ, 13));
        assertEquals(1, c.sizeBucket(CounterSet.WRITE, 12));
    }

    @Test
    void clientHangingUpEndsTheLoopQuietly() throws Exception {
        client.shutdownOutput();
        assertNull(loop.get(WAIT_SECONDS, TimeUnit.SECONDS));
        assertFalse(loop.isCompletedExceptionally());
    }

    @Test
    void anUncountedLoopServesButCountsNothing() throws Exception {
        VolumeStats uncounted = new VolumeStats();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("uncounted.sock")));
            try (SocketChannel c = SocketChannel.open(listener.getLocalAddress());
                    SocketChannel srv = listener.accept()) {
                var l = CompletableFuture.runAsync(
                        () -> {
                            try {
                                new TransmissionLoop(
                                                srv,
                                                new Export("mem", backend, false, uncounted::observer).unobserved(),
                                                workers,
                                                new BufferPool(8L << 20))
                                        .run();
                            } catch (IOException | NbdProtocolException e) {
                                throw new RuntimeException(e);
                            }
                        },
                        workers);
                byte[] data = pattern(4096, 5);
                Channels.writeFully(
                        c, ByteBuffer.wrap(hex("25609513 0000 0001 0000000000000051 0000000000000000 00001000")));
                Channels.writeFully(c, ByteBuffer.wrap(data));
                ByteBuffer reply = ByteBuffer.allocate(16);
                Channels.readFully(c, reply);
                assertEquals("67446698000000000000000000000051", Wire.hex(reply.array()));
                Channels.writeFully(
                        c, ByteBuffer.wrap(hex("25609513 0000 0000 0000000000000052 0000000000000000 00001000")));
                ByteBuffer read = ByteBuffer.allocate(16 + 4096);
                Channels.readFully(c, read);
                assertEquals("67446698000000000000000000000052", Wire.hex(Arrays.copyOfRange(read.array(), 0, 16)));
                assertArrayEquals(data, Arrays.copyOfRange(read.array(), 16, 16 + 4096));
                Channels.writeFully(
                        c, ByteBuffer.wrap(hex("25609513 0000 0002 00000000000000ff 0000000000000000 00000000")));
                l.get(WAIT_SECONDS, TimeUnit.SECONDS);
            }
        }
        assertEquals(0, uncounted.cumulative().requests(CounterSet.WRITE));
        assertEquals(0, uncounted.cumulative().requests(CounterSet.READ));
        assertEquals(0, uncounted.inFlight());
        endWithDisc();
    }
}
