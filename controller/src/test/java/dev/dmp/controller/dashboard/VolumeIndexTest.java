package dev.dmp.controller.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class VolumeIndexTest {
    private static final List<VolumeKey> KEYS = List.of(
            new VolumeKey("a", "v1"), new VolumeKey("a", "v2"), new VolumeKey("b", "v1"), new VolumeKey("c", "v0"));

    @Test
    void findsVolumesAndHostsByPosition() {
        VolumeIndex index = VolumeIndex.of(KEYS, null);
        for (int i = 0; i < KEYS.size(); i++) {
            assertEquals(i, index.position(KEYS.get(i)));
            assertEquals(KEYS.get(i), index.key(i));
        }
        assertEquals(-1, index.position(new VolumeKey("b", "v2")));
        assertEquals(-1, index.position(new VolumeKey("bb", "v1")));
        assertEquals(3, index.hosts());
        assertEquals(List.of(0, 0, 1, 2), List.of(index.hostOf(0), index.hostOf(1), index.hostOf(2), index.hostOf(3)));
        assertEquals(1, index.hostPosition("b"));
        assertEquals(-1, index.hostPosition("d"));
    }

    @Test
    void theSameVolumesShareAnIndexAndOthersGetTheirOwn() {
        VolumeIndex index = VolumeIndex.of(KEYS, null);
        assertSame(index, VolumeIndex.of(List.copyOf(KEYS), index));
        VolumeIndex grown = VolumeIndex.of(
                List.of(KEYS.get(0), KEYS.get(1), KEYS.get(2), KEYS.get(3), new VolumeKey("d", "v1")), index);
        assertEquals(4, grown.position(new VolumeKey("d", "v1")));
        assertThrows(IllegalArgumentException.class, () -> VolumeIndex.of(List.of(KEYS.get(1), KEYS.get(0)), null));
    }
}
