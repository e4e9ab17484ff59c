package dev.dmp.controller.store;

import dev.dmp.proto.v1.HostRecord;
import java.util.List;
import java.util.Optional;

/** A store that passes every call to another: tests override what they watch or break. */
public class ForwardingLedgerStore implements LedgerStore {
    protected final LedgerStore store;

    public ForwardingLedgerStore(LedgerStore store) {
        this.store = store;
    }

    @Override
    public String location() {
        return store.location();
    }

    @Override
    public boolean claimsWaitOnNetwork() {
        return store.claimsWaitOnNetwork();
    }

    @Override
    public boolean reachable() {
        return store.reachable();
    }

    @Override
    public Optional<SharedLedger> shared() {
        return store.shared();
    }

    @Override
    public boolean writesRows() {
        return store.writesRows();
    }

    @Override
    public List<HostRecord> loadAll() {
        return store.loadAll();
    }

    @Override
    public HostClaim claim(String hostId) {
        return store.claim(hostId);
    }

    @Override
    public List<HostWrite> write(List<HostWrite> writes) {
        return store.write(writes);
    }

    @Override
    public void close() {
        store.close();
    }
}
