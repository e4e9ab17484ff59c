package dev.dmp.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.nbd.NbdLimits;
import io.quarkus.runtime.configuration.MemorySize;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentSettingsTest {

    private record Config(
            Optional<String> hostId,
            Optional<String> controller,
            String stateDir,
            String nbdSocket,
            Optional<String> benchmarkUncountedSocket,
            Optional<Integer> nbdPort,
            String nbdBind,
            boolean nbdAllowPlaintextTcp)
            implements AgentConfig {
        Config(Optional<String> hostId, Optional<String> controller, String stateDir, String nbdSocket) {
            this(hostId, controller, stateDir, nbdSocket, Optional.empty());
        }

        Config(
                Optional<String> hostId,
                Optional<String> controller,
                String stateDir,
                String nbdSocket,
                Optional<String> benchmarkUncountedSocket) {
            this(
                    hostId,
                    controller,
                    stateDir,
                    nbdSocket,
                    benchmarkUncountedSocket,
                    Optional.empty(),
                    "127.0.0.1",
                    false);
        }

        /** A TCP listener on {@code bind}, TLS off. */
        static Config tcp(String bind, boolean allowPlaintext) {
            return new Config(
                    Optional.of("n"),
                    Optional.empty(),
                    "/var/lib/dmp",
                    "/run/dmp/nbd.sock",
                    Optional.empty(),
                    Optional.of(10809),
                    bind,
                    allowPlaintext);
        }

        @Override
        public Optional<List<String>> allowedPaths() {
            return Optional.empty();
        }

        @Override
        public long kernelTimeout() {
            return 30;
        }

        @Override
        public long kernelDeadConnTimeout() {
            return 120;
        }

        @Override
        public String kernelInterface() {
            return "auto";
        }

        @Override
        public boolean controllerTls() {
            return false;
        }

        @Override
        public boolean metricsHistograms() {
            return true;
        }

        @Override
        public boolean nbdStructuredReplies() {
            return true;
        }

        @Override
        public int nbdMaxConnections() {
            return 2048;
        }

        @Override
        public int nbdMaxConnectionsPerVolume() {
            return 512;
        }

        @Override
        public Duration nbdHandshakeTimeout() {
            return Duration.ofSeconds(10);
        }

        @Override
        public int nbdMaxOptions() {
            return 256;
        }

        @Override
        public MemorySize nbdMaxPayloadPerConnection() {
            return new MemorySize(BigInteger.valueOf(64 << 20));
        }

        @Override
        public MemorySize nbdMaxPayload() {
            return new MemorySize(BigInteger.valueOf(256 << 20));
        }

        @Override
        public Duration nbdWriteTimeout() {
            return Duration.ofSeconds(60);
        }

        @Override
        public Optional<String> controllerTlsConfigurationName() {
            return Optional.empty();
        }

        @Override
        public String nbdTls() {
            return "off";
        }

        @Override
        public Optional<String> nbdTlsCertificates() {
            return Optional.empty();
        }

        @Override
        public boolean nbdTlsVerifyPeer() {
            return false;
        }

        @Override
        public Optional<String> nbdTlsPskFile() {
            return Optional.empty();
        }
    }

    private static Config config(String hostId, String controller) {
        return new Config(
                Optional.ofNullable(hostId), Optional.ofNullable(controller), "/var/lib/dmp", "/run/dmp/nbd.sock");
    }

    private static String problem(AgentConfig config) {
        return assertThrows(IllegalArgumentException.class, () -> AgentSettings.from(config))
                .getMessage();
    }

    @Test
    void goodValues() {
        AgentSettings s = AgentSettings.from(new Config(
                Optional.of("node-a"), Optional.of(" ctl.dmp.svc:8080 "), "/var/lib/dmp/", "/run/dmp/../dmp/nbd.sock"));
        assertEquals("node-a", s.hostId());
        assertEquals("ctl.dmp.svc:8080", s.controller());
        assertEquals(Path.of("/var/lib/dmp"), s.stateDir());
        assertEquals(Path.of("/run/dmp/nbd.sock"), s.nbdSocket());
        assertEquals(0, s.nbdPort(), "no TCP listener unless dmp.agent.nbd-port is set");
        assertEquals(
                null, s.benchmarkUncountedSocket(), "counting is on everywhere unless the benchmark switch is set");
        assertFalse(s.standalone());
        assertEquals(
                "[::1]:9000", AgentSettings.from(config("n1", "[::1]:9000")).controller());
    }

    @Test
    void emptyControllerMeansStandalone() {
        assertTrue(AgentSettings.from(config("node-a", "")).standalone());
        assertNull(AgentSettings.from(config("node-a", null)).controller());
    }

    @Test
    void missingHostIdFallsBackToTheMachineName() {
        assertFalse(AgentSettings.from(config(null, null)).hostId().isEmpty());
        assertFalse(AgentSettings.from(config("  ", null)).hostId().isBlank());
    }

    @Test
    void badHostIdNamesTheKey() {
        assertEquals(
                "dmp.agent.host-id: 'node a' is not a valid host id"
                        + " (1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)",
                problem(config("node a", null)));
        assertTrue(problem(config("-node", null)).startsWith("dmp.agent.host-id: '-node'"));
        assertTrue(problem(config("n".repeat(64), null)).startsWith("dmp.agent.host-id: "));
    }

    @Test
    void badControllerNamesTheKey() {
        for (String bad : new String[] {"ctl", "ctl:", "ctl:0", "ctl:65536", "ctl:80:80", "http://ctl:8080"}) {
            assertEquals(
                    "dmp.agent.controller: '" + bad + "' is not host:port (for example controller.dmp.svc:8080);"
                            + " leave it empty for a standalone agent",
                    problem(config("node-a", bad)),
                    bad);
        }
    }

    @Test
    void aListOfControllersIsEveryTargetInItsOrder() {
        AgentSettings s = AgentSettings.from(config("node-a", " c1.dmp.svc:8080, c2.dmp.svc:8080 ,[::1]:9000"));
        assertEquals(
                List.of("c1.dmp.svc:8080", "c2.dmp.svc:8080", "[::1]:9000"),
                s.controllers().targets());
        assertEquals("c1.dmp.svc:8080,c2.dmp.svc:8080,[::1]:9000", s.controller());
        assertFalse(s.standalone());
        assertEquals(
                List.of("ctl.dmp.svc:8080"),
                AgentSettings.from(config("node-a", "ctl.dmp.svc:8080"))
                        .controllers()
                        .targets(),
                "one name is one target, however many addresses it resolves to");
    }

    @Test
    void everyBadEntryOfAListIsNamedWithTheKey() {
        String list = "c1:8080,,c3:0,c4,http://c5:80,c1:8080,c7:65536,c8:80:80";
        assertEquals(
                "dmp.agent.controller: '" + list + "' is not a list of host:port separated by commas"
                        + " (for example c1.dmp.svc:8080,c2.dmp.svc:8080):"
                        + " entry 2 of 8 is empty;"
                        + " entry 3 of 8, 'c3:0', has port '0', not 1-65535;"
                        + " entry 4 of 8, 'c4', has no port;"
                        + " entry 5 of 8, 'http://c5:80', is not host:port;"
                        + " entry 6 of 8, 'c1:8080', repeats entry 1;"
                        + " entry 7 of 8, 'c7:65536', has port '65536', not 1-65535;"
                        + " entry 8 of 8, 'c8:80:80', is not host:port",
                problem(config("node-a", list)));
        assertEquals(
                "dmp.agent.controller: 'c1:8080,' is not a list of host:port separated by commas"
                        + " (for example c1.dmp.svc:8080,c2.dmp.svc:8080): entry 2 of 2 is empty",
                problem(config("node-a", "c1:8080,")));
        assertEquals(
                "dmp.agent.controller: ',' is not a list of host:port separated by commas"
                        + " (for example c1.dmp.svc:8080,c2.dmp.svc:8080): entry 1 of 2 is empty; entry 2 of 2 is empty",
                problem(config("node-a", ",")));
        assertEquals(
                "dmp.agent.controller: 'c1:8080,[::1]' is not a list of host:port separated by commas"
                        + " (for example c1.dmp.svc:8080,c2.dmp.svc:8080): entry 2 of 2, '[::1]', has no port",
                problem(config("node-a", "c1:8080,[::1]")));
    }

    @Test
    void relativePathsNameTheKey() {
        assertEquals(
                "dmp.agent.state-dir: 'state' must be an absolute path",
                problem(new Config(Optional.of("n"), Optional.empty(), "state", "/run/dmp/nbd.sock")));
        assertEquals(
                "dmp.agent.nbd-socket: 'run/nbd.sock' must be an absolute path",
                problem(new Config(Optional.of("n"), Optional.empty(), "/var/lib/dmp", "run/nbd.sock")));
    }

    @Test
    void uncountedSocketIsABenchmarkSwitchBesideTheCountedOne() {
        AgentSettings s = AgentSettings.from(new Config(
                Optional.of("n"),
                Optional.empty(),
                "/var/lib/dmp",
                "/run/dmp/nbd.sock",
                Optional.of("/run/dmp/uncounted.sock")));
        assertEquals(Path.of("/run/dmp/uncounted.sock"), s.benchmarkUncountedSocket());
        assertEquals(
                "dmp.agent.benchmark-uncounted-socket: '/run/dmp/nbd.sock' is the counted socket (dmp.agent.nbd-socket);"
                        + " give another path, or leave it empty",
                problem(new Config(
                        Optional.of("n"),
                        Optional.empty(),
                        "/var/lib/dmp",
                        "/run/dmp/nbd.sock",
                        Optional.of("/run/dmp/./nbd.sock"))));
        assertEquals(
                "dmp.agent.benchmark-uncounted-socket: 'u.sock' must be an absolute path",
                problem(new Config(
                        Optional.of("n"),
                        Optional.empty(),
                        "/var/lib/dmp",
                        "/run/dmp/nbd.sock",
                        Optional.of("u.sock"))));
    }

    /** {@code base} with one setting changed, as a user would set it. */
    private static AgentConfig with(AgentConfig base, String setting, Object value) {
        return (AgentConfig) Proxy.newProxyInstance(
                AgentConfig.class.getClassLoader(), new Class<?>[] {AgentConfig.class}, (proxy, m, args) -> {
                    if (m.getName().equals(setting)) {
                        return value;
                    }
                    try {
                        return m.invoke(base, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static AgentConfig plain() {
        return new Config(Optional.of("node-a"), Optional.empty(), "/var/lib/dmp", "/run/dmp/nbd.sock");
    }

    @Test
    void theNbdLimitsDefaultToTheDocumentedFigures() {
        assertEquals(NbdLimits.defaults(), AgentSettings.from(plain()).nbd().limits());
    }

    @Test
    void aConnectionPayloadBelowTheLargestRequestIsRefusedByName() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> AgentSettings.from(
                        with(plain(), "nbdMaxPayloadPerConnection", new MemorySize(BigInteger.valueOf(16 << 20)))));
        assertEquals(
                "dmp.agent.nbd-max-payload-per-connection: 16777216 bytes is not between 32M (the largest request) and 1G",
                e.getMessage());
    }

    @Test
    void anAgentPayloadBelowOneConnectionsIsRefusedByName() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> AgentSettings.from(with(plain(), "nbdMaxPayload", new MemorySize(BigInteger.valueOf(48 << 20)))));
        assertEquals(
                "dmp.agent.nbd-max-payload: 50331648 bytes is not between dmp.agent.nbd-max-payload-per-connection "
                        + "(67108864) and 1G",
                e.getMessage());
    }

    @Test
    void zeroConnectionsAndZeroTimeoutsAreRefusedByName() {
        assertEquals(
                "dmp.agent.nbd-max-connections-per-volume: 0 is not a count of 1 or more",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> AgentSettings.from(with(plain(), "nbdMaxConnectionsPerVolume", 0)))
                        .getMessage());
        assertEquals(
                "dmp.agent.nbd-write-timeout: PT0S is not a time above zero (for example 10s)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> AgentSettings.from(with(plain(), "nbdWriteTimeout", Duration.ZERO)))
                        .getMessage());
    }

    /** NBD in the clear beyond loopback: only when the operator says so (TLS off here). */
    @Test
    void plaintextTcpBeyondLoopbackNeedsToBeAllowed() {
        assertEquals(
                "dmp.agent.nbd-bind: 0.0.0.0 is not a loopback address, and NBD without TLS lets whoever reaches"
                        + " the port read and write every volume: set dmp.agent.nbd-tls=require (with"
                        + " dmp.agent.nbd-tls-certificates or dmp.agent.nbd-tls-psk-file), or"
                        + " dmp.agent.nbd-allow-plaintext-tcp=true if the network is trusted",
                problem(Config.tcp("0.0.0.0", false)));
        assertTrue(problem(Config.tcp("10.1.2.3", false)).startsWith("dmp.agent.nbd-bind: 10.1.2.3 is not a loopback"));
        assertEquals(10809, AgentSettings.from(Config.tcp("0.0.0.0", true)).nbdPort());
        assertEquals(10809, AgentSettings.from(Config.tcp("127.0.0.1", false)).nbdPort());
        assertEquals(10809, AgentSettings.from(Config.tcp("::1", false)).nbdPort());
    }
}
