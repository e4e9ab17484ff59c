package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.dmp.agent.protocol.SimpleReply;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends READs and never reads the replies: the socket's buffers fill, the reply write
 * blocks, and after the write timeout the connection is closed, its workers and its payload budget
 * freed, while another client goes on being served.
 */
class WriteTimeoutTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private NbdServer server;

    @AfterEach
    void stop() throws IOException {
        server.close();
    }

    @Test
    void aClientThatReadsNoReplyIsDisconnectedAndItsBudgetComesBack() throws Exception {
        NbdLimits d = NbdLimits.defaults();
        NbdLimits limits = new NbdLimits(
                d.maxConnections(),
                d.maxConnectionsPerVolume(),
                d.handshakeTimeout(),
                d.maxOptions(),
                d.connectionPayload(),
                d.agentPayload(),
                Duration.ofMillis(300));
        AgentLimits shared = new AgentLimits(limits);
        Catalog catalog = new Catalog(
                new Export("a", new MemoryBackend(64 * MIB), false, () -> RequestObserver.NONE),
                new Export("b", new MemoryBackend(MIB), false, () -> RequestObserver.NONE));
        Path socket = dir.resolve("nbd.sock");
        server = NbdServer.start(socket, catalog, NbdOptions.defaults().withLimits(limits), shared);

        try (Dialer deaf = Dialer.connect(socket);
                Dialer reader = Dialer.connect(socket)) {
            assertEquals(NBD_REP_ACK, deaf.go("a").type());
            assertEquals(NBD_REP_ACK, reader.go("b").type());
            for (int i = 0; i < 32; i++) {
                deaf.request(NBD_CMD_READ, i, (long) i * MIB, MIB, null);
            }
            assertTimeoutPreemptively(BOUND, () -> {
                while (server.connections() != 1 || shared.payloadAvailable() != limits.agentPayload()) {
                    Thread.onSpinWait();
                }
            });
            reader.request(NBD_CMD_FLUSH, 99, 0, 0, null);
            assertEquals(new SimpleReply(NBD_OK, 99), reader.reply());
        }
    }
}
