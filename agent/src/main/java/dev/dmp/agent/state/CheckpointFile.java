package dev.dmp.agent.state;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.proto.v1.AgentCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The agent's checkpoint file, {@code STATE_DIR/agent-state.pb}. Saved the crash-safe way
 * ({@link DurableFile}), so after a crash the file is either the old checkpoint or the new one, never a
 * torn mix.
 */
public final class CheckpointFile {
    private static final Logger LOG = Logger.getLogger(CheckpointFile.class);
    static final String NAME = "agent-state.pb";

    private final DurableFile file;

    public CheckpointFile(Path stateDir) {
        this.file = new DurableFile(stateDir, NAME);
    }

    public Path path() {
        return file.path();
    }

    /** The last checkpoint, or empty on a first start. A file that does not parse is moved aside. */
    public Optional<AgentCheckpoint> load() throws IOException {
        Optional<byte[]> bytes = file.read();
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(AgentCheckpoint.parseFrom(bytes.get()));
        } catch (InvalidProtocolBufferException e) {
            Path aside = file.moveAside();
            LOG.errorf(
                    "checkpoint %s does not parse (%s); moved it to %s and starting with no volumes",
                    file.path(), e.getMessage(), aside);
            return Optional.empty();
        }
    }

    public void save(AgentCheckpoint checkpoint) throws IOException {
        file.write(checkpoint.toByteArray());
    }
}
