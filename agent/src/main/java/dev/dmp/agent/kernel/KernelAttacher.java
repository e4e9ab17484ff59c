package dev.dmp.agent.kernel;

import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.nbd.NbdProtocol;
import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.proto.v1.AttachedVia;
import dev.dmp.proto.v1.KernelAttachmentRecord;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * This agent's kernel attachments, by volume. Picks a free {@code /dev/nbdN} (never the same one for
 * two volumes attached at once), attaches it through netlink where the kernel offers it (else the
 * ioctls), records every attachment in {@code STATE_DIR/kernel-attachments.pb} so that the next start can
 * take back the netlink devices a killed agent left behind (and clear the ioctl ones), and detaches
 * them all on shutdown.
 */
public final class KernelAttacher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KernelAttacher.class);
    /** The transmission flags the kernel understands; anything else the export advertises is withheld. */
    static final int KERNEL_FLAGS = NbdProtocol.NBD_FLAG_HAS_FLAGS | NbdProtocol.NBD_FLAG_READ_ONLY
            | NbdProtocol.NBD_FLAG_SEND_FLUSH | NbdProtocol.NBD_FLAG_SEND_FUA | NbdProtocol.NBD_FLAG_SEND_TRIM;

    private final NbdSysfs sysfs;
    private final AttachmentRecordFile records;
    private final String hostId;
    private final KernelTimeouts timeouts;
    /** dmp.agent.kernel-interface=ioctl: never netlink. */
    private final boolean ioctlOnly;
    /** The netlink interface, resolved at the first use; empty when the kernel has none (ioctls then). */
    private Optional<NbdGenl> genl;
    /** Netlink devices a previous run left configured for this host's volumes: volume -> N, until taken back. */
    private final ConcurrentMap<String, Integer> orphans = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Attachment> attachments = new ConcurrentHashMap<>();
    /** Volumes of the checkpoint that asked for a device and could not get one at start: the reason. */
    private final ConcurrentMap<String, String> notReattached = new ConcurrentHashMap<>();
    /**
     * Volumes whose device went because the agent stops (preStop drain or SIGTERM), not because it was
     * deleted: they still want one, so the last checkpoint says so and the next start attaches them again.
     */
    private final Set<String> detachedForShutdown = ConcurrentHashMap.newKeySet();
    /** Volumes created with a request timeout of their own (CreateVolume.kernel_timeout_seconds): seconds. */
    private final ConcurrentMap<String, Long> requestTimeouts = new ConcurrentHashMap<>();
    /** Told of an attachment that failed on its own (not detached on request): the agent tells the controller. */
    private volatile Consumer<Attachment> onFailure = a -> { };
    /** Devices chosen and not yet released; guarded by this. */
    private final Set<Integer> reserved = new HashSet<>();

    public KernelAttacher(NbdSysfs sysfs, Path stateDir, String hostId, KernelTimeouts timeouts, boolean ioctlOnly) {
        this.ioctlOnly = ioctlOnly;
        this.sysfs = sysfs;
        this.records = new AttachmentRecordFile(stateDir);
        this.hostId = hostId;
        this.timeouts = timeouts;
    }

    /** NBD_ATTR_BACKEND_IDENTIFIER, shown in /sys/block/nbdN/backend: whose device it is. */
    String backendId(String volume) {
        return "dmp:" + hostId + ":" + volume;
    }

    /** The netlink interface if the kernel has one; looked up once (CTRL_CMD_GETFAMILY "nbd"). */
    private synchronized Optional<NbdGenl> genl() {
        if (genl == null && ioctlOnly) {
            LOG.infof("dmp.agent.kernel-interface=ioctl: devices are attached with ioctls and end with the agent");
            genl = Optional.empty();
        } else if (genl == null) {
            try {
                genl = NbdGenl.open();
            } catch (NbdIoctlException e) {
                LOG.warnf("the kernel's nbd netlink interface cannot be used (%s): attaching with ioctls", e.getMessage());
                genl = Optional.empty();
            }
            LOG.infof(genl.isPresent() ? "the kernel has the nbd netlink interface: devices are attached through it "
                    + "(request timeout %d s, dead-connection timeout %d s) and survive an agent restart"
                    : "the kernel has no nbd netlink interface (family \"nbd\"): devices are attached with ioctls "
                    + "(request timeout %d s; dead-connection timeout %d s unused) and end with the agent",
                    timeouts.requestSeconds(), timeouts.deadConnSeconds());
        }
        return genl;
    }

    /** The netlink interface, for a device only it can have made (take-back, orphans). */
    private NbdGenl netlink() throws NbdIoctlException {
        return genl().orElseThrow(() -> new NbdIoctlException("the nbd netlink interface", Errno.ENOENT));
    }

    /** Calls {@code listener} (on the attachment's thread) when an attachment fails while the agent runs. */
    public void onFailure(Consumer<Attachment> listener) {
        this.onFailure = listener;
    }

    /** The request timeout the volume was created with, 0 when it uses dmp.agent.kernel-timeout. */
    public long requestTimeout(String volume) {
        return requestTimeouts.getOrDefault(volume, 0L);
    }

    /** The agent's timeouts, with the volume's own request timeout when it has one (0: none). */
    private KernelTimeouts timeouts(long requestSeconds) {
        return requestSeconds > 0 ? new KernelTimeouts(requestSeconds, timeouts.deadConnSeconds()) : timeouts;
    }

    /**
     * Attaches the export as a free /dev/nbdN, with a request timeout of {@code timeoutSeconds} (0: the
     * agent's dmp.agent.kernel-timeout). Nothing is left configured when it fails.
     */
    public Attachment attach(String volume, Export export, long size, long timeoutSeconds) throws VolumeException {
        if (attachments.containsKey(volume)) {
            throw new VolumeException(Status.Code.ALREADY_EXISTS, "volume '" + volume + "' is already attached");
        }
        if (!sysfs.driverPresent()) {
            throw new VolumeException(Status.Code.FAILED_PRECONDITION, "this host's kernel has no nbd driver "
                    + "(/sys/module/nbd is absent): run 'modprobe nbd' as root, then create the volume again");
        }
        int blockSize = BlockSize.forSize(size);
        if (blockSize == 0) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, "a kernel-attached volume's size must be a "
                    + "multiple of 512 bytes; " + size + " is not");
        }
        int flags = export.transmissionFlags() & KERNEL_FLAGS;
        KernelTimeouts t = timeouts(timeoutSeconds);
        List<Integer> tried = new ArrayList<>();
        while (true) {
            int n = reserveFree(tried);
            try {
                Optional<NbdGenl> nl = genl();
                Attachment a = nl.isPresent()
                        ? NetlinkAttachment.connect(volume, n, export, size, blockSize, flags, t,
                                backendId(volume), nl.get(), sysfs, this::ended)
                        : IoctlAttachment.start(volume, n, export, size, blockSize, flags, t.requestSeconds(),
                                sysfs, this::ended);
                attached(a, timeoutSeconds);
                LOG.infof("volume %s attached as %s via %s (%d bytes, block size %d, flags 0x%x, request timeout %d s)",
                        volume, a.path(), a.via(), size, blockSize, flags, t.requestSeconds());
                return a;
            } catch (NbdIoctlException e) {
                release(n);
                tried.add(n);
                if (e.errno() == Errno.EBUSY) {
                    // Another program took this device between our look at sysfs and NBD_SET_SOCK: try the next.
                    continue;
                }
                throw refused(volume, n, e);
            }
        }
    }

    /**
     * Attaches again, at start, a volume of the checkpoint that was created with {@code kernel: true}.
     * A refusal (no driver, no free device...) does not stop the agent: the volume is served on its
     * socket only, the reason is logged and shown as its attachment state, and the next start tries again.
     */
    public void reattach(String volume, Export export, long size, long timeoutSeconds) {
        Integer orphan = orphans.remove(volume);
        if (orphan != null && takeBack(volume, orphan, export, size, timeoutSeconds)) {
            return;
        }
        try {
            Attachment a = attach(volume, export, size, timeoutSeconds);
            LOG.infof("volume %s from the checkpoint attached again as %s", volume, a.path());
        } catch (VolumeException e) {
            String why = "failed: not attached again at start: " + e.getMessage();
            notReattached.put(volume, why);
            LOG.errorf("volume %s from the checkpoint asked for a kernel device: %s", volume, why);
        }
    }

    /**
     * NBD_CMD_RECONFIGURE of a device the killed run left configured for this volume: the same
     * /dev/nbdN serves again. False (the device disconnected) when the kernel refuses or the size changed.
     */
    private boolean takeBack(String volume, int n, Export export, long size, long timeoutSeconds) {
        String path = "/dev/nbd" + n;
        int blockSize = BlockSize.forSize(size);
        try {
            if (sysfs.sizeBytes(n) != size || blockSize == 0) {
                throw new NbdIoctlException(path + " has " + sysfs.sizeBytes(n) + " bytes, the volume " + size, Errno.EINVAL);
            }
            synchronized (this) {
                reserved.add(n);
            }
            Attachment a = NetlinkAttachment.takeBack(volume, n, export, blockSize, timeouts(timeoutSeconds),
                    backendId(volume), netlink(), sysfs, this::ended);
            attached(a, timeoutSeconds);
            LOG.infof("volume %s from the checkpoint took back %s via netlink (NBD_CMD_RECONFIGURE with a new socket): "
                    + "the I/O it queued while the agent was away is served now", volume, path);
            return true;
        } catch (NbdIoctlException e) {
            release(n);
            LOG.errorf("volume %s: %s, left by the previous run, cannot be taken back: %s; disconnecting it and "
                    + "attaching a free device", volume, path, e.getMessage());
            disconnectOrphan(n);
            return false;
        }
    }

    private void disconnectOrphan(int n) {
        try {
            netlink().disconnect(n);
        } catch (NbdIoctlException e) {
            LOG.errorf("/dev/nbd%d: %s", n, e.getMessage());
        }
    }

    /**
     * After the checkpoint's volumes were served again: devices left for volumes it no longer has are
     * disconnected (their I/O fails now rather than at the dead-connection timeout).
     */
    public void releaseOrphans() {
        for (var e : orphans.entrySet()) {
            if (orphans.remove(e.getKey(), e.getValue())) {
                LOG.warnf("/dev/nbd%d was left by a previous run for volume %s, which the checkpoint does not have: "
                        + "disconnected", e.getValue(), e.getKey());
                disconnectOrphan(e.getValue());
            }
        }
    }

    /** True when the volume asked for a device (attached, failed since, or refused at start): the checkpoint keeps it. */
    public boolean wanted(String volume) {
        return attachments.containsKey(volume) || notReattached.containsKey(volume) || detachedForShutdown.contains(volume);
    }

    /** The reason a volume of the checkpoint was not attached again at start, if it was not. */
    public Optional<String> refusal(String volume) {
        return Optional.ofNullable(notReattached.get(volume));
    }

    private synchronized int reserveFree(List<Integer> tried) throws VolumeException {
        List<Integer> all = sysfs.devices();
        for (int n : all) {
            if (!reserved.contains(n) && !tried.contains(n) && sysfs.free(n)) {
                reserved.add(n);
                return n;
            }
        }
        throw new VolumeException(Status.Code.RESOURCE_EXHAUSTED, "no free nbd device: all " + all.size()
                + " /dev/nbdN are in use; delete a kernel-attached volume, or reload the driver with more devices "
                + "('modprobe nbd nbds_max=N' once none is in use)");
    }

    private synchronized void release(int n) {
        reserved.remove(n);
    }

    private static VolumeException refused(String volume, int n, NbdIoctlException e) {
        String what = "volume '" + volume + "': attaching /dev/nbd" + n + ": " + e.getMessage();
        return switch (e.errno()) {
            case Errno.EPERM, Errno.EACCES -> new VolumeException(Status.Code.PERMISSION_DENIED, what
                    + "; attaching a kernel device needs root (CAP_SYS_ADMIN): run the agent as root");
            case Errno.ENOENT, Errno.ENXIO, Errno.ENODEV -> new VolumeException(Status.Code.FAILED_PRECONDITION, what
                    + "; the device node is missing: is the nbd driver loaded ('modprobe nbd') and /dev populated?");
            default -> new VolumeException(Status.Code.FAILED_PRECONDITION, what);
        };
    }

    /**
     * Detaches the volume's device, if it has one. Unless {@code force}, a device something holds
     * (a mounted file system) is refused with nothing changed.
     */
    public void detach(String volume, boolean force) throws VolumeException {
        notReattached.remove(volume);
        Attachment a = attachments.get(volume);
        if (a == null) {
            return;
        }
        if (!force && a.attached()) {
            boolean busy;
            try {
                busy = NbdDevice.claimed(a.path());
            } catch (NbdIoctlException e) {
                busy = false;
                LOG.warnf("%s: cannot tell whether it is in use: %s", a.path(), e.getMessage());
            }
            if (busy) {
                throw new VolumeException(Status.Code.FAILED_PRECONDITION, "volume '" + volume + "' is in use on "
                        + a.path() + " (mounted, or held by another device): unmount it first, or delete with force");
            }
        }
        if (!a.detach()) {
            LOG.errorf("%s: its connection did not end after detach (via %s); the device may stay bound", a.path(), a.via());
        }
        attachments.remove(volume, a);
        if (!detachedForShutdown.contains(volume)) {
            requestTimeouts.remove(volume);
        }
    }

    /** Records a running attachment (and the volume's own request timeout, if any). */
    void attached(Attachment a, long timeoutSeconds) {
        if (timeoutSeconds > 0) {
            requestTimeouts.put(a.volume(), timeoutSeconds);
        }
        attachments.put(a.volume(), a);
        record();
    }

    /**
     * Called from an attachment's thread once its device is released (detached or failed). A failure
     * (nobody asked for it) is passed on to the {@link #onFailure} listener.
     */
    void ended(Attachment a) {
        release(a.number());
        record();
        if (a.state().startsWith("failed")) {
            onFailure.accept(a);
        }
    }

    public Optional<Attachment> find(String volume) {
        return Optional.ofNullable(attachments.get(volume));
    }

    /**
     * Devices recorded by a previous run of this agent (it was killed). A netlink device still configured
     * with this host's backend identifier for the volume is kept for {@link #reattach} to take back. An
     * ioctl device that still runs with a dead NBD_DO_IT task is disconnected and its socket cleared, so
     * no device stays bound to a dead socket. Devices another program has taken since are left alone.
     */
    public List<String> clearStale() {
        List<String> cleared = new ArrayList<>();
        if (sysfs.driverPresent()) {
            // Load the native bindings now rather than in the first CreateVolume: under software
            // emulation that takes tens of seconds, longer than the controller waits for an answer.
            LibC.get();
        }
        for (KernelAttachmentRecord r : records.load()) {
            int n = r.getDevice();
            String device = "/dev/nbd" + n;
            String volume = r.getVolume();
            long task = r.getTaskId();
            var now = sysfs.pid(n);
            if (r.getVia() == AttachedVia.ATTACHED_VIA_NETLINK) {
                Optional<String> backend = sysfs.backend(n);
                if (now.isPresent() && backend.equals(Optional.of(backendId(volume)))) {
                    orphans.put(volume, n);
                    LOG.infof("%s (volume %s) is still configured by the previous run (backend %s): taking it back",
                            device, volume, backend.get());
                } else if (now.isEmpty()) {
                    LOG.infof("%s (volume %s of a previous run) was already released by the kernel", device, volume);
                } else {
                    LOG.infof("%s (volume %s of a previous run) now has backend '%s': left alone", device, volume,
                            backend.orElse(""));
                }
            } else if (r.getVia() != AttachedVia.ATTACHED_VIA_IOCTL) {
                LOG.warnf("%s (volume %s of a previous run) has no interface on record: left alone", device, volume);
            } else if (now.isEmpty()) {
                LOG.infof("%s (volume %s of a previous run) was already released by the kernel", device, volume);
            } else if (now.getAsLong() != task || Files.exists(Path.of("/proc/" + task))) {
                LOG.infof("%s (volume %s of a previous run) is now run by task %d: left alone", device, volume, now.getAsLong());
            } else {
                try (NbdDevice d = NbdDevice.open(device)) {
                    try {
                        d.disconnect();
                    } catch (NbdIoctlException e) {
                        LOG.debugf("%s: %s", device, e.getMessage());
                    }
                    d.clearSock();
                    cleared.add(device);
                    LOG.warnf("%s was left attached by a previous run (volume %s, its task %d is dead): cleared",
                            device, volume, task);
                } catch (NbdIoctlException e) {
                    LOG.errorf("%s was left attached by a previous run (volume %s) and could not be cleared: %s",
                            device, volume, e.getMessage());
                }
            }
        }
        record();
        return cleared;
    }

    /** Writes the attachments to the record file (durably), so a killed agent's devices can be found. */
    private synchronized void record() {
        List<KernelAttachmentRecord> out = new ArrayList<>();
        attachments.values().stream().filter(Attachment::attached)
                .forEach(a -> out.add(KernelAttachmentRecord.newBuilder().setDevice(a.number()).setVolume(a.volume())
                        .setTaskId(a.taskId()).setVia(a.via().equals("netlink") ? AttachedVia.ATTACHED_VIA_NETLINK
                                : AttachedVia.ATTACHED_VIA_IOCTL).build()));
        // Not taken back yet: still the previous run's, and still to be taken back if this run dies first.
        orphans.forEach((volume, n) -> out.add(KernelAttachmentRecord.newBuilder().setDevice(n).setVolume(volume)
                .setVia(AttachedVia.ATTACHED_VIA_NETLINK).build()));
        try {
            records.save(out);
        } catch (IOException e) {
            LOG.warnf("cannot write %s: %s", records.path(), e);
        }
    }

    /** Detaches every device (agent shutdown): forced, since the agent is going away anyway. */
    @Override
    public void close() {
        detachAll();
    }

    /** Detaches every device, forced, as the agent stops; returns the devices that were detached. */
    public List<String> detachAll() {
        List<String> detached = new ArrayList<>();
        for (String volume : new ArrayList<>(attachments.keySet())) {
            try {
                String path = attachments.get(volume).path();
                detachedForShutdown.add(volume);
                detach(volume, true);
                detached.add(path);
            } catch (VolumeException e) {
                LOG.warnf("%s", e.getMessage());
            }
        }
        return detached;
    }
}
