package dev.dmp.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirectoryTest {

    @Test
    void createsAMissingDirectoryWithItsParents(@TempDir Path tmp) {
        Path wanted = tmp.resolve("a/b/controller");
        var dir = new DataDirectory(new TestConfig(wanted + "/./"));
        dir.start(null);
        assertTrue(Files.isDirectory(wanted));
        assertEquals(wanted, dir.path());
    }

    @Test
    void aRelativePathIsRefusedNamingTheKey() {
        var e = assertThrows(IllegalArgumentException.class, () -> new DataDirectory(new TestConfig("data")));
        assertEquals("dmp.controller.data-dir: 'data' must be an absolute path", e.getMessage());
    }

    @Test
    void aFileInTheWayStopsStartUpNamingTheKey(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("taken"), "x");
        var dir = new DataDirectory(new TestConfig(file.toString()));
        var e = assertThrows(IllegalStateException.class, () -> dir.start(null));
        assertTrue(e.getMessage().startsWith("dmp.controller.data-dir: cannot create '" + file + "'"), e.getMessage());
    }
}
