package dev.dmp.controller.store;

/**
 * A host's ledger record to write: the encoded {@link dev.dmp.proto.v1.HostRecord}, the epoch of the
 * claim it was built under (0 with a store that has no claims), and whether this process holds the
 * host's stream (which a record does not say: a reopened file starts every host offline).
 */
public record HostWrite(String hostId, long epoch, boolean online, byte[] record) {}
