package dev.dmp.agent.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The agent's settings, under {@code dmp.agent}. {@link AgentSettings} checks them at start-up. */
@ConfigMapping(prefix = "dmp.agent")
public interface AgentConfig {

    /** This host's id in the fleet; default: the machine's host name. */
    Optional<String> hostId();

    /**
     * {@code host:port} of the controller's gRPC port, or several separated by commas (replicas: the
     * link dials them in turn); absent or empty: standalone, no controller.
     */
    Optional<String> controller();

    /** Dial the controller over TLS (its certificate verified) instead of plaintext. */
    @WithDefault("false")
    boolean controllerTls();

    /**
     * A Quarkus TLS registry configuration ({@code quarkus.tls.NAME.trust-store.pem.certs=...}) whose trust
     * store verifies the controller; absent: the JVM's default trust. Setting it turns controller-tls on.
     */
    Optional<String> controllerTlsConfigurationName();

    /** Where the agent keeps its state. */
    @WithDefault("/var/lib/dmp")
    String stateDir();

    /** The unix socket NBD clients connect to. */
    @WithDefault("/run/dmp/nbd.sock")
    String nbdSocket();

    /**
     * Absolute paths, comma-separated, that file backends (and nbd backends' unix sockets) may use:
     * anything inside a listed directory, or exactly a listed file or device, after resolving {@code ..}
     * and symbolic links. Absent: the state dir only.
     */
    Optional<List<String>> allowedPaths();

    /** TCP port for NBD clients; absent or 0: no TCP listener (the unix socket only). */
    Optional<Integer> nbdPort();

    /** The address the TCP listener binds to (an IP literal). Loopback unless deliberately opened up. */
    @WithDefault("127.0.0.1")
    String nbdBind();

    /**
     * Offer structured replies (NBD_OPT_STRUCTURED_REPLY), and with them sparse READs and block status.
     * Off: the option is refused (NBD_REP_ERR_UNSUP), as {@code nbdkit --no-sr} does, and every client
     * gets simple replies: for a client that mishandles them, and to measure one mode against the other
     * (bench/ab.sh). See docs/nbd.md.
     */
    @WithDefault("true")
    boolean nbdStructuredReplies();

    /** Connections open at once on all NBD listeners; past it a new one is closed at once, and logged. */
    @WithDefault("2048")
    int nbdMaxConnections();

    /** Connections to one volume; past it NBD_OPT_GO is refused (NBD_REP_ERR_POLICY), and logged. */
    @WithDefault("512")
    int nbdMaxConnectionsPerVolume();

    /** Time a client has from connecting to the end of its handshake; then it is dropped, and logged. */
    @WithDefault("10s")
    Duration nbdHandshakeTimeout();

    /** Options one handshake may send; the client that sends more is dropped, and logged. */
    @WithDefault("256")
    int nbdMaxOptions();

    /**
     * READ and WRITE payload one connection may have in flight; a request past it waits, and the
     * connection reads nothing meanwhile. At least the largest request (32M).
     */
    @WithDefault("64M")
    MemorySize nbdMaxPayloadPerConnection();

    /** The same for all NBD connections together (direct memory); at least the per-connection figure. */
    @WithDefault("256M")
    MemorySize nbdMaxPayload();

    /** Time one reply write may block; a client that reads none of its replies that long is disconnected. */
    @WithDefault("60s")
    Duration nbdWriteTimeout();

    /**
     * NBD_OPT_STARTTLS on every NBD listener, unix socket and TCP alike: {@code off} (refused), {@code on}
     * (offered; plaintext clients served too) or {@code require} (no option but STARTTLS and ABORT before
     * it). On or require needs nbd-tls-certificates or nbd-tls-psk-file. See docs/nbd.md, "TLS".
     */
    @WithDefault("off")
    String nbdTls();

    /**
     * A directory holding {@code server-cert.pem} and {@code server-key.pem} (and {@code ca-cert.pem} for
     * nbd-tls-verify-peer), as nbdkit's {@code --tls-certificates}: the server's X.509 credentials.
     */
    Optional<String> nbdTlsCertificates();

    /** Ask every TLS client for a certificate signed by the directory's {@code ca-cert.pem}. */
    @WithDefault("false")
    boolean nbdTlsVerifyPeer();

    /** A key file as GnuTLS's psktool writes it ({@code username:hexkey} lines): TLS with pre-shared keys. */
    Optional<String> nbdTlsPskFile();

    /**
     * Allow a TCP listener bound beyond loopback (nbd-bind) with nbd-tls off: anyone who reaches it can
     * read and write every volume, so the agent refuses to start that way unless this says it is meant.
     */
    @WithDefault("false")
    boolean nbdAllowPlaintextTcp();

    /**
     * A benchmark switch, never for use: a second unix socket serving the same volumes with counting
     * off, so that bench/run.sh can measure counting on versus off in one agent. Absent (the default):
     * no such socket, and every request is counted.
     */
    Optional<String> benchmarkUncountedSocket();

    /**
     * Seconds the kernel waits for the answer to a request on a kernel-attached device before it drops
     * the connection (NBD_ATTR_TIMEOUT). Through netlink the request is then queued again and the agent
     * gives the device a new socket; through the ioctls the device fails. See docs/kernel.md.
     */
    @WithDefault("30")
    long kernelTimeout();

    /**
     * Seconds a netlink-attached device holds its I/O while no agent serves it (a restart), before the
     * kernel fails it (NBD_ATTR_DEAD_CONN_TIMEOUT). It must cover the agent's restart. See docs/kernel.md.
     */
    @WithDefault("120")
    long kernelDeadConnTimeout();

    /**
     * Which kernel interface attaches devices: {@code auto} (netlink where the kernel has it, else the
     * ioctls) or {@code ioctl} (always the ioctls: no take-back after a restart; for testing the fallback).
     */
    @WithDefault("auto")
    String kernelInterface();

    /**
     * Expose each volume's latency and request-size histograms on {@code /q/metrics}
     * ({@code dmp_volume_request_duration_seconds}, {@code dmp_volume_request_size_bytes}: 50 series per
     * volume and operation, 300 per volume). Off: the counters only. See docs/agent.md, "Metrics".
     */
    @WithDefault("true")
    boolean metricsHistograms();
}
