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
        KernelAttacher k = new KernelAttacher(new NbdSysfs(dir.resolve("sys")), dir);
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
}
