package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NbdSysfs against a fake /sys laid out as the kernel does it. */
class NbdSysfsTest {
    @TempDir
    Path sys;

    private void device(int n, String pid, long sectors) throws IOException {
        Path d = Files.createDirectories(sys.resolve("block/nbd" + n));
        Files.writeString(d.resolve("size"), sectors + "\n");
        if (pid != null) {
            Files.writeString(d.resolve("pid"), pid + "\n");
        }
    }

    @Test
    void noDriverWithoutModuleOrDevices() throws IOException {
        Files.createDirectories(sys.resolve("block/sda"));
        NbdSysfs s = new NbdSysfs(sys);
        assertFalse(s.driverPresent());
        assertEquals(List.of(), s.devices());
    }

    @Test
    void devicesInNumericOrderAndFreeMeansNoPidFile() throws IOException {
        device(10, null, 0);
        device(0, "4242", 1953125);
        device(2, null, 0);
        Files.createDirectories(sys.resolve("block/nbd1p1x"));
        NbdSysfs s = new NbdSysfs(sys);
        assertTrue(s.driverPresent());
        assertEquals(List.of(0, 2, 10), s.devices());
        assertFalse(s.free(0));
        assertTrue(s.free(2));
        assertEquals(OptionalLong.of(4242), s.pid(0));
        assertEquals(OptionalLong.empty(), s.pid(2));
        assertEquals(1_000_000_000L, s.sizeBytes(0));
    }
}
