package dev.dmp.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AgentCheckpoint;
import dev.dmp.proto.v1.Backend;
import dev.dmp.proto.v1.CreateVolume;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeDelta;
import dev.dmp.proto.v1.VolumeState;
import dev.dmp.proto.v1.ZeroBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointFileTest {
    @TempDir
    Path dir;

    private static AgentCheckpoint sample() {
        CounterSet c = CounterSet.empty();
        c.record(CounterSet.WRITE, 4096, 0, 1500);
        c.record(CounterSet.READ, 512, 22, 900);
        return AgentCheckpoint.newBuilder()
                .setRunId("run-1")
                .setLastSeq(42)
                .addVolumes(VolumeState.newBuilder()
                        .setSpec(CreateVolume.newBuilder()
                                .setName("dmp1")
                                .setBackend(Backend.newBuilder()
                                        .setZero(ZeroBackend.newBuilder().setSizeBytes(1 << 20))))
                        .setGeneration(3)
                        .addAllCumulative(c.toProto()))
                .addUnacked(StatsDelta.newBuilder()
                        .setSeq(42)
                        .addVolumes(VolumeDelta.newBuilder()
                                .setVolume("dmp1")
                                .setGeneration(3)
                                .addAllOps(c.toProto())))
                .build();
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aFirstStartHasNoCheckpoint() throws IOException {
        assertEquals(Optional.empty(), new CheckpointFile(dir).load());
    }

    @Test
    void saveThenLoadGivesTheSameCheckpointAndLeavesNoTemporaryFile() throws IOException {
        CheckpointFile file = new CheckpointFile(dir);
        assertEquals(dir.resolve("agent-state.pb"), file.path());
        file.save(AgentCheckpoint.newBuilder().setRunId("older").build());
        file.save(sample()); // replaces the older one
        assertEquals(Optional.of(sample()), new CheckpointFile(dir).load());
        assertEquals(List.of("agent-state.pb"), files());
        assertArrayEquals(sample().toByteArray(), Files.readAllBytes(file.path()));
    }

    @Test
    void aCorruptCheckpointIsMovedAsideAndTheAgentStartsEmpty() throws IOException {
        CheckpointFile file = new CheckpointFile(dir);
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};
        Files.write(file.path(), garbage);
        assertEquals(Optional.empty(), file.load());
        List<String> names = files();
        assertEquals(1, names.size(), names.toString());
        assertTrue(names.get(0).startsWith("agent-state.pb.corrupt-"), names.get(0));
        assertArrayEquals(garbage, Files.readAllBytes(dir.resolve(names.get(0))), "kept as it was, for a post-mortem");
        // the next save works and the file loads again
        file.save(sample());
        assertEquals(Optional.of(sample()), file.load());
    }
}
