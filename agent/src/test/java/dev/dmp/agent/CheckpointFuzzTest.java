package dev.dmp.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.dmp.agent.fuzz.HeapBudget;
import dev.dmp.agent.link.DeltaStream;
import dev.dmp.agent.state.CheckpointFile;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AgentCheckpoint;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.VolumeState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;

/**
 * The agent's checkpoint file as a crash, a full disk or an editor may leave it: any bytes in
 * {@code agent-state.pb}. {@link CheckpointFile#load} either moves the file aside whole (and the agent
 * starts with no volumes) or returns a checkpoint whose encoding is a fixed point (encoded, parsed and
 * encoded again: the same bytes). What {@link Restore} makes of it keeps the numbering of deltas: the
 * next delta gets a number above every restored one, and no restored delta is replaced.
 */
class CheckpointFuzzTest {
    private static final Path DIR = temporaryDirectory();

    private static Path temporaryDirectory() {
        try {
            return Files.createTempDirectory("checkpoint-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void removeDirectory() throws IOException {
        try (Stream<Path> files = Files.walk(DIR)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @FuzzTest
    void loadsAndRestoresOrMovesTheFileAside(byte[] saved) throws Exception {
        Optional<AgentCheckpoint> loaded = HeapBudget.within(saved.length, "the checkpoint reader", () -> {
            clear();
            Files.write(DIR.resolve("agent-state.pb"), saved);
            return new CheckpointFile(DIR).load();
        });
        if (loaded.isEmpty()) {
            List<Path> left = files();
            assertEquals(1, left.size(), "one file moved aside: " + left);
            assertTrue(left.get(0).getFileName().toString().startsWith("agent-state.pb.corrupt-"));
            assertArrayEquals(saved, Files.readAllBytes(left.get(0)), "the file moved aside as it was");
            return;
        }
        AgentCheckpoint checkpoint = loaded.get();
        byte[] encoded = checkpoint.toByteArray();
        assertArrayEquals(encoded, AgentCheckpoint.parseFrom(encoded).toByteArray(), "encoded again");
        for (VolumeState v : checkpoint.getVolumesList()) {
            CounterSet.fromProto(v.getCumulativeList());
            CounterSet.fromProto(v.getBaselineList());
        }
        checkNumbering(checkpoint);
    }

    /** One new delta after the restore: numbered above every restored one, which are all still there. */
    private static void checkNumbering(AgentCheckpoint checkpoint) {
        DeltaStream deltas = Restore.deltas(checkpoint);
        if (checkpoint.getRunId().isEmpty() || exhausted(checkpoint)) {
            return; // a fresh run: nothing restored; or no number left to hand out
        }
        CounterSet one = CounterSet.empty();
        one.record(CounterSet.WRITE, 4096, 0, 1000);
        deltas.append(List.of(new StatsJournal.Delta("fuzz", 0, one, 0)));
        List<StatsDelta> unacked = deltas.unacked();
        StatsDelta appended = unacked.get(unacked.size() - 1);
        for (StatsDelta restored : checkpoint.getUnackedList()) {
            assertTrue(
                    appended.getSeq() > restored.getSeq(),
                    "new delta " + appended.getSeq() + " after restored delta " + restored.getSeq());
            assertTrue(
                    unacked.stream().anyMatch(d -> d.getSeq() == restored.getSeq()),
                    "restored delta " + restored.getSeq() + " kept");
        }
        assertFalse(
                unacked.subList(0, unacked.size() - 1).stream().anyMatch(d -> d.getSeq() == appended.getSeq()),
                "a number handed out twice");
    }

    /**
     * Numbers past 2^63 - 2 (negative as the controller compares them): a checkpoint that says so has no
     * next number to give, and the controller would never apply them anyway.
     */
    private static boolean exhausted(AgentCheckpoint checkpoint) {
        return checkpoint.getLastSeq() < 0
                || checkpoint.getLastSeq() == Long.MAX_VALUE
                || checkpoint.getUnackedList().stream().anyMatch(d -> d.getSeq() < 0 || d.getSeq() == Long.MAX_VALUE);
    }

    private static void clear() throws IOException {
        for (Path p : files()) {
            Files.delete(p);
        }
    }

    private static List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(DIR)) {
            return s.toList();
        }
    }
}
