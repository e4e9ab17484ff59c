package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.backend.ZeroBackend;
import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.v1.AttachedVia;
import dev.dmp.proto.v1.KernelAttachmentRecord;
import dev.dmp.proto.v1.KernelAttachments;
import dev.dmp.proto.v1.Volume;
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
        KernelAttacher k =
                new KernelAttacher(new NbdSysfs(dir.resolve("sys")), dir, "node-a", new KernelTimeouts(30, 120), false);
        Export export = new Export("dmp2", new ZeroBackend(1 << 20), false, new VolumeStats()::observer);

        k.reattach("dmp2", export, 1 << 20, 0);

        assertTrue(k.wanted("dmp2"), "the checkpoint keeps kernel: true");
        assertEquals(
                Optional.of("failed: not attached again at start: this host's kernel has no nbd driver "
                        + "(/sys/module/nbd is absent): run 'modprobe nbd' as root, then create the volume again"),
                k.refusal("dmp2"));
        assertTrue(k.find("dmp2").isEmpty());
        assertEquals(
                Volume.newBuilder()
                        .setAttachment(k.refusal("dmp2").orElseThrow())
                        .setAttachmentState(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_FAILED)
                        .build(),
                described(k, "dmp2"));
        assertEquals(Volume.getDefaultInstance(), described(k, "dmp1"), "no kernel: true, nothing to show");
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
        Files.write(
                dir.resolve("kernel-attachments.pb"),
                KernelAttachments.newBuilder()
                        .addAttachments(record(1, "dmp2", 4242, AttachedVia.ATTACHED_VIA_NETLINK))
                        .addAttachments(record(2, "dmp3", 4243, AttachedVia.ATTACHED_VIA_NETLINK))
                        .addAttachments(record(3, "dmp4", 4244, AttachedVia.ATTACHED_VIA_NETLINK))
                        .build()
                        .toByteArray());
        KernelAttacher k = new KernelAttacher(new NbdSysfs(sys), dir, "node-a", new KernelTimeouts(30, 120), false);

        assertEquals(
                java.util.List.of(), k.clearStale(), "nothing is cleared: netlink devices are taken back, not cleared");
        assertEquals("dmp:node-a:dmp2", k.backendId("dmp2"));
        assertEquals(
                java.util.List.of("/dev/nbd1 dmp2 0 ATTACHED_VIA_NETLINK"),
                recorded(),
                "only dmp2's device (this host's identifier, still running) waits to be taken back; "
                        + "another identifier's and a released one are forgotten");
    }

    /** The text file of an agent before the proto one: read once, so an upgrade after a kill takes the devices back. */
    @Test
    void theTextFileOfAnOlderAgentIsReadOnceAndReplaced() throws Exception {
        Path sys = dir.resolve("sys");
        Files.createDirectories(sys.resolve("block/nbd1"));
        Files.writeString(sys.resolve("block/nbd1/pid"), "4242\n");
        Files.writeString(sys.resolve("block/nbd1/backend"), "dmp:node-a:dmp2\n");
        Files.writeString(dir.resolve("kernel-attachments"), """
                /dev/nbd1 dmp2 4242 netlink
                /dev/nbd7 dmp3 4243
                not a record
                """);
        KernelAttacher k = new KernelAttacher(new NbdSysfs(sys), dir, "node-a", new KernelTimeouts(30, 120), false);

        assertEquals(
                java.util.List.of(), k.clearStale(), "nbd7, an ioctl device, was released already: nothing to clear");
        assertEquals(java.util.List.of("/dev/nbd1 dmp2 0 ATTACHED_VIA_NETLINK"), recorded());
        assertFalse(
                Files.exists(dir.resolve("kernel-attachments")), "the text file is gone once the new one is written");
    }

    /** A record file that does not parse does not stop the agent: moved aside, and no device is looked for. */
    @Test
    void aCorruptRecordFileIsMovedAsideAndTheStartGoesOn() throws Exception {
        Files.createDirectories(dir.resolve("sys/block/nbd1"));
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};
        Files.write(dir.resolve("kernel-attachments.pb"), garbage);
        KernelAttacher k =
                new KernelAttacher(new NbdSysfs(dir.resolve("sys")), dir, "node-a", new KernelTimeouts(30, 120), false);

        assertEquals(java.util.List.of(), k.clearStale());
        assertEquals(java.util.List.of(), recorded(), "a new, empty record file");
        try (var files = Files.list(dir)) {
            Path aside = files.filter(f -> f.getFileName().toString().startsWith("kernel-attachments.pb.corrupt-"))
                    .findFirst()
                    .orElseThrow();
            assertArrayEquals(garbage, Files.readAllBytes(aside), "kept as it was, for a post-mortem");
        }
    }

    /** The attachment fields ListVolumes shows for the volume. */
    private static Volume described(KernelAttacher k, String volume) {
        Volume.Builder b = Volume.newBuilder();
        k.describe(volume, b);
        return b.build();
    }

    private static KernelAttachmentRecord record(int device, String volume, long task, AttachedVia via) {
        return KernelAttachmentRecord.newBuilder()
                .setDevice(device)
                .setVolume(volume)
                .setTaskId(task)
                .setVia(via)
                .build();
    }

    /** The record file, one "/dev/nbdN VOLUME TASK VIA" per record, sorted. */
    private java.util.List<String> recorded() throws java.io.IOException {
        return KernelAttachments.parseFrom(Files.readAllBytes(dir.resolve("kernel-attachments.pb")))
                .getAttachmentsList()
                .stream()
                .map(r -> "/dev/nbd" + r.getDevice() + " " + r.getVolume() + " " + r.getTaskId() + " " + r.getVia())
                .sorted()
                .toList();
    }

    /** An attachment played by the test: it fails (or is detached) when the test says. */
    private static final class FakeAttachment extends DeviceAttachment {
        FakeAttachment(String volume, int number) {
            super(volume, number, 4096, AttachmentState.ATTACHED);
        }

        @Override
        public long taskId() {
            return 4242;
        }

        @Override
        public Via via() {
            return Via.NETLINK;
        }

        @Override
        public boolean detach() {
            nowDetached();
            return true;
        }
    }

    /** A device that fails on its own is passed on (the agent tells the controller); a detach is not. */
    @Test
    void aFailedAttachmentIsPassedOnAndADetachedOneIsNot() throws Exception {
        Files.createDirectories(dir.resolve("sys/block/nbd3"));
        KernelAttacher k =
                new KernelAttacher(new NbdSysfs(dir.resolve("sys")), dir, "node-a", new KernelTimeouts(30, 120), false);
        java.util.List<String> told = new java.util.ArrayList<>();
        k.onFailure(a -> told.add(a.volume() + " " + a.path() + " " + a.state() + " " + a.stateText()));
        FakeAttachment failing = new FakeAttachment("dmp2", 3);
        FakeAttachment detached = new FakeAttachment("dmp3", 4);
        k.attached(failing, 3);
        k.attached(detached, 0);
        assertEquals(
                java.util.List.of(
                        "/dev/nbd3 dmp2 4242 ATTACHED_VIA_NETLINK", "/dev/nbd4 dmp3 4242 ATTACHED_VIA_NETLINK"),
                recorded());
        assertEquals(3, k.requestTimeout("dmp2"), "the volume's own request timeout, kept for the checkpoint");
        assertEquals(0, k.requestTimeout("dmp3"), "the agent's");

        assertEquals(
                Volume.newBuilder()
                        .setDevice("/dev/nbd3")
                        .setBlockSize(4096)
                        .setAttachment("attached via netlink")
                        .setAttachmentState(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_ATTACHED)
                        .build(),
                described(k, "dmp2"));
        failing.nowFailed("/dev/nbd3: the kernel closed the connection; the device was released");
        k.ended(failing);
        k.detach("dmp3", true);
        k.ended(detached);

        assertEquals(
                java.util.List.of("dmp2 /dev/nbd3 FAILED failed: /dev/nbd3: the kernel closed the connection; "
                        + "the device was released"),
                told);
        assertEquals(java.util.List.of(), recorded(), "neither device is recorded any more");
        assertEquals(
                Volume.newBuilder()
                        .setAttachment(
                                "failed: /dev/nbd3: the kernel closed the connection; " + "the device was released")
                        .setAttachmentState(dev.dmp.proto.v1.AttachmentState.ATTACHMENT_STATE_FAILED)
                        .build(),
                described(k, "dmp2"),
                "ListVolumes shows the failure, and no device, until the volume is deleted");
        assertTrue(k.wanted("dmp2"), "the checkpoint keeps kernel: true: the next start attaches it again");
    }
}
