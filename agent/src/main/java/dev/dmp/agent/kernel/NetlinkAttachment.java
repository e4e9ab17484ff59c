package dev.dmp.agent.kernel;

import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.nbd.TransmissionLoop;
import dev.dmp.agent.os.LibC;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * An attachment made through the kernel's generic netlink interface ({@link NbdGenl}). The device lives
 * in the kernel, not in a blocked ioctl: when the agent's end of the socket goes away (the agent was
 * killed, or the kernel dropped a connection whose request timed out), the kernel keeps the device,
 * queues its I/O for up to the dead-connection timeout and waits for NBD_CMD_RECONFIGURE with a new
 * socket. This agent sends one itself when its connection ends while it runs, and a restarted agent
 * takes the device back with {@link #takeBack}. One platform thread serves the connection for the
 * life of the attachment. See docs/kernel.md.
 */
final class NetlinkAttachment extends DeviceAttachment {
    private static final Logger LOG = Logger.getLogger(NetlinkAttachment.class);
    /**
     * A connection that ends sooner than this plus the request timeout after it was made counts as a
     * quick failure: a backend that stalls every request makes each connection last about the timeout.
     */
    private static final long QUICK_MS = 10_000;
    /** How often the serve thread looks whether the kernel dropped the connection. */
    private static final int HANG_UP_POLL_MS = 500;
    /** Quick failures in a row after which the device is given up rather than handed yet another socket. */
    private static final int MAX_QUICK_FAILURES = 3;

    private final String backend;
    private final KernelTimeouts timeouts;
    private final NbdGenl genl;
    private final ExecutorService workers;
    private final Consumer<Attachment> onEnd;
    private final Object lock = new Object();
    private final long taskId;
    /** The current connection's end; a dropped one's loop may still run, and closes its own end. */
    private volatile SocketPairChannel channel;

    private volatile boolean detaching;
    private Thread serveThread;

    private NetlinkAttachment(
            String volume,
            int number,
            int blockSize,
            String backend,
            KernelTimeouts timeouts,
            NbdGenl genl,
            int socket,
            long taskId,
            Consumer<Attachment> onEnd) {
        super(volume, number, blockSize, AttachmentState.ATTACHED);
        this.backend = backend;
        this.timeouts = timeouts;
        this.genl = genl;
        this.channel = new SocketPairChannel(socket);
        this.taskId = taskId;
        this.workers = Executors.newCachedThreadPool(
                Thread.ofPlatform().name("nbd" + number + "-io-", 0).daemon().factory());
        this.onEnd = onEnd;
    }

    /**
     * NBD_CMD_CONNECT of {@code /dev/nbdN} on a new socketpair, then serves it. The kernel has started
     * the device when the call returns. On failure nothing is left configured.
     */
    static NetlinkAttachment connect(
            String volume,
            int number,
            Export export,
            long size,
            int blockSize,
            int flags,
            KernelTimeouts timeouts,
            String backend,
            NbdGenl genl,
            NbdSysfs sysfs,
            Consumer<Attachment> onEnd)
            throws NbdIoctlException {
        int socket = handOver(pair -> genl.connect(new NbdNetlink.Connect(
                number, size, blockSize, flags, timeouts.requestSeconds(), timeouts.deadConnSeconds(), backend, pair)));
        return serve(
                new NetlinkAttachment(
                        volume,
                        number,
                        blockSize,
                        backend,
                        timeouts,
                        genl,
                        socket,
                        sysfs.pid(number).orElse(0),
                        onEnd),
                export);
    }

    /**
     * Takes back a device a previous run of this agent attached (its connection is dead, the kernel
     * queues its I/O): NBD_CMD_RECONFIGURE with the same backend identifier and a new socket. The device
     * number stays; a file system mounted on it sees a pause, then its queued requests are served.
     */
    static NetlinkAttachment takeBack(
            String volume,
            int number,
            Export export,
            int blockSize,
            KernelTimeouts timeouts,
            String backend,
            NbdGenl genl,
            NbdSysfs sysfs,
            Consumer<Attachment> onEnd)
            throws NbdIoctlException {
        int socket = handOver(
                pair -> genl.reconfigure(number, backend, timeouts.requestSeconds(), timeouts.deadConnSeconds(), pair));
        return serve(
                new NetlinkAttachment(
                        volume,
                        number,
                        blockSize,
                        backend,
                        timeouts,
                        genl,
                        socket,
                        sysfs.pid(number).orElse(0),
                        onEnd),
                export);
    }

    /**
     * NBD_ATTR_BACKEND_IDENTIFIER, shown in /sys/block/nbdN/backend: whose device it is, so that a
     * restarted agent takes back its own devices only, and the kernel refuses a reconfigure of another's.
     */
    static String backendId(String hostId, String volume) {
        return "dmp:" + hostId + ":" + volume;
    }

    private interface KernelCall {
        void give(int kernelSocket) throws NbdIoctlException;
    }

    /** Makes a socketpair, gives the kernel its end; returns the agent's end (closed if the kernel refused). */
    private static int handOver(KernelCall call) throws NbdIoctlException {
        int[] pair = SocketPairChannel.pair();
        try {
            call.give(pair[0]);
        } catch (NbdIoctlException e) {
            LibC.get().close(pair[1]);
            throw e;
        } finally {
            // The kernel took its own reference to the socket (or refused it): our descriptor can go.
            LibC.get().close(pair[0]);
        }
        return pair[1];
    }

    private static NetlinkAttachment serve(NetlinkAttachment a, Export export) {
        a.serveThread = Thread.ofPlatform().name("nbd" + a.number + "-serve").start(() -> a.serve(export));
        return a;
    }

    private void serve(Export export) {
        long quickMs = TimeUnit.SECONDS.toMillis(timeouts.requestSeconds()) + QUICK_MS;
        int quickFailures = 0;
        int reconnects = 0;
        while (true) {
            long started = System.nanoTime();
            String why = connection(export);
            synchronized (lock) {
                if (detaching) {
                    break;
                }
                long lastedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                quickFailures = lastedMs < quickMs ? quickFailures + 1 : 0;
                if (quickFailures <= MAX_QUICK_FAILURES) {
                    try {
                        channel = new SocketPairChannel(handOver(pair -> genl.reconfigure(
                                number, backend, timeouts.requestSeconds(), timeouts.deadConnSeconds(), pair)));
                        reconnects++;
                        LOG.warnf(
                                "volume %s on %s: %s after %d ms; gave the kernel a new socket (NBD_CMD_RECONFIGURE), "
                                        + "reconnect %d (%d of the %d allowed in a row within %d ms)",
                                volume, path(), why, lastedMs, reconnects, quickFailures, MAX_QUICK_FAILURES, quickMs);
                        continue;
                    } catch (NbdIoctlException e) {
                        why += "; a new socket was refused: " + e.getMessage();
                    }
                } else {
                    why += "; " + quickFailures + " connections in a row ended within " + quickMs + " ms";
                }
                try {
                    genl.disconnect(number);
                } catch (NbdIoctlException e) {
                    LOG.debugf("%s: %s", path(), e.getMessage());
                }
                nowFailed(path() + ": " + why + " (" + reconnects + " reconnects); the device was released");
                LOG.warnf("volume %s: kernel attachment %s", volume, stateText());
                break;
            }
        }
        workers.shutdown();
        if (detaching) {
            nowDetached();
            LOG.infof("%s detached from %s", volume, path());
        }
        onEnd.accept(this);
    }

    /**
     * Serves one connection on its own thread until it ends, or until the kernel drops it: then at once,
     * even while a request is still in the backend (a stalled backend must not hold the device up; that
     * loop ends when its backend call returns, and closes its end). Returns why it ended.
     */
    private String connection(Export export) {
        SocketPairChannel ch = channel;
        String[] error = {null};
        Thread loop = Thread.ofPlatform().name("nbd" + number + "-loop").start(() -> {
            try {
                new TransmissionLoop(ch, export, workers).run();
            } catch (Exception e) {
                error[0] = e.getMessage() == null ? e.toString() : e.getMessage();
            } finally {
                ch.close();
            }
        });
        while (loop.isAlive()) {
            if (ch.awaitHangUp(HANG_UP_POLL_MS)) {
                if (!detaching) {
                    ch.shutdown();
                    Threads.join(loop, HANG_UP_POLL_MS);
                    break;
                }
                // A detach: the loop answers what is in flight, then ends (detach() cuts it if not).
                Threads.join(loop, HANG_UP_POLL_MS);
            }
        }
        return error[0] != null
                ? "the connection failed: " + error[0]
                : "the kernel closed the connection (a request unanswered for " + timeouts.requestSeconds()
                        + " s, or NBD_CMD_DISC)";
    }

    /**
     * NBD_CMD_DISCONNECT: the kernel sends NBD_CMD_DISC, the loop answers what is in flight and returns,
     * the kernel releases the device once nobody has it open. If the kernel refuses, our end is shut down.
     */
    @Override
    public boolean detach() {
        synchronized (lock) {
            detaching = true;
        }
        try {
            genl.disconnect(number);
        } catch (NbdIoctlException e) {
            LOG.warnf("%s: %s; closing the connection instead", path(), e.getMessage());
            channel.shutdown();
        }
        return awaitEnd(serveThread, "NBD_CMD_DISCONNECT", () -> channel.shutdown());
    }

    @Override
    public long taskId() {
        return taskId;
    }

    @Override
    public Via via() {
        return Via.NETLINK;
    }
}
