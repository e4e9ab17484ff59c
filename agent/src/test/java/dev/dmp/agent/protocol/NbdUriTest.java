package dev.dmp.agent.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NbdUriTest {

    @Test
    void unixSocketWithExport() {
        NbdUri u = NbdUri.parse("nbd+unix:///disk1?socket=/run/up.sock");
        assertEquals("disk1", u.export());
        assertEquals(Path.of("/run/up.sock"), u.socket());
        assertNull(u.host());
    }

    @Test
    void unixSocketDefaultExport() {
        NbdUri u = NbdUri.parse("nbd+unix:///?socket=/run/up.sock");
        assertEquals("", u.export());
    }

    @Test
    void tcpWithAndWithoutPort() {
        NbdUri u = NbdUri.parse("nbd://10.0.0.5:10810/vol");
        assertEquals("10.0.0.5", u.host());
        assertEquals(10810, u.port());
        assertEquals("vol", u.export());
        assertEquals(10809, NbdUri.parse("nbd://storage.example/vol").port());
        assertEquals("::1", NbdUri.parse("nbd://[::1]:5000/x").host());
    }

    @Test
    void refusedWithReasons() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbds://h/x"))
                .getMessage()
                .contains("not supported"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbd+unix:///x"))
                .getMessage()
                .contains("socket="));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbd+unix:///x?socket=rel.sock"))
                .getMessage()
                .contains("ABSOLUTE"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbd+unix://host/x?socket=/a"))
                .getMessage()
                .contains("no host"));
        assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbd:///x"));
    }
}
