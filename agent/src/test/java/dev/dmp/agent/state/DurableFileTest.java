package dev.dmp.agent.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DurableFileTest {
    @TempDir
    Path dir;

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aWriteReplacesTheFileWholeAndLeavesNoTemporaryFile() throws IOException {
        DurableFile file = new DurableFile(dir, "x.pb");
        assertTrue(file.read().isEmpty(), "no file yet");
        // What a write interrupted by a crash leaves: the next write starts the temporary file afresh.
        Files.writeString(dir.resolve("x.pb.tmp"), "half of an older write, longer than the new content");
        file.write("old".getBytes(StandardCharsets.UTF_8));
        file.write("new".getBytes(StandardCharsets.UTF_8));
        assertArrayEquals("new".getBytes(StandardCharsets.UTF_8), file.read().orElseThrow());
        assertEquals(List.of("x.pb"), files());
    }

    @Test
    void aFileMovedAsideIsKeptAsItWas() throws IOException {
        DurableFile file = new DurableFile(dir, "x.pb");
        file.write(new byte[] {1, 2, 3});
        Path aside = file.moveAside();
        assertTrue(aside.getFileName().toString().startsWith("x.pb.corrupt-"), aside.toString());
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(aside));
        assertTrue(file.read().isEmpty());
    }
}
