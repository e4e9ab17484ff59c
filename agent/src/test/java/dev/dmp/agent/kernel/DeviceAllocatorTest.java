package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmp.agent.volume.VolumeException;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Never the same device for two volumes: a reserved device is not free until released, whatever sysfs says. */
class DeviceAllocatorTest {
    @TempDir
    Path sys;

    @Test
    void theLowestFreeDeviceNotReservedNorTried() throws Exception {
        for (int n = 0; n < 4; n++) {
            Files.createDirectories(sys.resolve("block/nbd" + n));
        }
        Files.writeString(sys.resolve("block/nbd0/pid"), "4242\n"); // another program runs nbd0
        DeviceAllocator devices = new DeviceAllocator(new NbdSysfs(sys));

        assertEquals(1, devices.reserveFree(List.of()));
        assertEquals(2, devices.reserveFree(List.of()), "nbd1 is reserved although sysfs still shows it free");
        assertEquals(3, devices.reserveFree(List.of()));
        VolumeException none = assertThrows(VolumeException.class, () -> devices.reserveFree(List.of()));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, none.code());

        devices.release(2);
        assertThrows(VolumeException.class, () -> devices.reserveFree(List.of(2)), "nbd2 was tried: EBUSY");
        assertEquals(2, devices.reserveFree(List.of()));
    }
}
