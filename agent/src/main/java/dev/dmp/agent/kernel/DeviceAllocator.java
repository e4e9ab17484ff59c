package dev.dmp.agent.kernel;

import dev.dmp.agent.volume.VolumeException;
import io.grpc.Status;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Hands out the {@code /dev/nbdN} devices: the lowest one that sysfs shows free and this agent has not
 * reserved, under one lock, so that two volumes attached at once never get the same device. A device
 * stays reserved from the moment it is chosen until its attachment has ended (or the attach failed):
 * sysfs shows it in use only once the kernel has started it.
 */
final class DeviceAllocator {
    private final NbdSysfs sysfs;
    /** Devices chosen and not yet released; guarded by this. */
    private final Set<Integer> reserved = new HashSet<>();

    DeviceAllocator(NbdSysfs sysfs) {
        this.sysfs = sysfs;
    }

    /** Reserves the lowest free device not in {@code tried} (those another program took under our feet). */
    synchronized int reserveFree(Collection<Integer> tried) throws VolumeException {
        List<Integer> all = sysfs.devices();
        for (int n : all) {
            if (!reserved.contains(n) && !tried.contains(n) && sysfs.free(n)) {
                reserved.add(n);
                return n;
            }
        }
        throw new VolumeException(
                Status.Code.RESOURCE_EXHAUSTED,
                "no free nbd device: all " + all.size()
                        + " /dev/nbdN are in use; delete a kernel-attached volume, or reload the driver with more devices "
                        + "('modprobe nbd nbds_max=N' once none is in use)");
    }

    /** Reserves a device this agent already runs (one a previous run left, being taken back). */
    synchronized void reserve(int n) {
        reserved.add(n);
    }

    synchronized void release(int n) {
        reserved.remove(n);
    }
}
