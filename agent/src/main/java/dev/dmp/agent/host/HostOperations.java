package dev.dmp.agent.host;

import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.Backend;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.Scope;
import io.grpc.Status;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What this agent can be asked to do to its own volumes, whichever door the request came through
 * (the controller's commands, the agent's own dmp.v1.Agent service). Refusals are VolumeExceptions
 * carrying the gRPC code and a description that says what to change; a refused request changes nothing.
 */
public final class HostOperations {
    private final String hostId;
    private final VolumeRegistry registry;
    private final KernelAttacher kernel;
    private final StatsJournal journal;
    /** True once the agent drains for shutdown (its preStop hook): no new volumes then. */
    private final BooleanSupplier draining;

    public HostOperations(
            String hostId,
            VolumeRegistry registry,
            KernelAttacher kernel,
            StatsJournal journal,
            BooleanSupplier draining) {
        this.hostId = hostId;
        this.registry = registry;
        this.kernel = kernel;
        this.journal = journal;
        this.draining = draining;
    }

    /** This agent's host id. */
    public String hostId() {
        return hostId;
    }

    /**
     * Creates a volume (or returns it when it exists with the same spec), attached as /dev/nbdN too when
     * {@code attach}; nothing is left when a step fails. Refused once the agent drains for shutdown.
     */
    public Volume create(String name, Backend spec, boolean readOnly, boolean attach) throws VolumeException {
        return create(name, spec, readOnly, attach, 0);
    }

    /** As {@link #create(String, Backend, boolean, boolean)}, the device's request timeout {@code kernelTimeoutSeconds} (0: the agent's). */
    public Volume create(String name, Backend spec, boolean readOnly, boolean attach, long kernelTimeoutSeconds)
            throws VolumeException {
        checkKernelTimeout(kernelTimeoutSeconds, attach);
        if (draining.getAsBoolean()) {
            throw new VolumeException(
                    Status.Code.FAILED_PRECONDITION,
                    "the agent on host '" + hostId
                            + "' is shutting down (drained by its preStop hook); create the volume when it is back");
        }
        boolean existed = registry.get(name) != null;
        Volume volume = registry.create(name, spec, readOnly);
        if (attach && !existed) {
            try {
                kernel.attach(name, volume.export(), volume.size(), kernelTimeoutSeconds);
            } catch (VolumeException | RuntimeException e) {
                registry.delete(name);
                throw e;
            }
        }
        return volume;
    }

    /** The most a device's own request timeout may be: an hour (the kernel would hold I/O that long). */
    static final long MAX_KERNEL_TIMEOUT_SECONDS = 3600;

    /** kernel_timeout_seconds: 0 (the agent's), or 1 to an hour, and only for a kernel device. */
    private static void checkKernelTimeout(long seconds, boolean attach) throws VolumeException {
        if (seconds == 0) {
            return;
        }
        if (!attach) {
            throw new VolumeException(
                    Status.Code.INVALID_ARGUMENT,
                    "kernel_timeout_seconds is the request timeout of a "
                            + "kernel device: set \"kernel\":true too, or leave it out");
        }
        if (seconds < 0 || seconds > MAX_KERNEL_TIMEOUT_SECONDS) {
            throw new VolumeException(
                    Status.Code.INVALID_ARGUMENT,
                    "kernel_timeout_seconds must be 1-" + MAX_KERNEL_TIMEOUT_SECONDS
                            + " (0 or absent: the agent's dmp.agent.kernel-timeout), got " + seconds);
        }
    }

    /** Detaches the volume's device (refused while mounted), then deletes it. */
    public void delete(String name) throws VolumeException {
        kernel.detach(name, false);
        registry.delete(name);
    }

    public Volume get(String name) throws VolumeException {
        Volume v = registry.get(name);
        if (v == null) {
            throw new VolumeException(
                    Status.Code.NOT_FOUND,
                    "host '" + hostId + "' has no volume '" + name + "'; ListVolumes shows its volumes");
        }
        return v;
    }

    public List<Volume> list() {
        return registry.list();
    }

    /** Resets the named volumes' counters, or every volume's when {@code names} is empty; all or nothing. */
    public int reset(List<String> names) throws VolumeException {
        if (names.isEmpty()) {
            names = list().stream().map(Volume::name).toList();
        } else {
            for (String name : names) {
                get(name);
            }
        }
        return journal.reset(names);
    }

    /** The old view since the last reset: rows per volume (one when {@code volume} is set), per host, or fleet. */
    public QueryStatsResponse query(Scope scope, String volume) throws VolumeException {
        List<Volume> selected = volume.isEmpty() ? list() : List.of(get(volume));
        QueryStatsResponse.Builder out = QueryStatsResponse.newBuilder();
        CounterSet sum = CounterSet.empty();
        String host = hostId;
        for (Volume v : selected) {
            CounterSet s = v.stats().sinceReset();
            sum.add(s);
            if (scope == Scope.VOLUME) {
                out.addRows(StatsRows.row(host, v.name(), s)
                        .setInFlight(v.stats().inFlight())
                        .setGeneration(v.stats().generation()));
            }
        }
        if (scope != Scope.VOLUME) {
            out.addRows(StatsRows.row(scope == Scope.HOST ? host : "", "", sum));
        }
        return out.build();
    }
}
