package dev.dmp.agent.kernel;

import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import dev.dmp.agent.protocol.NbdProtocol;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.proto.v1.KernelAttachmentRecord;
import dev.dmp.proto.v1.Volume;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * This agent's kernel attachments, by volume: attaches a volume's export as a free {@code /dev/nbdN}
 * ({@link DeviceAllocator}) through netlink where the kernel offers it, else the ioctls
 * ({@link KernelInterface}), with the volume's timeouts ({@link RequestTimeouts}); detaches it, unless
 * a file system holds it; records every attachment ({@link AttachmentRecordFile}) so that the next start
 * can take back what a killed run left ({@link OrphanRecovery}); and detaches them all on shutdown.
 */
public final class KernelAttacher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KernelAttacher.class);
    /** The transmission flags the kernel understands; anything else the export advertises is withheld. */
    static final int KERNEL_FLAGS = NbdProtocol.NBD_FLAG_HAS_FLAGS
            | NbdProtocol.NBD_FLAG_READ_ONLY
            | NbdProtocol.NBD_FLAG_SEND_FLUSH
            | NbdProtocol.NBD_FLAG_SEND_FUA
            | NbdProtocol.NBD_FLAG_SEND_TRIM;

    private final NbdSysfs sysfs;
    private final String hostId;
    private final DeviceAllocator devices;
    private final KernelInterface kernelInterface;
    private final RequestTimeouts timeouts;
    private final OrphanRecovery orphans;
    private final AttachmentRecordFile records;
    private final ConcurrentMap<String, Attachment> attachments = new ConcurrentHashMap<>();
    /** Volumes of the checkpoint that asked for a device and could not get one at start: the reason. */
    private final ConcurrentMap<String, String> notReattached = new ConcurrentHashMap<>();
    /**
     * Volumes whose device went because the agent stops (preStop drain or SIGTERM), not because it was
     * deleted: they still want one, so the last checkpoint says so and the next start attaches them again.
     */
    private final Set<String> detachedForShutdown = ConcurrentHashMap.newKeySet();
    /** Told of an attachment that failed on its own (not detached on request): the agent tells the controller. */
    private volatile Consumer<Attachment> onFailure = a -> {};

    public KernelAttacher(NbdSysfs sysfs, Path stateDir, String hostId, KernelTimeouts timeouts, boolean ioctlOnly) {
        this.sysfs = sysfs;
        this.hostId = hostId;
        this.devices = new DeviceAllocator(sysfs);
        this.kernelInterface = new KernelInterface(ioctlOnly, timeouts);
        this.timeouts = new RequestTimeouts(timeouts);
        this.orphans = new OrphanRecovery(sysfs, kernelInterface, devices, hostId);
        this.records = new AttachmentRecordFile(stateDir);
    }

    /** NBD_ATTR_BACKEND_IDENTIFIER of the volume's device on this host. */
    String backendId(String volume) {
        return NetlinkAttachment.backendId(hostId, volume);
    }

    /** Calls {@code listener} (on the attachment's thread) when an attachment fails while the agent runs. */
    public void onFailure(Consumer<Attachment> listener) {
        this.onFailure = listener;
    }

    /** The request timeout the volume was created with, 0 when it uses dmp.agent.kernel-timeout. */
    public long requestTimeout(String volume) {
        return timeouts.of(volume);
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
            throw new VolumeException(
                    Status.Code.FAILED_PRECONDITION,
                    "this host's kernel has no nbd driver "
                            + "(/sys/module/nbd is absent): run 'modprobe nbd' as root, then create the volume again");
        }
        int blockSize = BlockSize.forSize(size);
        if (blockSize == 0) {
            throw new VolumeException(
                    Status.Code.INVALID_ARGUMENT,
                    "a kernel-attached volume's size must be a " + "multiple of 512 bytes; " + size + " is not");
        }
        int flags = export.transmissionFlags() & KERNEL_FLAGS;
        KernelTimeouts t = timeouts.with(timeoutSeconds);
        List<Integer> tried = new ArrayList<>();
        while (true) {
            int n = devices.reserveFree(tried);
            try {
                Optional<NbdGenl> nl = kernelInterface.netlink();
                Attachment a = nl.isPresent()
                        ? NetlinkAttachment.connect(
                                volume,
                                n,
                                export,
                                size,
                                blockSize,
                                flags,
                                t,
                                backendId(volume),
                                nl.get(),
                                sysfs,
                                this::ended)
                        : IoctlAttachment.start(
                                volume, n, export, size, blockSize, flags, t.requestSeconds(), sysfs, this::ended);
                attached(a, timeoutSeconds);
                LOG.infof(
                        "volume %s attached as %s via %s (%d bytes, block size %d, flags 0x%x, request timeout %d s)",
                        volume, a.path(), a.via(), size, blockSize, flags, t.requestSeconds());
                return a;
            } catch (NbdIoctlException e) {
                devices.release(n);
                tried.add(n);
                if (e.errno() == Errno.EBUSY) {
                    // Another program took this device between our look at sysfs and NBD_SET_SOCK: try the next.
                    continue;
                }
                throw refused(volume, n, e);
            }
        }
    }

    private static VolumeException refused(String volume, int n, NbdIoctlException e) {
        String what = "volume '" + volume + "': attaching /dev/nbd" + n + ": " + e.getMessage();
        return switch (e.errno()) {
            case Errno.EPERM, Errno.EACCES ->
                new VolumeException(
                        Status.Code.PERMISSION_DENIED,
                        what + "; attaching a kernel device needs root (CAP_SYS_ADMIN): run the agent as root");
            case Errno.ENOENT, Errno.ENXIO, Errno.ENODEV ->
                new VolumeException(
                        Status.Code.FAILED_PRECONDITION,
                        what
                                + "; the device node is missing: is the nbd driver loaded ('modprobe nbd') and /dev populated?");
            default -> new VolumeException(Status.Code.FAILED_PRECONDITION, what);
        };
    }

    /**
     * Attaches again, at start, a volume of the checkpoint that was created with {@code kernel: true}:
     * takes back the device a killed run left for it, if any, else attaches a free one.
     * A refusal (no driver, no free device...) does not stop the agent: the volume is served on its
     * socket only, the reason is logged and shown as its attachment state, and the next start tries again.
     */
    public void reattach(String volume, Export export, long size, long timeoutSeconds) {
        Optional<Attachment> taken = orphans.takeBack(volume, export, size, timeouts.with(timeoutSeconds), this::ended);
        if (taken.isPresent()) {
            attached(taken.get(), timeoutSeconds);
            LOG.infof(
                    "volume %s from the checkpoint took back %s via netlink (NBD_CMD_RECONFIGURE with a new socket): "
                            + "the I/O it queued while the agent was away is served now",
                    volume, taken.get().path());
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
     * After the checkpoint's volumes were served again: devices left for volumes it no longer has are
     * disconnected (their I/O fails now rather than at the dead-connection timeout).
     */
    public void releaseOrphans() {
        orphans.releaseOrphans();
    }

    /** True when the volume asked for a device (attached, failed since, or refused at start): the checkpoint keeps it. */
    public boolean wanted(String volume) {
        return attachments.containsKey(volume)
                || notReattached.containsKey(volume)
                || detachedForShutdown.contains(volume);
    }

    /** The reason a volume of the checkpoint was not attached again at start, if it was not. */
    public Optional<String> refusal(String volume) {
        return Optional.ofNullable(notReattached.get(volume));
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
        if (!force && a.attached() && claimed(a)) {
            throw new VolumeException(
                    Status.Code.FAILED_PRECONDITION,
                    "volume '" + volume + "' is in use on " + a.path()
                            + " (mounted, or held by another device): unmount it first, or delete with force");
        }
        if (!a.detach()) {
            LOG.errorf(
                    "%s: its connection did not end after detach (via %s); the device may stay bound",
                    a.path(), a.via());
        }
        attachments.remove(volume, a);
        if (!detachedForShutdown.contains(volume)) {
            timeouts.forget(volume);
        }
    }

    /** The busy check: true when something holds the device exclusively; false when that cannot be told (logged). */
    private static boolean claimed(Attachment a) {
        try {
            return NbdDevice.claimed(a.path());
        } catch (NbdIoctlException e) {
            LOG.warnf("%s: cannot tell whether it is in use: %s", a.path(), e.getMessage());
            return false;
        }
    }

    /** Records a running attachment (and the volume's own request timeout, if any). */
    void attached(Attachment a, long timeoutSeconds) {
        timeouts.remember(a.volume(), timeoutSeconds);
        attachments.put(a.volume(), a);
        record();
    }

    /**
     * Called from an attachment's thread once its device is released (detached or failed). A failure
     * (nobody asked for it) is passed on to the {@link #onFailure} listener.
     */
    void ended(Attachment a) {
        devices.release(a.number());
        record();
        if (a.state() == AttachmentState.FAILED) {
            onFailure.accept(a);
        }
    }

    public Optional<Attachment> find(String volume) {
        return Optional.ofNullable(attachments.get(volume));
    }

    /**
     * The volume's kernel attachment as the API shows it (volume.proto {@code Volume} device,
     * block_size, attachment, attachment_state); nothing is set for a volume that never asked for one.
     */
    public void describe(String volume, Volume.Builder b) {
        Attachment a = attachments.get(volume);
        if (a != null) {
            boolean device = a.state().hasDevice();
            b.setDevice(device ? a.path() : "")
                    .setBlockSize(device ? a.blockSize() : 0)
                    .setAttachment(a.stateText())
                    .setAttachmentState(a.state().wire());
        }
        String refused = notReattached.get(volume);
        if (refused != null) {
            b.setAttachment(refused).setAttachmentState(AttachmentState.FAILED.wire());
        }
    }

    /**
     * At start, before the checkpoint is restored: looks for the devices a previous run of this agent
     * recorded and left behind (it was killed), see {@link OrphanRecovery}. Returns the devices cleared.
     */
    public List<String> clearStale() {
        if (sysfs.driverPresent()) {
            // Load the native bindings now rather than in the first CreateVolume: under software
            // emulation that takes tens of seconds, longer than the controller waits for an answer.
            LibC.get();
        }
        List<String> cleared = orphans.recover(records.load());
        record();
        return cleared;
    }

    /** Writes the attachments to the record file (durably), so a killed agent's devices can be found. */
    private synchronized void record() {
        List<KernelAttachmentRecord> out = new ArrayList<>();
        attachments.values().stream().filter(Attachment::attached).forEach(a -> out.add(AttachmentRecordFile.of(a)));
        out.addAll(orphans.waiting());
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
