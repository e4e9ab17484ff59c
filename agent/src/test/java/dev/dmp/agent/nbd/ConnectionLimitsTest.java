package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.OptionFrames.option;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a listener lets clients take: connections per agent and per volume, time and options per
 * handshake. Each test sets one limit low and shows the connection past it refused, while those
 * within it are served. Waits are bounded far above what they need.
 */
class ConnectionLimitsTest {
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private final Catalog catalog = new Catalog(
            new Export("a", new MemoryBackend(1 << 20), false, () -> RequestObserver.NONE),
            new Export("b", new MemoryBackend(1 << 20), false, () -> RequestObserver.NONE));
    private NbdServer server;

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    private Path start(NbdLimits limits) throws IOException {
        Path socket = dir.resolve("nbd.sock");
        server = NbdServer.start(socket, catalog, NbdOptions.defaults().withLimits(limits));
        return socket;
    }

    private static NbdLimits limits(int perAgent, int perVolume, Duration handshake, int options) {
        NbdLimits d = NbdLimits.defaults();
        return new NbdLimits(
                perAgent, perVolume, handshake, options, d.connectionPayload(), d.agentPayload(), d.writeTimeout());
    }

    private static void waitUntil(BooleanSupplier condition) {
        assertTimeoutPreemptively(BOUND, () -> {
            while (!condition.getAsBoolean()) {
                Thread.onSpinWait();
            }
        });
    }

    @Test
    void aConnectionPastTheAgentsLimitIsClosedBeforeItsGreetingAndOneFreedIsReused() throws Exception {
        Path socket = start(limits(2, 512, Duration.ofSeconds(10), 256));
        try (Dialer one = Dialer.connect(socket);
                Dialer two = Dialer.connect(socket);
                Dialer three = Dialer.connect(socket)) {
            assertTrue(one.greeted());
            assertTrue(two.greeted());
            assertFalse(three.greeted(), "the third connection got a greeting past a limit of 2");
            assertEquals(2, server.connections());

            one.close();
            waitUntil(() -> server.connections() == 1);
            try (Dialer four = Dialer.connect(socket)) {
                assertTrue(four.greeted());
            }
        }
    }

    @Test
    void goPastTheVolumesLimitIsRefusedByPolicyWithTheLimitNamedAndOtherVolumesAreServed() throws Exception {
        Path socket = start(limits(2048, 1, Duration.ofSeconds(10), 256));
        try (Dialer first = Dialer.connect(socket);
                Dialer second = Dialer.connect(socket)) {
            assertEquals(NBD_REP_ACK, first.go("a").type());
            Dialer.Answer refused = second.go("a");
            assertEquals(NBD_REP_ERR_POLICY, refused.type());
            assertEquals(
                    "volume 'a' has 1 connections, its limit (dmp.agent.nbd-max-connections-per-volume)",
                    refused.message());
            // The same connection may still choose a volume that has room.
            second.send(option(NBD_OPT_GO, OptionFrames.export("b")));
            assertEquals(NBD_REP_ACK, second.lastReply().type());
            assertEquals(1, catalog.find("a").connections().count());
            assertEquals(1, catalog.find("b").connections().count());
        }
        waitUntil(() -> catalog.find("a").connections().count() == 0);
    }

    @Test
    void aClientSilentPastTheHandshakeTimeoutIsDropped() throws Exception {
        Path socket = start(limits(2048, 512, Duration.ofMillis(200), 256));
        try (Dialer silent = Dialer.connect(socket)) {
            assertTrue(silent.greeted());
            assertTimeoutPreemptively(BOUND, () -> assertTrue(silent.closedByServer()));
            waitUntil(() -> server.connections() == 0);
        }
    }

    @Test
    void theOptionPastTheLimitDropsTheClientAfterTheOthersWereAnswered() throws Exception {
        Path socket = start(limits(2048, 512, Duration.ofSeconds(10), 3));
        try (Dialer looping = Dialer.connect(socket)) {
            assertTrue(looping.greeted());
            looping.send(new byte[] {0, 0, 0, 3});
            for (int i = 0; i < 3; i++) {
                looping.send(option(NBD_OPT_LIST));
                assertEquals(NBD_REP_ACK, looping.lastReply().type());
            }
            looping.send(option(NBD_OPT_LIST));
            assertTimeoutPreemptively(BOUND, () -> assertTrue(looping.closedByServer()));
        }
    }
}
