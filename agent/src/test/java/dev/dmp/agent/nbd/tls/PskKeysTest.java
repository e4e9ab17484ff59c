package dev.dmp.agent.nbd.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** psktool's key files: what is read, and the message for each kind of bad line. */
class PskKeysTest {

    private static String problem(String... lines) {
        return assertThrows(IllegalArgumentException.class, () -> PskKeys.parse("keys.psk", List.of(lines)))
                .getMessage();
    }

    @Test
    void readsWhatPsktoolWrites() {
        PskKeys keys = PskKeys.parse(
                "keys.psk",
                List.of("alice:816018bab7268f870f87f7c570478d0d7d2ce32fb4a800ba8018ada9c712aeb9", "", "bob:00FF"));
        assertEquals(Set.of("alice", "bob"), keys.users());
        assertArrayEquals(new byte[] {0, (byte) 0xff}, keys.key("bob"));
        assertEquals(32, keys.key("alice").length);
        assertNull(keys.key("carol"));
    }

    @Test
    void badLinesNameTheLineAndWhatIsWrong() {
        assertEquals(
                "keys.psk line 2: no ':' between the user name and the key (the format is username:hexkey)",
                problem("alice:00", "bob"));
        assertEquals("keys.psk line 1: the user name is empty", problem(":00"));
        assertEquals(
                "keys.psk line 1: the key of user 'alice' is not hexadecimal digits in pairs (psktool writes them)",
                problem("alice:xyz0"));
        assertEquals(
                "keys.psk line 1: the key of user 'alice' is not hexadecimal digits in pairs (psktool writes them)",
                problem("alice:abc"));
        assertEquals(
                "keys.psk line 1: the key of user 'alice' is not hexadecimal digits in pairs (psktool writes them)",
                problem("alice:"));
        assertEquals(
                "keys.psk line 3: user 'alice' has a key already, on line 1",
                problem("alice:00", "bob:01", "alice:02"));
        assertEquals("keys.psk: no keys (make one with: psktool -u USER -p keys.psk)", problem("", "  "));
    }

    /** A key handed out is a copy: nobody outside can change the file's keys. */
    @Test
    void keysAreCopies() {
        PskKeys keys = PskKeys.parse("keys.psk", List.of("bob:0102"));
        keys.key("bob")[0] = 9;
        assertArrayEquals(new byte[] {1, 2}, keys.key("bob"));
    }
}
