package dev.dmp.controller.store;

/**
 * A host to write: the epoch of the claim it was built under (0 with a store that has no claims),
 * whether this process holds the host's stream (which a record does not say: a reopened file starts
 * every host offline), and what to write in the form its store takes ({@link LedgerStore#writesRows}):
 * the encoded {@link dev.dmp.proto.v1.HostRecord}, or the {@link HostRows} changed since the host's
 * last write. The other one is null.
 */
public record HostWrite(String hostId, long epoch, boolean online, byte[] record, HostRows rows) {
    /** A whole record (every volume written, and the rows of any other volume deleted). */
    public HostWrite(String hostId, long epoch, boolean online, byte[] record) {
        this(hostId, epoch, online, record, null);
    }

    /** What changed since the host's last write, as rows. */
    public HostWrite(String hostId, long epoch, boolean online, HostRows rows) {
        this(hostId, epoch, online, null, rows);
    }
}
