package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmp.agent.protocol.Wire;
import dev.dmp.agent.stats.VolumeStats;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A WRITE the checks refuse (past the end of a 64 KiB volume) is answered with its error after its
 * payload, which is read and dropped, never buffered whole on the strength of its length field.
 */
class RefusedWriteTest {
    private final AtomicLong largestBuffer = new AtomicLong();
    private final BufferPool buffers = new BufferPool(8L << 20, size -> {
        largestBuffer.accumulateAndGet(size, Math::max);
        return ByteBuffer.allocate(size);
    });
    private final Export export = new Export("small", new MemoryBackend(64 << 10), false, new VolumeStats()::observer);
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stop() {
        workers.close();
    }

    @Test
    void aWriteAnnouncingMoreThanItSendsAllocatesNothingForIt() {
        // Found by TransmissionFuzzTest: a WRITE at offset 2^55 + 65536 announcing 0x230016 bytes
        // (2.2 MiB), of which the client sent 56, made the loop allocate a 4 MiB payload buffer before
        // reading a byte of it. Here: 32 MiB announced past the end of the volume, 10 bytes sent.
        ScriptedChannel client = new ScriptedChannel(
                Wire.concat(hex("25609513 0000 0001 0000000000000001 0000000000010000 02000000"), new byte[10]));
        TransmissionLoop loop = new TransmissionLoop(client, export, workers, buffers);
        assertThrows(EOFException.class, loop::run);
        assertEquals(0, largestBuffer.get(), "bytes allocated for the payload of a refused WRITE");
    }

    @Test
    void aRefusedWriteIsAnsweredAfterItsPayloadAndTheNextRequestIsServed() throws Exception {
        ScriptedChannel client = new ScriptedChannel(Wire.concat(
                hex("25609513 0000 0001 0000000000000001 000000000000f000 00002000"), // 8 KiB at 60 KiB
                new byte[8192],
                hex("25609513 0000 0003 0000000000000002 0000000000000000 00000000"))); // FLUSH
        new TransmissionLoop(client, export, workers, buffers).run();
        assertEquals(
                "67446698 0000001c 0000000000000001" // NBD_ENOSPC
                                .replace(" ", "")
                        + "67446698 00000000 0000000000000002".replace(" ", ""),
                Wire.hex(client.written()));
        assertEquals(0, client.unread());
    }
}
