package dev.dmp.agent.kernel;

import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.nbd.TransmissionLoop;
import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * An attachment through the kernel's classic ioctl interface, for kernels without the netlink one:
 * the kernel holds one end of a socketpair and the agent's own {@link TransmissionLoop} serves the
 * other. Two platform threads live as long as the attachment: one blocked in NBD_DO_IT, one reading
 * requests. Platform, not virtual: both block inside native calls, which would pin a carrier thread for
 * the life of the device. Such a device dies with the agent. See docs/kernel.md.
 */
final class IoctlAttachment extends DeviceAttachment {
    private static final Logger LOG = Logger.getLogger(IoctlAttachment.class);
    /** How long the kernel may take to start the device. */
    private static final long START_MS = 20_000;

    private final NbdDevice device;
    private final SocketPairChannel channel;
    private final ExecutorService workers;
    private final Consumer<Attachment> onEnd;
    private final Object lock = new Object();
    private Thread serveThread;
    private Thread doItThread;
    private volatile boolean detaching;
    private volatile String serveError;
    private volatile NbdIoctlException doItError;
    private volatile long taskId;

    private IoctlAttachment(
            String volume, int number, int blockSize, NbdDevice device, int socket, Consumer<Attachment> onEnd) {
        super(volume, number, blockSize, AttachmentState.ATTACHING);
        this.device = device;
        this.channel = new SocketPairChannel(socket);
        this.workers = Executors.newCachedThreadPool(
                Thread.ofPlatform().name("nbd" + number + "-io-", 0).daemon().factory());
        this.onEnd = onEnd;
    }

    /**
     * Configures {@code /dev/nbdN} for the export and starts it; returns once the kernel runs the device
     * (its sysfs pid file exists). On failure nothing is left configured. {@code onEnd} is called once,
     * from the NBD_DO_IT thread, when the device has stopped and been released (detached or failed).
     */
    static IoctlAttachment start(
            String volume,
            int number,
            Export export,
            long size,
            int blockSize,
            int flags,
            long timeoutSeconds,
            NbdSysfs sysfs,
            Consumer<Attachment> onEnd)
            throws NbdIoctlException {
        String path = "/dev/nbd" + number;
        NbdDevice device = NbdDevice.open(path);
        int[] pair = {-1, -1};
        boolean handedOver = false;
        try {
            device.setBlockSize(blockSize);
            device.setSizeBlocks(size / blockSize);
            device.setFlags(flags);
            device.setTimeout(timeoutSeconds);
            pair = SocketPairChannel.pair();
            try {
                device.setSock(pair[0]);
            } finally {
                // The kernel took its own reference to the socket (or refused it): our descriptor can go.
                LibC.get().close(pair[0]);
            }
            handedOver = true;
        } finally {
            if (!handedOver) {
                if (pair[1] >= 0) {
                    LibC.get().close(pair[1]);
                }
                device.close();
            }
        }
        IoctlAttachment a = new IoctlAttachment(volume, number, blockSize, device, pair[1], onEnd);
        a.run(export);
        a.awaitStarted(sysfs);
        return a;
    }

    private void run(Export export) {
        serveThread = Thread.ofPlatform().name("nbd" + number + "-serve").start(() -> serve(export));
        doItThread = Thread.ofPlatform().name("nbd" + number + "-do-it").start(this::doIt);
    }

    private void serve(Export export) {
        try {
            new TransmissionLoop(channel, export, workers).run();
        } catch (Exception e) {
            serveError = e.getMessage() == null ? e.toString() : e.getMessage();
            if (!detaching) {
                LOG.warnf("%s on %s: serving the kernel failed: %s", volume, path(), serveError);
            }
        } finally {
            // After NBD_CMD_DISC or an error: closing our end is what makes the kernel's NBD_DO_IT return.
            channel.shutdown();
        }
    }

    private void doIt() {
        try {
            device.doIt();
        } catch (NbdIoctlException e) {
            doItError = e;
        }
        channel.shutdown();
        Threads.join(serveThread, DETACH_MS);
        synchronized (lock) {
            try {
                device.clearQueue();
            } catch (NbdIoctlException e) {
                LOG.debugf("%s: %s", path(), e.getMessage());
            }
            try {
                device.clearSock();
            } catch (NbdIoctlException e) {
                LOG.warnf("%s: %s", path(), e.getMessage());
            }
            device.close();
            channel.close();
            workers.shutdown();
            if (detaching) {
                nowDetached();
                LOG.infof("%s detached from %s", volume, path());
            } else {
                nowFailed(path() + ": " + failure() + "; the device was released");
                LOG.warnf("volume %s: kernel attachment %s", volume, stateText());
            }
        }
        onEnd.accept(this);
    }

    private String failure() {
        if (doItError != null && doItError.errno() == Errno.ETIMEDOUT) {
            return "the kernel timed out a request (NBD_SET_TIMEOUT) and dropped the connection";
        }
        if (serveError != null) {
            return "the connection failed: " + serveError;
        }
        if (doItError != null) {
            return doItError.getMessage();
        }
        return "the kernel closed the connection";
    }

    private void awaitStarted(NbdSysfs sysfs) throws NbdIoctlException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_MS);
        while (System.nanoTime() < deadline && doItThread.isAlive()) {
            var pid = sysfs.pid(number);
            if (pid.isPresent()) {
                taskId = pid.getAsLong();
                nowAttached();
                return;
            }
            Threads.sleepMs(20);
        }
        // Never started: stop whatever runs and report why.
        detaching = true;
        channel.shutdown();
        Threads.join(doItThread, DETACH_MS);
        if (doItError != null) {
            throw doItError;
        }
        throw new NbdIoctlException(
                "NBD_DO_IT on " + path() + " (device did not start within " + START_MS + " ms)", Errno.ETIMEDOUT);
    }

    /**
     * Stops the device: NBD_DISCONNECT makes the kernel send NBD_CMD_DISC, the loop answers what is in
     * flight and closes its end, NBD_DO_IT returns and its thread clears the socket. If the kernel does
     * not react, our end is shut down, which ends the device as a failed connection would.
     * Returns false if the NBD_DO_IT thread is still alive after that (reported, never hidden).
     */
    @Override
    public boolean detach() {
        detaching = true;
        synchronized (lock) {
            if (doItThread.isAlive()) {
                try {
                    device.disconnect();
                } catch (NbdIoctlException e) {
                    LOG.warnf("%s: %s; closing the connection instead", path(), e.getMessage());
                    channel.shutdown();
                }
            }
        }
        return awaitEnd(doItThread, "NBD_DISCONNECT", channel::shutdown);
    }

    @Override
    public Via via() {
        return Via.IOCTL;
    }

    @Override
    public long taskId() {
        return taskId;
    }
}
