package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.backend.ZeroBackend;
import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.stats.VolumeStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a restart does with a checkpoint volume that asked for a device, on a host that cannot give one. */
class KernelAttacherTest {
    @TempDir
    Path dir;

    @Test
    void aRefusedReattachIsReportedAndKeptForTheNextStart() throws Exception {
        Files.createDirectories(dir.resolve("sys/block/sda"));
        KernelAttacher k = new KernelAttacher(new NbdSysfs(dir.resolve("sys")), dir, "node-a", new KernelTimeouts(30, 120), false);
        Export export = new Export("dmp2", new ZeroBackend(1 << 20), new VolumeStats());

        k.reattach("dmp2", export, 1 << 20);

        assertTrue(k.wanted("dmp2"), "the checkpoint keeps kernel: true");
        assertEquals(Optional.of("failed: not attached again at start: this host's kernel has no nbd driver "
                + "(/sys/module/nbd is absent): run 'modprobe nbd' as root, then create the volume again"),
                k.refusal("dmp2"));
        assertTrue(k.find("dmp2").isEmpty());
        assertFalse(k.wanted("dmp1"));

        k.detach("dmp2", false);
        assertFalse(k.wanted("dmp2"), "a deleted volume asks for nothing");
        assertTrue(k.refusal("dmp2").isEmpty());
    }

    /** The netlink devices a killed run left: this host's, still configured, are kept to be taken back. */
    @Test
    void aKilledRunsNetlinkDevicesAreKeptForTheirVolumes() throws Exception {
        Path sys = dir.resolve("sys");
        for (int n = 0; n < 4; n++) {
            Files.createDirectories(sys.resolve("block/nbd" + n));
        }
        Files.writeString(sys.resolve("block/nbd1/pid"), "4242\n");
        Files.writeString(sys.resolve("block/nbd1/backend"), "dmp:node-a:dmp2\n");
        Files.writeString(sys.resolve("block/nbd2/pid"), "4243\n");
        Files.writeString(sys.resolve("block/nbd2/backend"), "someone-else\n");
        Files.writeString(dir.resolve("kernel-attachments"), """
                /dev/nbd1 dmp2 4242 netlink
                /dev/nbd2 dmp3 4243 netlink
                /dev/nbd3 dmp4 4244 netlink
                """);
        KernelAttacher k = new KernelAttacher(new NbdSysfs(sys), dir, "node-a", new KernelTimeouts(30, 120), false);

        assertEquals(java.util.List.of(), k.clearStale(), "nothing is cleared: netlink devices are taken back, not cleared");
        assertEquals("dmp:node-a:dmp2", k.backendId("dmp2"));
        assertEquals("/dev/nbd1 dmp2 0 netlink\n", Files.readString(dir.resolve("kernel-attachments")),
                "only dmp2's device (this host's identifier, still running) waits to be taken back; "
                        + "another identifier's and a released one are forgotten");
    }
}
