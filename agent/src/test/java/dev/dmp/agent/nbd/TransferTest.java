package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dmp.agent.backend.FileBackend;
import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocol;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.CounterSet;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Large READs from a file sent with sendfile, as NbdServer's connections do: platform threads only, so
 * the socket stays blocking. The reply is the header and then the file's bytes, exactly.
 */
class TransferTest {
    @TempDir
    Path dir;

    @Test
    void largeReadsGoOutWholeAfterTheirHeader() throws Exception {
        byte[] file = new byte[1 << 20];
        for (int i = 0; i < file.length; i++) {
            file[i] = (byte) (i * 13 + i / 4096);
        }
        Path img = Files.write(dir.resolve("disk.img"), file);
        ExecutorService workers =
                Executors.newCachedThreadPool(Thread.ofPlatform().daemon().factory());
        VolumeStats stats = new VolumeStats();
        try (FileBackend backend = FileBackend.open(img, false);
                ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("nbd.sock")));
            SocketChannel client = SocketChannel.open(listener.getLocalAddress());
            SocketChannel server = listener.accept();
            TransmissionLoop loop = new TransmissionLoop(
                    server,
                    Session.simple(new Export("f", backend, false, stats::observer)),
                    workers,
                    new BufferPool(8L << 20),
                    true);
            CompletableFuture<Void> done = new CompletableFuture<>();
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    loop.run();
                    done.complete(null);
                } catch (Exception e) {
                    done.completeExceptionally(e);
                }
            });
            // READ 512 KiB at 4096 (sendfile), READ 4 KiB at 8192 (through a buffer), both in flight at once.
            client.write(ByteBuffer.wrap(hex("25609513 0000 0000 00000000000000a1 0000000000001000 00080000"
                    + "25609513 0000 0000 00000000000000a2 0000000000002000 00001000")));
            for (int i = 0; i < 2; i++) {
                ByteBuffer header = ByteBuffer.allocate(16);
                Channels.readFully(client, header);
                header.flip();
                assertEquals(NbdProtocol.NBD_SIMPLE_REPLY_MAGIC, header.getInt());
                assertEquals(0, header.getInt());
                long cookie = header.getLong();
                int offset = cookie == 0xa1 ? 4096 : 8192;
                int length = cookie == 0xa1 ? 512 << 10 : 4096;
                ByteBuffer data = ByteBuffer.allocate(length);
                Channels.readFully(client, data);
                assertArrayEquals(Arrays.copyOfRange(file, offset, offset + length), data.array(), "cookie " + cookie);
            }
            client.write(ByteBuffer.wrap(hex("25609513 0000 0002 00000000000000ff 0000000000000000 00000000")));
            done.get(10, TimeUnit.SECONDS);
            client.close();
            server.close();
            assertEquals(2, stats.cumulative().requests(CounterSet.READ));
            assertEquals((512 << 10) + 4096, stats.cumulative().bytes(CounterSet.READ));
        } finally {
            workers.shutdownNow();
        }
    }
}
