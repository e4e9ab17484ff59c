package dev.dmp.agent.config;

import dev.dmp.agent.kernel.KernelTimeouts;
import dev.dmp.agent.nbd.Handshake;
import dev.dmp.agent.nbd.NbdLimits;
import dev.dmp.agent.nbd.NbdOptions;
import dev.dmp.agent.nbd.tls.NbdTls;
import dev.dmp.agent.nbd.tls.TlsMode;
import dev.dmp.agent.nbd.tls.TlsSettings;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The agent's configuration, checked: every problem names the key and what it accepts, so that a bad
 * value stops start-up with a message an operator can act on.
 */
public record AgentSettings(
        String hostId,
        ControllerTargets controllers,
        Path stateDir,
        Path nbdSocket,
        List<Path> allowedPaths,
        int nbdPort,
        InetAddress nbdBind,
        Path benchmarkUncountedSocket,
        KernelTimeouts kernelTimeouts,
        boolean kernelIoctlOnly,
        NbdOptions nbd) {
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|\\[?[0-9a-fA-F.]*:[0-9a-fA-F:.]*]?");
    private static final Pattern HOST_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    /** True when no controller is configured. */
    public boolean standalone() {
        return controllers == null;
    }

    /** The controllers as configured (one host:port, or several separated by commas); null when standalone. */
    public String controller() {
        return standalone() ? null : controllers.toString();
    }

    public static AgentSettings from(AgentConfig config) {
        String hostId = config.hostId().filter(s -> !s.isBlank()).orElseGet(AgentSettings::machineHostName);
        if (!HOST_ID.matcher(hostId).matches()) {
            throw new IllegalArgumentException(
                    "dmp.agent.host-id: '" + hostId
                            + "' is not a valid host id (1-63 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit)");
        }
        ControllerTargets controllers = config.controller()
                .map(String::trim)
                .filter(s -> !s.isEmpty())
                .map(ControllerTargets::parse)
                .orElse(null);
        Path stateDir = absolute("dmp.agent.state-dir", config.stateDir());
        Path socket = absolute("dmp.agent.nbd-socket", config.nbdSocket());
        List<Path> allowed = new ArrayList<>();
        for (String entry : config.allowedPaths().orElse(List.of())) {
            if (!entry.isBlank()) {
                allowed.add(absolute("dmp.agent.allowed-paths", entry.trim()));
            }
        }
        if (allowed.isEmpty()) {
            allowed.add(stateDir);
        }
        int port = config.nbdPort().orElse(0);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(
                    "dmp.agent.nbd-port: " + port + " is not a TCP port (1-65535, or 0 for no TCP listener)");
        }
        Path uncounted = config.benchmarkUncountedSocket()
                .filter(s -> !s.isBlank())
                .map(s -> absolute("dmp.agent.benchmark-uncounted-socket", s.trim()))
                .orElse(null);
        if (uncounted != null && uncounted.equals(socket)) {
            throw new IllegalArgumentException("dmp.agent.benchmark-uncounted-socket: '" + uncounted
                    + "' is the counted socket (dmp.agent.nbd-socket); give another path, or leave it empty");
        }
        InetAddress bind = bindAddress(config.nbdBind());
        NbdTls tls = TlsSettings.load(
                config.nbdTls(), config.nbdTlsCertificates(), config.nbdTlsVerifyPeer(), config.nbdTlsPskFile());
        if (port != 0 && !bind.isLoopbackAddress() && tls.mode() == TlsMode.OFF && !config.nbdAllowPlaintextTcp()) {
            throw new IllegalArgumentException("dmp.agent.nbd-bind: " + bind.getHostAddress()
                    + " is not a loopback address, and NBD without TLS lets whoever reaches the port read and"
                    + " write every volume: set dmp.agent.nbd-tls=require (with dmp.agent.nbd-tls-certificates or"
                    + " dmp.agent.nbd-tls-psk-file), or dmp.agent.nbd-allow-plaintext-tcp=true if the network is"
                    + " trusted");
        }
        return new AgentSettings(
                hostId,
                controllers,
                stateDir,
                socket,
                List.copyOf(allowed),
                port,
                bind,
                uncounted,
                new KernelTimeouts(config.kernelTimeout(), config.kernelDeadConnTimeout()),
                ioctlOnly(config.kernelInterface()),
                new NbdOptions(config.nbdStructuredReplies(), nbdLimits(config), tls));
    }

    /** The largest payload budget: a byte count the agent's semaphores hold in an int. */
    private static final long MAX_PAYLOAD = 1L << 30;

    private static NbdLimits nbdLimits(AgentConfig config) {
        long perConnection = config.nbdMaxPayloadPerConnection().asLongValue();
        long perAgent = config.nbdMaxPayload().asLongValue();
        if (perConnection < Handshake.MAX_BLOCK || perConnection > MAX_PAYLOAD) {
            throw new IllegalArgumentException("dmp.agent.nbd-max-payload-per-connection: " + perConnection
                    + " bytes is not between 32M (the largest request) and 1G");
        }
        if (perAgent < perConnection || perAgent > MAX_PAYLOAD) {
            throw new IllegalArgumentException("dmp.agent.nbd-max-payload: " + perAgent
                    + " bytes is not between dmp.agent.nbd-max-payload-per-connection (" + perConnection
                    + ") and 1G");
        }
        return new NbdLimits(
                atLeastOne("dmp.agent.nbd-max-connections", config.nbdMaxConnections()),
                atLeastOne("dmp.agent.nbd-max-connections-per-volume", config.nbdMaxConnectionsPerVolume()),
                positive("dmp.agent.nbd-handshake-timeout", config.nbdHandshakeTimeout()),
                atLeastOne("dmp.agent.nbd-max-options", config.nbdMaxOptions()),
                (int) perConnection,
                (int) perAgent,
                positive("dmp.agent.nbd-write-timeout", config.nbdWriteTimeout()));
    }

    private static int atLeastOne(String key, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(key + ": " + value + " is not a count of 1 or more");
        }
        return value;
    }

    private static Duration positive(String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + ": " + value + " is not a time above zero (for example 10s)");
        }
        return value;
    }

    private static boolean ioctlOnly(String value) {
        return switch (value.trim()) {
            case "auto" -> false;
            case "ioctl" -> true;
            default ->
                throw new IllegalArgumentException("dmp.agent.kernel-interface: '" + value
                        + "' is not auto (netlink where the kernel has it, else ioctl) or ioctl");
        };
    }

    private static InetAddress bindAddress(String value) {
        String v = value.trim();
        // Only literals: a host name would be resolved now and could silently bind somewhere unexpected.
        if (IP_LITERAL.matcher(v).matches()) {
            try {
                return InetAddress.getByName(v);
            } catch (UnknownHostException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("dmp.agent.nbd-bind: '" + value
                + "' is not an IP address (for example 127.0.0.1, ::1, or 0.0.0.0 to accept every network)");
    }

    private static Path absolute(String key, String value) {
        Path p = Path.of(value);
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException(key + ": '" + value + "' must be an absolute path");
        }
        return p.normalize();
    }

    private static String machineHostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        } catch (IOException e) {
            String env = System.getenv("HOSTNAME");
            return env == null ? "localhost" : env;
        }
    }
}
