package dev.dmp.controller.fleet;

import dev.dmp.controller.store.HostClaim;
import dev.dmp.controller.store.HostWrite;
import dev.dmp.controller.store.LedgerStore;
import dev.dmp.controller.store.LedgerUnavailableException;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OpCountersCodec;
import dev.dmp.proto.v1.Hello;
import dev.dmp.proto.v1.HostRecord;
import dev.dmp.proto.v1.StatsDeltaIn;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeDeltaIn;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The fleet's counts per host and volume, built from the agents' numbered deltas, with what the
 * controller knows of each host (its volumes, agent version, when it was last heard from). A delta
 * is applied at most once per agent run (by sequence number); a delta of a newer reset generation
 * closes the volume's current generation first. Changes are written to the {@link LedgerStore} by
 * {@link #commit()}: per changed host, its whole {@link HostRecordCodec record}, or to a store of rows
 * its {@link HostRowsCodec volumes changed} since its last write; see docs/stats-protocol.md.
 * With a shared store each host is written under the epoch of its last {@link #connect claim}; a
 * write the store refuses (a newer claim elsewhere) makes the ledger forget the host (docs/replication.md).
 */
public final class FleetLedger {
    private static final Logger LOG = Logger.getLogger(FleetLedger.class);

    private final TreeMap<String, HostEntry> hosts = new TreeMap<>();
    /** The same entries by id, for {@link #seen} without the lock; changed under the lock. */
    private final ConcurrentHashMap<String, HostEntry> byId = new ConcurrentHashMap<>();
    /**
     * The sum of every volume's since-reset counts, kept as deltas, resets and removals are applied, so
     * a FLEET query copies one CounterSet instead of adding up every volume (16,000 at 1,000 x 16).
     */
    private final CounterSet fleetSinceReset = CounterSet.empty();
    /** The sum of every volume's in-flight level, kept like {@link #fleetSinceReset}. */
    private long fleetInFlight;

    private final Set<String> dirty = new HashSet<>();
    private final LedgerStore store;
    /** Whether other replicas share the store: then hosts held elsewhere are mirrored here. */
    private final boolean shared;

    /**
     * @param store where to keep the ledger, or null to keep it in memory only (tests). A shared store's
     *     hosts are loaded as mirrored, unread: {@link #mirror} reads them again with their owners.
     */
    public FleetLedger(LedgerStore store) {
        this.store = store;
        this.shared = store != null && store.shared().isPresent();
        if (store != null) {
            for (HostRecord r : store.loadAll()) {
                load(r);
                if (shared) {
                    HostEntry h = hosts.get(r.getHostId());
                    h.owner = ""; // not known yet: no command is forwarded before the first read
                    h.version = HostEntry.UNREAD;
                }
            }
        }
    }

    /**
     * An agent opened a stream: claims its host in the store (raising its epoch, which fences every
     * earlier claim), starts from what the store committed of the host, then applies the Hello. Returns
     * the claim's epoch (0 with a store of one process).
     *
     * @throws LedgerUnavailableException when the store cannot be reached, or a newer claim of the host
     *     by this process came first (nothing changed; the agent dials again)
     */
    public long connect(Hello hello, Instant now) {
        String id = hello.getHostId();
        HostClaim claim = store == null ? HostClaim.LOCAL : store.claim(id);
        synchronized (this) {
            HostEntry h = hosts.get(id);
            if (h != null && claim.epoch() < h.epoch) {
                throw new LedgerUnavailableException(
                        "host " + id + ": claimed again meanwhile (epoch " + h.epoch + " > " + claim.epoch() + ")",
                        null);
            }
            claim.committed().ifPresent(r -> {
                if (h != null) {
                    h.volumes.values().forEach(this::removed);
                }
                load(r);
            });
            rebuildIfLost(hello);
            HostEntry mine = hosts.get(id);
            if (mine != null && mine.mirrored()) {
                mine.owner = null; // held here from now on: written by this process, never mirrored
            }
            hello(hello, now);
            mine = hosts.get(id);
            mine.epoch = claim.epoch();
            mine.released = false;
            // The first write under a claim writes every volume: what an earlier claim's refused or
            // failed writes left marked is no guide to what the store holds now.
            mine.rewriteAll();
            return claim.epoch();
        }
    }

    /** See {@link HostRebuild}; the caller holds the lock. */
    private void rebuildIfLost(Hello hello) {
        String id = hello.getHostId();
        HostEntry h = hosts.get(id);
        if (!HostRebuild.needed(h, hello)) {
            return;
        }
        LOG.warnf(
                "host %s: the ledger holds %s but the agent was acknowledged up to delta %d of run %s;"
                        + " rebuilding its %d volumes from the counts its Hello carries (as of delta %d)",
                id,
                h == null ? "nothing of it" : "delta " + h.appliedSeq + " of run " + h.runId,
                hello.getAckedSeq(),
                hello.getRunId(),
                hello.getVolumesCount(),
                hello.getLastSeq());
        HostEntry rebuilt = HostRebuild.from(hello);
        if (h != null) {
            h.volumes.values().forEach(this::removed);
            rebuilt.epoch = h.epoch;
        }
        rebuilt.volumes.values().forEach(this::addToFleet);
        hosts.put(id, rebuilt);
        byId.put(id, rebuilt);
        changed(id);
    }

    /**
     * The store refused a write of the host at {@code epoch}: another replica claimed it since. Forgets
     * the host, unless a newer claim by this process came meanwhile; returns whether it did.
     */
    public synchronized boolean fenced(String host, long epoch) {
        HostEntry h = hosts.get(host);
        if (h == null || h.epoch != epoch) {
            return false;
        }
        h.volumes.values().forEach(this::removed);
        hosts.remove(host);
        byId.remove(host);
        dirty.remove(host);
        return true;
    }

    /**
     * An agent opened a stream. A new run id means an agent that lost its state: its numbering
     * starts again and its volumes start from zero. The volume list becomes the one announced.
     */
    public synchronized void hello(Hello hello, Instant now) {
        HostEntry h = hosts.computeIfAbsent(hello.getHostId(), k -> new HostEntry());
        byId.putIfAbsent(hello.getHostId(), h);
        boolean newRun = !h.runId.equals(hello.getRunId());
        if (newRun) {
            h.runId = hello.getRunId();
            h.appliedSeq = 0;
        }
        TreeMap<String, VolumeEntry> kept = new TreeMap<>();
        for (Volume v : hello.getVolumesList()) {
            VolumeEntry e = newRun ? null : h.volumes.get(v.getName());
            if (e == null) {
                e = new VolumeEntry(v);
            }
            e.setVolume(v);
            kept.put(v.getName(), e);
        }
        h.volumes.forEach((name, old) -> {
            if (kept.get(name) != old) {
                removed(old); // a volume dropped, or started again by a new run
            }
            if (!kept.containsKey(name)) {
                h.volumesGone = true;
            }
        });
        h.volumes.clear();
        h.volumes.putAll(kept);
        h.agentVersion = hello.getAgentVersion();
        h.lastSeen = now;
        h.online = true;
        changed(hello.getHostId());
    }

    /**
     * Something arrived from the host's agent: it was alive at {@code now}. Called for every message,
     * on the threads that read the agents' streams, so it does not take the ledger's lock (a query or
     * a commit holding it would hold up every stream read on that thread).
     */
    public void seen(String host, Instant now) {
        HostEntry h = byId.get(host);
        if (h != null) {
            h.lastSeen = now;
        }
    }

    public synchronized java.util.Optional<Volume> volume(String host, String volume) {
        HostEntry h = hosts.get(host);
        VolumeEntry v = h == null ? null : h.volumes.get(volume);
        return java.util.Optional.ofNullable(v == null ? null : v.volume);
    }

    public synchronized void offline(String host, Instant now) {
        HostEntry h = hosts.get(host);
        if (h != null && !h.mirrored()) {
            h.online = false;
            h.lastSeen = now;
            h.released = shared;
            changed(host);
        }
    }

    /**
     * Applies a delta unless this run already applied its sequence number; returns whether it did.
     * Its counters are checked before anything is applied, so a malformed one changes nothing.
     *
     * @throws IllegalArgumentException if an operation's counters do not parse
     */
    public boolean apply(String host, String runId, StatsDeltaIn delta, Instant now) {
        int[][] ops = new int[delta.getVolumesCount()][];
        for (int i = 0; i < ops.length; i++) {
            VolumeDeltaIn d = delta.getVolumes(i);
            ops[i] = new int[d.getOpsCount()];
            for (int j = 0; j < ops[i].length; j++) {
                ops[i][j] = OpCountersCodec.checkEncoded(d.getOps(j));
            }
        }
        return apply(host, runId, delta, ops, now);
    }

    private synchronized boolean apply(String host, String runId, StatsDeltaIn delta, int[][] ops, Instant now) {
        HostEntry h = hosts.get(host);
        if (h == null || h.mirrored() || !h.runId.equals(runId)) {
            return false; // a mirrored host counts at its owner: a late delta of a stream ended here
        }
        h.lastSeen = now;
        if (delta.getSeq() <= h.appliedSeq) {
            return false;
        }
        for (int i = 0; i < ops.length; i++) {
            VolumeDeltaIn d = delta.getVolumes(i);
            VolumeEntry v = h.volumes.computeIfAbsent(
                    d.getVolume(),
                    k -> new VolumeEntry(
                            Volume.newBuilder().setHost(host).setName(k).build()));
            if (d.getGeneration() < v.generation) {
                continue; // counted before a reset this ledger already applied
            }
            if (d.getGeneration() > v.generation) {
                v.generation = d.getGeneration();
                takeOutOfFleet(v);
                v.beforeReset = v.sinceReset();
                v.atReset = v.lifetime.copy();
            }
            for (int j = 0; j < ops[i].length; j++) {
                OpCountersCodec.addEncoded(v.lifetime, d.getOps(j), ops[i][j]);
                OpCountersCodec.addEncoded(fleetSinceReset, d.getOps(j), ops[i][j]);
            }
            fleetInFlight += d.getInFlight() - v.inFlight;
            v.inFlight = d.getInFlight();
            v.changed = true;
        }
        h.appliedSeq = delta.getSeq();
        changed(host);
        return true;
    }

    public synchronized void addVolume(Volume volume) {
        HostEntry h = hosts.get(volume.getHost());
        if (h != null && !h.mirrored()) {
            h.volumes
                    .computeIfAbsent(volume.getName(), k -> new VolumeEntry(volume))
                    .setVolume(volume);
            changed(volume.getHost());
        }
    }

    /** Replaces a volume the host has; returns false (nothing changed) when it has no such volume. */
    public synchronized boolean updateVolume(Volume volume) {
        HostEntry h = hosts.get(volume.getHost());
        VolumeEntry e = h == null || h.mirrored() ? null : h.volumes.get(volume.getName());
        if (e == null) {
            return false;
        }
        e.setVolume(volume);
        changed(volume.getHost());
        return true;
    }

    public synchronized void removeVolume(String host, String volume) {
        HostEntry h = hosts.get(host);
        VolumeEntry removed = h == null || h.mirrored() ? null : h.volumes.remove(volume);
        if (removed != null) {
            removed(removed);
            h.volumesGone = true;
            changed(host);
        }
    }

    /** The volume leaves the fleet (it is removed or replaced by a new run's). */
    private void removed(VolumeEntry v) {
        takeOutOfFleet(v);
        fleetInFlight -= v.inFlight;
    }

    /** The volume joins the fleet total (it is loaded from the store). */
    private void addToFleet(VolumeEntry v) {
        fleetSinceReset.add(v.lifetime);
        fleetSinceReset.subtract(v.atReset);
        fleetInFlight += v.inFlight;
    }

    /** The volume's since-reset counts leave the fleet total (it is reset, removed or replaced). */
    private void takeOutOfFleet(VolumeEntry v) {
        fleetSinceReset.subtract(v.lifetime);
        fleetSinceReset.add(v.atReset);
    }

    private void changed(String host) {
        dirty.add(host);
    }

    /**
     * Writes what changed since the last commit; returns once it is durable, with the writes the store
     * refused (see {@link #fenced}): what those hold is not durable. Each host's write is built under
     * the lock on its own, so deltas and queries wait for one host's encoding, not for all of them (a
     * thousand hosts a second at 1,000 agents). Whatever was applied before this call is in the
     * writes: its host was dirty when the set was taken, and its write is built after that. A store of
     * rows gets each host's volumes changed since its last write ({@link HostRowsCodec}); a failed
     * write marks every volume of its hosts changed again, so the next one writes them all.
     */
    public List<HostWrite> commit() {
        List<String> changed;
        synchronized (this) {
            if (dirty.isEmpty()) {
                return List.of();
            }
            changed = new ArrayList<>(dirty);
            dirty.clear();
        }
        boolean rows = store != null && store.writesRows();
        List<HostWrite> writes = new ArrayList<>(changed.size());
        for (String host : changed) {
            synchronized (this) {
                HostEntry h = hosts.get(host);
                if (h != null && !h.mirrored()) {
                    writes.add(
                            rows
                                    ? new HostWrite(host, h.epoch, h.online, HostRowsCodec.take(h))
                                    : new HostWrite(host, h.epoch, h.online, HostRecordCodec.encode(host, h)));
                }
            }
        }
        if (store == null) {
            return List.of();
        }
        List<HostWrite> refused;
        try {
            refused = store.write(writes);
        } catch (RuntimeException e) {
            synchronized (this) {
                dirty.addAll(changed); // written again by the next commit
                for (String host : changed) {
                    HostEntry h = hosts.get(host);
                    if (h != null) {
                        h.rewriteAll(); // what this write took of them is not in the store
                    }
                }
            }
            throw e;
        }
        if (shared) {
            released(writes, refused);
        }
        return refused;
    }

    /**
     * Hosts whose stream ended here and whose offline state is now written become mirrored: from now
     * on another replica may hold them, and this one reads them from the store (at once: their version
     * is unread). A host claimed here again since the write stays held.
     */
    private synchronized void released(List<HostWrite> written, List<HostWrite> refused) {
        Set<String> notWritten = new HashSet<>();
        refused.forEach(r -> notWritten.add(r.hostId()));
        for (HostWrite w : written) {
            HostEntry h = hosts.get(w.hostId());
            if (h != null && h.released && !h.mirrored() && h.epoch == w.epoch() && !notWritten.contains(w.hostId())) {
                h.owner = store.shared().orElseThrow().replicaId();
                h.version = HostEntry.UNREAD;
                h.epoch = 0;
                h.released = false;
            }
        }
    }

    /**
     * Each host's version as this replica last read it, {@link #HELD} for the hosts it holds (never
     * read from the store), for the mirror to see which hosts to read again; a host not in the map is
     * not known here at all.
     */
    public synchronized Map<String, Long> mirrorVersions() {
        Map<String, Long> out = new java.util.HashMap<>(hosts.size() * 2);
        hosts.forEach((id, h) -> out.put(id, h.mirrored() ? h.version : HELD));
        return out;
    }

    /** In {@link #mirrorVersions}: a host this replica holds. */
    public static final long HELD = Long.MAX_VALUE;

    /**
     * A host held by another replica, as committed at {@code version}: replaces what this replica
     * knew of it, unless this replica holds the host (its own counts are newer than any committed).
     */
    public synchronized void mirror(HostRecord record, long version, String owner, boolean online) {
        String id = record.getHostId();
        HostEntry h = hosts.get(id);
        if (h != null && !h.mirrored()) {
            return;
        }
        if (h != null) {
            h.volumes.values().forEach(this::removed);
        }
        load(record);
        HostEntry m = hosts.get(id);
        m.owner = owner;
        m.version = version;
        m.online = online;
    }

    /**
     * A mirrored host's owner and whether readers count it online (its owner's heartbeat is fresh),
     * which change without a write of the host.
     */
    public synchronized void mirrorOwner(String host, String owner, boolean online) {
        HostEntry h = hosts.get(host);
        if (h != null && h.mirrored()) {
            h.owner = owner;
            h.online = online;
        }
    }

    /**
     * Who holds the host's stream: empty when it is unknown or this process holds it; else the owner
     * replica's id, and whether it is online there.
     */
    public synchronized java.util.Optional<Owner> owner(String host) {
        HostEntry h = hosts.get(host);
        return h == null || !h.mirrored()
                ? java.util.Optional.empty()
                : java.util.Optional.of(new Owner(h.owner, h.online));
    }

    /** See {@link #owner}. */
    public record Owner(String replicaId, boolean online) {}

    public synchronized boolean known(String host) {
        return hosts.containsKey(host);
    }

    public synchronized boolean hasVolume(String host, String volume) {
        HostEntry h = hosts.get(host);
        return h != null && h.volumes.containsKey(volume);
    }

    /** Every host id with its state, sorted. */
    public synchronized List<HostInfo> hosts() {
        List<HostInfo> out = new ArrayList<>();
        hosts.forEach((id, h) -> out.add(new HostInfo(id, h.online, h.lastSeen, h.agentVersion, h.volumes.size())));
        return out;
    }

    /** A host as ListHosts shows it. */
    public record HostInfo(String id, boolean online, Instant lastSeen, String agentVersion, int volumeCount) {}

    /** Volumes of one host, or of all when {@code host} is empty; sorted by host then name. */
    public synchronized List<Volume> volumes(String host) {
        List<Volume> out = new ArrayList<>();
        hosts.forEach((id, h) -> {
            if (host.isEmpty() || host.equals(id)) {
                h.volumes.values().forEach(v -> out.add(v.volume));
            }
        });
        return out;
    }

    /** Copies of every volume's numbers, sorted by host then volume. */
    public List<VolumeCounts> volumeCounts() {
        return volumeCounts("");
    }

    /**
     * Copies of one host's volumes' numbers (every host's when {@code host} is empty), sorted by host
     * then volume. Each copy is two CounterSets of a few KiB: a query about one host copies only its own.
     */
    public synchronized List<VolumeCounts> volumeCounts(String host) {
        List<VolumeCounts> out = new ArrayList<>();
        Map<String, HostEntry> selected =
                host.isEmpty() ? hosts : hosts.containsKey(host) ? Map.of(host, hosts.get(host)) : Map.of();
        selected.forEach((id, h) -> h.volumes.forEach((name, v) -> out.add(new VolumeCounts(
                id, name, v.generation, v.sinceReset(), v.lifetime.copy(), v.inFlight, !h.online, h.lastSeen))));
        return out;
    }

    /**
     * What {@link #forEachVolume} shows of each volume: its lifetime counts and what they were when its
     * current generation began, so that its counts since the last reset are {@code lifetime - atReset}.
     * The CounterSets are the ledger's own: read them, never keep or change them.
     */
    public interface VolumeVisitor {
        void volume(
                String host, Volume volume, long generation, CounterSet lifetime, CounterSet atReset, long inFlight);
    }

    /**
     * Shows every volume to {@code visitor}, sorted by host then volume, without copying its counts: for
     * readers that take a few numbers of every volume (dashboard samples, metrics). The lock is taken
     * for one host at a time (a pass over 16,000 volumes under it held up every delta for milliseconds,
     * every second), so each host's volumes are seen as of one moment, not the whole fleet.
     */
    public void forEachVolume(VolumeVisitor visitor) {
        List<String> ids;
        synchronized (this) {
            ids = new ArrayList<>(hosts.keySet());
        }
        for (String id : ids) {
            synchronized (this) {
                HostEntry h = hosts.get(id);
                if (h != null) {
                    h.volumes.forEach(
                            (name, v) -> visitor.volume(id, v.volume, v.generation, v.lifetime, v.atReset, v.inFlight));
                }
            }
        }
    }

    /**
     * Every volume's since-reset counts added up, with the in-flight levels, whether any of their hosts
     * is stale and the oldest last-seen time (null when there are no volumes): the fleet row. The counts
     * are the running sum the ledger keeps, so this costs one copy, not a pass over every volume's counts.
     */
    public synchronized Total total() {
        CounterSet counts = fleetSinceReset.copy();
        boolean stale = false;
        Instant lastSeen = null;
        for (HostEntry h : hosts.values()) {
            if (h.volumes.isEmpty()) {
                continue;
            }
            stale |= !h.online;
            Instant seen = h.lastSeen;
            lastSeen = lastSeen == null || seen.isBefore(lastSeen) ? seen : lastSeen;
        }
        return new Total(counts, fleetInFlight, stale, lastSeen);
    }

    /** The fleet's volumes added up; see {@link #total()}. */
    public record Total(CounterSet counts, long inFlight, boolean stale, Instant lastSeen) {}

    /** The counts the volume's last reset closed (zero if it was never reset). */
    public synchronized CounterSet beforeReset(String host, String volume) {
        HostEntry h = hosts.get(host);
        VolumeEntry v = h == null ? null : h.volumes.get(volume);
        return v == null ? CounterSet.empty() : v.beforeReset.copy();
    }

    /** The host's record as the next commit writes it (tests). */
    synchronized byte[] record(String host) {
        return HostRecordCodec.encode(host, hosts.get(host));
    }

    private void load(HostRecord r) {
        HostEntry h = HostRecordCodec.decode(r);
        h.volumes.values().forEach(this::addToFleet);
        hosts.put(r.getHostId(), h);
        byId.put(r.getHostId(), h);
    }
}
