package dev.dmp.controller.store;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dmp.proto.v1.HostRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.jboss.logging.Logger;

/**
 * The ledger on disk: one {@link HostRecord} per host in an MVStore file under the data dir. A
 * {@link #write} returns once the records are committed and synced, so whatever the controller
 * acknowledges after it survives a crash. One process owns the file, so there are no claims to make
 * and no write is ever fenced: epochs are 0 and ignored.
 */
public final class MvStoreLedgerStore implements LedgerStore {
    private static final Logger LOG = Logger.getLogger(MvStoreLedgerStore.class);
    static final String FILE = "ledger.mv.db";

    private final MVStore store;
    private final MVMap<String, byte[]> hosts;
    private final Path file;

    private MvStoreLedgerStore(Path file, MVStore store) {
        this.file = file;
        this.store = store;
        this.hosts = store.openMap("hosts");
    }

    public static MvStoreLedgerStore open(Path dataDir) throws IOException {
        Files.createDirectories(dataDir);
        Path file = dataDir.resolve(FILE);
        // Commits are ours (after each batch of deltas), not MVStore's background ones.
        MVStore store = new MVStore.Builder()
                .fileName(file.toString())
                .autoCommitDisabled()
                .open();
        return new MvStoreLedgerStore(file, store);
    }

    public Path file() {
        return file;
    }

    @Override
    public String location() {
        return file.toString();
    }

    @Override
    public List<HostRecord> loadAll() {
        List<HostRecord> out = new ArrayList<>();
        for (var e : hosts.entrySet()) {
            try {
                out.add(HostRecord.parseFrom(e.getValue()));
            } catch (InvalidProtocolBufferException ex) {
                LOG.errorf(
                        "ledger %s: record of host %s does not parse (%s); skipping it",
                        file, e.getKey(), ex.getMessage());
            }
        }
        return out;
    }

    @Override
    public HostClaim claim(String hostId) {
        return HostClaim.LOCAL;
    }

    /** Writes the records (whole: this store takes no rows), commits and syncs; refuses none. */
    @Override
    public List<HostWrite> write(List<HostWrite> writes) {
        writes.forEach(w ->
                hosts.put(w.hostId(), Objects.requireNonNull(w.record(), "host " + w.hostId() + ": a whole record")));
        store.commit();
        store.sync();
        return List.of();
    }

    @Override
    public void close() {
        store.close();
    }
}
