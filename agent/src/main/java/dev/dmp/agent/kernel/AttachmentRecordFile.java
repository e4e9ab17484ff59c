package dev.dmp.agent.kernel;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.agent.state.DurableFile;
import dev.dmp.proto.v1.KernelAttachmentRecord;
import dev.dmp.proto.v1.KernelAttachments;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * {@code STATE_DIR/kernel-attachments.pb} (state.proto {@code KernelAttachments}): the devices this
 * agent has configured, read by the next start to find what a killed run left ({@link OrphanRecovery}).
 * Written the checkpoint's way ({@link DurableFile}): a record that a power cut could lose or tear
 * would leave a device nobody takes back. Never stops the agent: a file it cannot read or parse is
 * logged (and, unparsable, moved aside), and the start goes on as if there were none.
 */
final class AttachmentRecordFile {
    private static final Logger LOG = Logger.getLogger(AttachmentRecordFile.class);
    static final String NAME = "kernel-attachments.pb";

    private final DurableFile file;
    /** The text file of agents before this one ({@link LegacyAttachmentText}), deleted by the first write. */
    private final Path legacy;

    AttachmentRecordFile(Path stateDir) {
        this.file = new DurableFile(stateDir, NAME);
        this.legacy = stateDir.resolve(LegacyAttachmentText.NAME);
    }

    Path path() {
        return file.path();
    }

    /** The records the last run wrote; empty on a first start, or when the file cannot be used. */
    List<KernelAttachmentRecord> load() {
        try {
            Optional<byte[]> bytes = file.read();
            if (bytes.isPresent()) {
                return parse(bytes.get());
            }
            if (Files.exists(legacy)) {
                List<KernelAttachmentRecord> records = LegacyAttachmentText.parse(Files.readAllLines(legacy));
                LOG.infof(
                        "%s is the text file of an older agent: its %d devices are read from it, and it is replaced "
                                + "by %s",
                        legacy, records.size(), file.path());
                return records;
            }
        } catch (IOException e) {
            LOG.warnf("cannot read %s: %s; devices a previous run left are not looked for", file.path(), e);
        }
        return List.of();
    }

    private List<KernelAttachmentRecord> parse(byte[] bytes) throws IOException {
        try {
            return KernelAttachments.parseFrom(bytes).getAttachmentsList();
        } catch (InvalidProtocolBufferException e) {
            Path aside = file.moveAside();
            LOG.errorf(
                    "%s does not parse (%s); moved it to %s: devices a previous run left are not looked for",
                    file.path(), e.getMessage(), aside);
            return List.of();
        }
    }

    /** The record of a running attachment. */
    static KernelAttachmentRecord of(Attachment a) {
        return KernelAttachmentRecord.newBuilder()
                .setDevice(a.number())
                .setVolume(a.volume())
                .setTaskId(a.taskId())
                .setVia(a.via().record())
                .build();
    }

    /** Replaces the records; returns once they are on disk. */
    void save(List<KernelAttachmentRecord> records) throws IOException {
        file.write(KernelAttachments.newBuilder()
                .addAllAttachments(records)
                .build()
                .toByteArray());
        Files.deleteIfExists(legacy);
    }
}
