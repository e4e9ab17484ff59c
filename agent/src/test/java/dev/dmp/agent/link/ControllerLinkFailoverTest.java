package dev.dmp.agent.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.state.CheckpointFile;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.AllowedPaths;
import dev.dmp.agent.volume.BackendFactory;
import dev.dmp.agent.volume.VolumeFactory;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.v1.Hello;
import io.grpc.InsecureChannelCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A link to two controllers over real gRPC on loopback: when the one it holds a stream to goes away,
 * or does not answer at all, its next stream is to the other. The waits are bounded, never sleeps.
 */
class ControllerLinkFailoverTest {
    /** Far above the 125-500 ms the backoff waits, for a machine shared with other builds. */
    private static final long BOUND_MS = 3000;

    @TempDir
    Path state;

    /** A link of host node-a, its first dial at {@code targets[first]}; no volumes, so no describer or commands. */
    private ControllerLink link(List<String> targets, int first) {
        StatsJournal journal = new StatsJournal(true);
        VolumeRegistry registry = new VolumeRegistry(
                journal, new VolumeFactory("node-a", new BackendFactory(new AllowedPaths(List.of(state)))));
        StatsReporter reporter =
                new StatsReporter(registry, journal, new DeltaStream(), new CheckpointFile(state), v -> false, v -> 0);
        return new ControllerLink(
                new ControllerChannels(targets, InsecureChannelCredentials.create(), first),
                "node-a",
                registry,
                null,
                null,
                reporter);
    }

    @Test
    void whenItsControllerGoesAwayTheNextStreamIsToTheOtherOne() throws Exception {
        try (FakeController first = FakeController.start();
                FakeController second = FakeController.start()) {
            ControllerLink link = link(List.of(first.target(), second.target()), 0);
            try {
                link.start();
                Hello hello = first.hellos.poll(10, TimeUnit.SECONDS);
                assertNotNull(hello, "the first dial is to the first target");
                assertEquals("node-a", hello.getHostId());

                first.close();
                long gone = System.nanoTime();
                Hello again = second.hellos.poll(10, TimeUnit.SECONDS);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - gone);

                assertNotNull(again, "the stream after the break is to the second target");
                assertEquals(hello.getHostId(), again.getHostId());
                assertEquals(hello.getRunId(), again.getRunId(), "the same run, continued on the other controller");
                assertTrue(ms < BOUND_MS, "redialled the other controller after " + ms + " ms");
                assertEquals(0, second.hellos.size(), "one stream to the second");
            } finally {
                link.close();
            }
        }
    }

    @Test
    void aControllerThatDoesNotAnswerIsPassedOver() throws Exception {
        try (FakeController live = FakeController.start()) {
            ControllerLink link = link(List.of(nobodyListening(), live.target()), 0);
            try {
                long started = System.nanoTime();
                link.start();
                Hello hello = live.hellos.poll(10, TimeUnit.SECONDS);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

                assertNotNull(hello, "the dial after the refused one is to the live target");
                assertEquals("node-a", hello.getHostId());
                assertTrue(ms < BOUND_MS, "reached the live controller after " + ms + " ms");
            } finally {
                link.close();
            }
        }
    }

    /** A loopback port with nothing behind it: bound once to get a free number, then let go. */
    private static String nobodyListening() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return InetAddress.getLoopbackAddress().getHostAddress() + ":" + socket.getLocalPort();
        }
    }
}
