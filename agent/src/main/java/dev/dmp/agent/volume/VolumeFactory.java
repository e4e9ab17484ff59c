package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.stats.VolumeStats;

/**
 * How a volume is assembled from its spec, in one place: the {@link Backend} its spec names
 * ({@link BackendFactory}), its counters ({@link VolumeStats}), and the chain every NBD request of the
 * volume runs through, whichever door it came in by (a socket, or the kernel's /dev/nbdN):
 *
 * <pre>
 *   transmission loop  -&gt;  observer: the volume's counters  -&gt;  backend
 * </pre>
 *
 * A second observer (dirty-block tracking, say) is chained here with
 * {@link dev.dmp.agent.nbd.RequestObserver#both}, and the loop does not change.
 */
public final class VolumeFactory {
    private final String hostId;
    private final BackendFactory backends;

    /** {@code hostId}: named in each export's description (NBD_INFO_DESCRIPTION). */
    public VolumeFactory(String hostId, BackendFactory backends) {
        this.hostId = hostId;
        this.backends = backends;
    }

    /** A new volume with its backend open; nothing is left open when that fails. */
    Volume make(String name, dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException {
        Backend backend = backends.open(spec, readOnly);
        VolumeStats stats = new VolumeStats();
        String description = "dmp volume " + name + " on host " + hostId + ": " + backend.describe()
                + (readOnly || backend.isReadOnly() ? ", read-only" : "");
        Export export = new Export(name, backend, readOnly, stats::observer, description);
        return new Volume(spec, export, stats);
    }
}
