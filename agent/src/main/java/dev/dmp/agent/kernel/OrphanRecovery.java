package dev.dmp.agent.kernel;

import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.os.Errno;
import dev.dmp.proto.v1.AttachedVia;
import dev.dmp.proto.v1.KernelAttachmentRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The devices a killed run of this agent left, found at start in its attachment records. A netlink
 * device still configured with this host's backend identifier for its volume is an orphan: kept for
 * that volume, taken back (NBD_CMD_RECONFIGURE with a new socket) when the checkpoint serves the volume
 * again, or disconnected once the checkpoint turns out not to have it. An ioctl device still bound to
 * its dead NBD_DO_IT task is disconnected and its socket cleared, so no device stays bound to a dead
 * socket. Devices another program has taken since are left alone. See docs/kernel.md, "Take-back".
 */
final class OrphanRecovery {
    private static final Logger LOG = Logger.getLogger(OrphanRecovery.class);

    private final NbdSysfs sysfs;
    private final KernelInterface kernelInterface;
    private final DeviceAllocator devices;
    private final String hostId;
    /** Netlink devices a previous run left configured for this host's volumes: volume -> N, until taken back. */
    private final ConcurrentMap<String, Integer> orphans = new ConcurrentHashMap<>();

    OrphanRecovery(NbdSysfs sysfs, KernelInterface kernelInterface, DeviceAllocator devices, String hostId) {
        this.sysfs = sysfs;
        this.kernelInterface = kernelInterface;
        this.devices = devices;
        this.hostId = hostId;
    }

    /**
     * Goes through the previous run's records: keeps its netlink devices that are still this host's,
     * clears its ioctl devices whose task is dead. Returns the devices cleared.
     */
    List<String> recover(List<KernelAttachmentRecord> records) {
        List<String> cleared = new ArrayList<>();
        for (KernelAttachmentRecord r : records) {
            String device = "/dev/nbd" + r.getDevice();
            switch (r.getVia()) {
                case ATTACHED_VIA_NETLINK -> keepIfOurs(r, device);
                case ATTACHED_VIA_IOCTL -> {
                    if (clearIfDead(r, device)) {
                        cleared.add(device);
                    }
                }
                default ->
                    LOG.warnf(
                            "%s (volume %s of a previous run) has no interface on record: left alone",
                            device, r.getVolume());
            }
        }
        return cleared;
    }

    private void keepIfOurs(KernelAttachmentRecord r, String device) {
        int n = r.getDevice();
        boolean running = sysfs.pid(n).isPresent();
        Optional<String> backend = sysfs.backend(n);
        if (running && backend.equals(Optional.of(NetlinkAttachment.backendId(hostId, r.getVolume())))) {
            orphans.put(r.getVolume(), n);
            LOG.infof(
                    "%s (volume %s) is still configured by the previous run (backend %s): taking it back",
                    device, r.getVolume(), backend.get());
        } else if (!running) {
            LOG.infof("%s (volume %s of a previous run) was already released by the kernel", device, r.getVolume());
        } else {
            LOG.infof(
                    "%s (volume %s of a previous run) now has backend '%s': left alone",
                    device, r.getVolume(), backend.orElse(""));
        }
    }

    /** NBD_DISCONNECT and NBD_CLEAR_SOCK of an ioctl device whose NBD_DO_IT task died with the previous run. */
    private boolean clearIfDead(KernelAttachmentRecord r, String device) {
        long task = r.getTaskId();
        var now = sysfs.pid(r.getDevice());
        if (now.isEmpty()) {
            LOG.infof("%s (volume %s of a previous run) was already released by the kernel", device, r.getVolume());
            return false;
        }
        if (now.getAsLong() != task || Files.exists(Path.of("/proc/" + task))) {
            LOG.infof(
                    "%s (volume %s of a previous run) is now run by task %d: left alone",
                    device, r.getVolume(), now.getAsLong());
            return false;
        }
        try (NbdDevice d = NbdDevice.open(device)) {
            try {
                d.disconnect();
            } catch (NbdIoctlException e) {
                LOG.debugf("%s: %s", device, e.getMessage());
            }
            d.clearSock();
            LOG.warnf(
                    "%s was left attached by a previous run (volume %s, its task %d is dead): cleared",
                    device, r.getVolume(), task);
            return true;
        } catch (NbdIoctlException e) {
            LOG.errorf(
                    "%s was left attached by a previous run (volume %s) and could not be cleared: %s",
                    device, r.getVolume(), e.getMessage());
            return false;
        }
    }

    /**
     * NBD_CMD_RECONFIGURE of the device the killed run left configured for this volume, if there is one:
     * the same /dev/nbdN serves again. Empty when there is none, or when the kernel refuses or the size
     * changed (the device is then disconnected, and the caller attaches a free one).
     */
    Optional<Attachment> takeBack(
            String volume, Export export, long size, KernelTimeouts timeouts, Consumer<Attachment> onEnd) {
        Integer orphan = orphans.remove(volume);
        if (orphan == null) {
            return Optional.empty();
        }
        int n = orphan;
        String path = "/dev/nbd" + n;
        int blockSize = BlockSize.forSize(size);
        try {
            if (sysfs.sizeBytes(n) != size || blockSize == 0) {
                throw new NbdIoctlException(
                        path + " has " + sysfs.sizeBytes(n) + " bytes, the volume " + size, Errno.EINVAL);
            }
            devices.reserve(n);
            Attachment a = NetlinkAttachment.takeBack(
                    volume,
                    n,
                    export,
                    blockSize,
                    timeouts,
                    NetlinkAttachment.backendId(hostId, volume),
                    kernelInterface.requireNetlink(),
                    sysfs,
                    onEnd);
            return Optional.of(a);
        } catch (NbdIoctlException e) {
            devices.release(n);
            LOG.errorf(
                    "volume %s: %s, left by the previous run, cannot be taken back: %s; disconnecting it and "
                            + "attaching a free device",
                    volume, path, e.getMessage());
            disconnect(n);
            return Optional.empty();
        }
    }

    /**
     * After the checkpoint's volumes were served again: devices left for volumes it no longer has are
     * disconnected (their I/O fails now rather than at the dead-connection timeout).
     */
    void releaseOrphans() {
        for (var e : orphans.entrySet()) {
            if (orphans.remove(e.getKey(), e.getValue())) {
                LOG.warnf(
                        "/dev/nbd%d was left by a previous run for volume %s, which the checkpoint does not have: "
                                + "disconnected",
                        e.getValue(), e.getKey());
                disconnect(e.getValue());
            }
        }
    }

    /** The orphans not taken back yet: still the previous run's, still to be taken back if this run dies first. */
    List<KernelAttachmentRecord> waiting() {
        List<KernelAttachmentRecord> out = new ArrayList<>();
        orphans.forEach((volume, n) -> out.add(KernelAttachmentRecord.newBuilder()
                .setDevice(n)
                .setVolume(volume)
                .setVia(AttachedVia.ATTACHED_VIA_NETLINK)
                .build()));
        return out;
    }

    private void disconnect(int n) {
        try {
            kernelInterface.requireNetlink().disconnect(n);
        } catch (NbdIoctlException e) {
            LOG.errorf("/dev/nbd%d: %s", n, e.getMessage());
        }
    }
}
