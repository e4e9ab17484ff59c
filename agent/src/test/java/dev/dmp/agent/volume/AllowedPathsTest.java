package dev.dmp.agent.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AllowedPathsTest {
    @TempDir
    Path tmp;

    @Test
    void insideDirectoryOrExactEntryOnly() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Path other = Files.createDirectories(tmp.resolve("other"));
        Path inside = Files.createFile(images.resolve("a.img"));
        Path exact = Files.createFile(other.resolve("dev"));
        Path secret = Files.createFile(other.resolve("secret"));
        Files.createSymbolicLink(images.resolve("link"), secret);
        AllowedPaths allowed = new AllowedPaths(List.of(images, exact));

        assertEquals(inside.toRealPath(), allowed.check("file backend: path", inside.toString()));
        assertEquals(exact.toRealPath(), allowed.check("file backend: path", exact.toString()));
        for (String refused : List.of(secret.toString(), images + "/../other/secret", images + "/link")) {
            VolumeException e = assertThrows(VolumeException.class, () -> allowed.check("file backend: path", refused));
            assertEquals(Status.Code.PERMISSION_DENIED, e.code(), refused);
        }
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                assertThrows(VolumeException.class, () -> allowed.check("p", "relative.img"))
                        .code());
        assertEquals(
                Status.Code.INVALID_ARGUMENT,
                assertThrows(VolumeException.class, () -> allowed.check("p", images + "/missing"))
                        .code());
    }
}
