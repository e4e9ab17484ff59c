package dev.dmp.agent.state;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.proto.v1.AgentCheckpoint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The agent's checkpoint file, {@code STATE_DIR/agent-state.pb}. Saved the crash-safe way: written to a
 * temporary file, fsync'd, renamed over the old one, and the directory fsync'd, so after a crash the
 * file is either the old checkpoint or the new one, never a torn mix.
 */
public final class CheckpointFile {
    private static final Logger LOG = Logger.getLogger(CheckpointFile.class);
    static final String NAME = "agent-state.pb";

    private final Path dir;
    private final Path file;
    private final Path temporary;

    public CheckpointFile(Path stateDir) {
        this.dir = stateDir;
        this.file = stateDir.resolve(NAME);
        this.temporary = stateDir.resolve(NAME + ".tmp");
    }

    public Path path() {
        return file;
    }

    /** The last checkpoint, or empty on a first start. A file that does not parse is moved aside. */
    public Optional<AgentCheckpoint> load() throws IOException {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        byte[] bytes = Files.readAllBytes(file);
        try {
            return Optional.of(AgentCheckpoint.parseFrom(bytes));
        } catch (InvalidProtocolBufferException e) {
            Path aside = dir.resolve(NAME + ".corrupt-" + System.currentTimeMillis());
            Files.move(file, aside);
            LOG.errorf("checkpoint %s does not parse (%s); moved it to %s and starting with no volumes",
                    file, e.getMessage(), aside);
            return Optional.empty();
        }
    }

    public void save(AgentCheckpoint checkpoint) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(checkpoint.toByteArray());
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
