package dev.dmp.controller.fleet;

import com.google.protobuf.ByteString;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.Volume;

/**
 * A volume's counts in the ledger. Only the lifetime counts are kept whole; the counts since the last
 * reset are {@code lifetime - atReset}, so a volume never reset costs one CounterSet, not two.
 */
final class VolumeEntry {
    /** Zero counts shared by every volume never reset (most of them; 4 KiB each); never added to. */
    static final CounterSet NEVER_RESET = CounterSet.empty();

    Volume volume;
    ByteString volumeBytes; // volume, encoded once for the records
    long generation;
    CounterSet lifetime = CounterSet.empty();
    CounterSet atReset = NEVER_RESET; // lifetime when the current generation began; replaced, never added to
    CounterSet beforeReset = NEVER_RESET; // replaced, never added to
    long inFlight;
    /** Whether the volume changed since its host's last write (a new entry was never written). */
    boolean changed = true;

    VolumeEntry(Volume volume) {
        setVolume(volume);
    }

    void setVolume(Volume volume) {
        if (volume != this.volume) {
            this.volume = volume;
            this.volumeBytes = volume.toByteString();
            this.changed = true;
        }
    }

    boolean neverReset() {
        return atReset == NEVER_RESET;
    }

    /** A new CounterSet of the counts since the last reset. */
    CounterSet sinceReset() {
        return neverReset() ? lifetime.copy() : lifetime.minus(atReset);
    }
}
