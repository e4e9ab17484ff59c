package dev.dmp.agent.kernel;

import dev.dmp.proto.v1.AttachedVia;
import dev.dmp.proto.v1.KernelAttachmentRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The attachment records of agents before {@link AttachmentRecordFile}: the text file
 * {@code STATE_DIR/kernel-attachments}, one line {@code /dev/nbdN VOLUME TASK_ID [netlink|ioctl]} per
 * device (a last word other than netlink, or none: ioctl). Read once, by the first start of this version,
 * so that an agent killed and then upgraded still takes back its netlink devices; the next write of
 * the new file deletes it. Can go once no agent of the old format is left to upgrade.
 */
final class LegacyAttachmentText {
    static final String NAME = "kernel-attachments";
    private static final Pattern LINE = Pattern.compile("/dev/nbd(\\d{1,9})\\s+(\\S+)\\s+(\\d{1,18})(?:\\s+(\\S+))?");

    private LegacyAttachmentText() {}

    /** The records of the lines that parse; the others (there were none in practice) are skipped. */
    static List<KernelAttachmentRecord> parse(List<String> lines) {
        List<KernelAttachmentRecord> out = new ArrayList<>();
        for (String line : lines) {
            Matcher m = LINE.matcher(line.trim());
            if (m.matches()) {
                out.add(KernelAttachmentRecord.newBuilder()
                        .setDevice(Integer.parseInt(m.group(1)))
                        .setVolume(m.group(2))
                        .setTaskId(Long.parseLong(m.group(3)))
                        .setVia(
                                "netlink".equals(m.group(4))
                                        ? AttachedVia.ATTACHED_VIA_NETLINK
                                        : AttachedVia.ATTACHED_VIA_IOCTL)
                        .build());
            }
        }
        return out;
    }
}
