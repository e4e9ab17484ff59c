package dev.dmp.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class VolumeNameTest {

    @Test
    void validNames() {
        for (String name : new String[] {"dmp1", "a", "vol.0_x-y", "...", "a".repeat(63)}) {
            assertNull(VolumeName.problem(name), name);
        }
    }

    @Test
    void missingName() {
        assertEquals("volume name is required (1-63 characters of a-z 0-9 . _ -)", VolumeName.problem(""));
        assertEquals("volume name is required (1-63 characters of a-z 0-9 . _ -)", VolumeName.problem(null));
    }

    @Test
    void badCharactersOrLength() {
        for (String name : new String[] {"Dmp1", "a/b", "a b", "dmp1\n", "é", "a".repeat(64)}) {
            assertEquals(
                    "invalid volume name '" + name + "': use 1-63 characters of a-z 0-9 . _ -",
                    VolumeName.problem(name),
                    name);
        }
    }

    @Test
    void dotAndDotDotAreReserved() {
        assertEquals("invalid volume name '.': '.' and '..' are reserved", VolumeName.problem("."));
        assertEquals("invalid volume name '..': '.' and '..' are reserved", VolumeName.problem(".."));
    }
}
