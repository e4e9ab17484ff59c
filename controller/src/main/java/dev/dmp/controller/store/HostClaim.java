package dev.dmp.controller.store;

import dev.dmp.proto.v1.HostRecord;
import java.util.Optional;

/**
 * The outcome of {@link LedgerStore#claim}: the host's new epoch, and what was committed of it before,
 * which the claimant starts from (another replica may have counted since this one last held the host).
 * A store of one process answers epoch 0 and no record: its memory is the truth.
 */
public record HostClaim(long epoch, Optional<HostRecord> committed) {
    public static final HostClaim LOCAL = new HostClaim(0, Optional.empty());
}
