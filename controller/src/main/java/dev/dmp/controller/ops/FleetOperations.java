package dev.dmp.controller.ops;

import dev.dmp.controller.fleet.AgentSession;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.proto.BackendSpecs;
import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.Backend;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.CreateVolume;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.DeleteVolume;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.Host;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import dev.dmp.proto.v1.ResetVolumes;
import dev.dmp.proto.v1.Scope;
import dev.dmp.proto.v1.StatsRow;
import dev.dmp.proto.v1.Volume;
import io.grpc.Status;
import io.grpc.StatusException;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * What the controller can be asked to do, whatever the door (gRPC, the dashboard's HTTP API): checks
 * each request, forwards volume commands to the host's agent and reads the fleet's ledger. Failures
 * are gRPC statuses with a description that says what to change; a failed request changes nothing.
 * Nothing here blocks: agent round trips come back as futures.
 */
@ApplicationScoped
public class FleetOperations {
    private static final Logger LOG = Logger.getLogger(FleetOperations.class);

    private final Fleet fleet;
    private final ReplicaForwarder forwarder;

    public FleetOperations(Fleet fleet, ReplicaForwarder forwarder) {
        this.fleet = fleet;
        this.forwarder = forwarder;
    }

    public Fleet fleet() {
        return fleet;
    }

    public CompletableFuture<Volume> createVolume(CreateVolumeRequest request) {
        return afterLookup(request.getHost(), () -> createVolume(request, true));
    }

    /**
     * Runs {@code command} once this replica knows {@code host}: a host that connected to another
     * replica since this one last read the shared ledger is read first (off the caller's thread: it is
     * a database round trip), so a command right after an agent's first Hello is not answered NOT_FOUND.
     */
    private <T> CompletableFuture<T> afterLookup(String host, Supplier<CompletableFuture<T>> command) {
        if (host.isEmpty() || fleet.known(host) || fleet.mirror().isEmpty()) {
            return command.get();
        }
        return CompletableFuture.supplyAsync(() -> fleet.mirror().get().readHost(host), LOOKUPS)
                .thenCompose(found -> command.get());
    }

    private static final Executor LOOKUPS = Executors.newVirtualThreadPerTaskExecutor();

    /**
     * @param forward whether a host held by another replica is forwarded to it (false: the request came
     *     from a replica, and this one answers as if the host were offline)
     */
    public CompletableFuture<Volume> createVolume(CreateVolumeRequest request, boolean forward) {
        try {
            RequestChecks.required("host", request.getHost());
            RequestChecks.volumeName(request.getName());
            Backend backend = BackendSpecs.of(request);
            Optional<String> owner = forward ? fleet.ownerAddress(request.getHost()) : Optional.empty();
            if (owner.isPresent()) {
                return forwarder.createVolume(owner.get(), request).thenApply(CreateVolumeResponse::getVolume);
            }
            AgentSession agent = online(request.getHost());
            Command.Builder command = Command.newBuilder()
                    .setCreate(CreateVolume.newBuilder()
                            .setName(request.getName())
                            .setBackend(backend)
                            .setReadOnly(request.getReadOnly())
                            .setKernel(request.getKernel())
                            .setKernelTimeoutSeconds(request.getKernelTimeoutSeconds()));
            return succeeded(agent.send(command)).thenApply(result -> {
                fleet.volumeCreated(result.getVolume());
                LOG.infof(
                        "volume %s/%s ready (%s)",
                        request.getHost(), request.getName(), BackendSpecs.describe(backend));
                return result.getVolume();
            });
        } catch (StatusException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    public CompletableFuture<Void> deleteVolume(DeleteVolumeRequest request) {
        return afterLookup(request.getHost(), () -> deleteVolume(request, true));
    }

    /** See {@link #createVolume(CreateVolumeRequest, boolean)} for {@code forward}. */
    public CompletableFuture<Void> deleteVolume(DeleteVolumeRequest request, boolean forward) {
        try {
            RequestChecks.required("host", request.getHost());
            RequestChecks.volumeName(request.getName());
            Optional<String> owner = forward ? fleet.ownerAddress(request.getHost()) : Optional.empty();
            if (owner.isPresent()) {
                return forwarder.deleteVolume(owner.get(), request).thenApply(r -> null);
            }
            AgentSession agent = online(request.getHost());
            Command.Builder command =
                    Command.newBuilder().setDelete(DeleteVolume.newBuilder().setName(request.getName()));
            return succeeded(agent.send(command)).thenApply(result -> {
                fleet.volumeDeleted(request.getHost(), request.getName());
                LOG.infof("volume %s/%s deleted", request.getHost(), request.getName());
                return null;
            });
        } catch (StatusException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** One volume, as its host last announced it (an offline host's volumes are still listed). */
    public Volume getVolume(String host, String name) throws StatusException {
        RequestChecks.required("host", host);
        RequestChecks.volumeName(name);
        if (!fleet.known(host)) {
            throw unknownHost(host);
        }
        return fleet.volume(host, name)
                .orElseThrow(() -> Status.NOT_FOUND
                        .withDescription(
                                "host '" + host + "' has no volume '" + name + "'; ListVolumes shows its volumes")
                        .asException());
    }

    /** Volumes of one host, or of every host when {@code host} is empty. */
    public List<Volume> listVolumes(String host) throws StatusException {
        if (!host.isEmpty() && !fleet.known(host)) {
            throw unknownHost(host);
        }
        return fleet.volumes(host);
    }

    public List<Host> listHosts() {
        return fleet.hosts();
    }

    /**
     * Resets the selected counters at the agents; completes with the counts each reset volume had at
     * its reset (the generation it closed).
     */
    public CompletableFuture<List<StatsRow>> resetStats(ResetStatsRequest request) {
        return afterLookup(request.getHost(), () -> resetStats(request, true));
    }

    /**
     * See {@link #createVolume(CreateVolumeRequest, boolean)} for {@code forward}. A FLEET reset resets
     * the hosts held here at their agents and sends one HOST reset per host held by another replica to
     * that replica; when any known host is offline nothing is reset, as with one controller.
     */
    public CompletableFuture<List<StatsRow>> resetStats(ResetStatsRequest request, boolean forward) {
        try {
            RequestChecks.scope(request.getScope(), request.getHost(), request.getVolume(), true);
            List<AgentSession> agents = new ArrayList<>();
            /** Host id -> the address of the replica holding it, for hosts held elsewhere. */
            Map<String, String> elsewhere = new TreeMap<>();
            ResetVolumes.Builder reset = ResetVolumes.newBuilder();
            if (request.getScope() == Scope.FLEET) {
                if (!forward) {
                    throw Status.INVALID_ARGUMENT
                            .withDescription(
                                    "a replica forwards HOST and VOLUME resets only; send FLEET to the Controller service")
                            .asException();
                }
                List<String> offline = new ArrayList<>();
                for (Host host : fleet.hosts()) {
                    Optional<AgentSession> here = fleet.session(host.getId());
                    Optional<String> owner = here.isPresent() ? Optional.empty() : fleet.ownerAddress(host.getId());
                    if (here.isPresent()) {
                        agents.add(here.get());
                    } else if (owner.isPresent()) {
                        elsewhere.put(host.getId(), owner.get());
                    } else {
                        offline.add(host.getId());
                    }
                }
                if (!offline.isEmpty()) {
                    throw Status.FAILED_PRECONDITION
                            .withDescription("hosts offline: " + String.join(", ", offline)
                                    + "; nothing was reset. Reset each online host with scope HOST, or wait for them")
                            .asException();
                }
            } else {
                Optional<String> owner = forward ? fleet.ownerAddress(request.getHost()) : Optional.empty();
                if (owner.isEmpty()) {
                    agents.add(online(request.getHost()));
                }
                if (request.getScope() == Scope.VOLUME) {
                    if (!fleet.hasVolume(request.getHost(), request.getVolume())) {
                        throw Status.NOT_FOUND
                                .withDescription(
                                        "host '" + request.getHost() + "' has no volume '" + request.getVolume() + "'")
                                .asException();
                    }
                    reset.addNames(request.getVolume());
                }
                if (owner.isPresent()) {
                    return forwarder.resetStats(owner.get(), request).thenApply(ResetStatsResponse::getBeforeList);
                }
            }
            List<CompletableFuture<CommandResult>> results = agents.stream()
                    .map(a -> succeeded(a.send(Command.newBuilder().setReset(reset))))
                    .toList();
            List<CompletableFuture<ResetStatsResponse>> forwarded = new ArrayList<>();
            elsewhere.forEach((host, owner) -> forwarded.add(forwarder.resetStats(
                    owner,
                    ResetStatsRequest.newBuilder()
                            .setScope(Scope.HOST)
                            .setHost(host)
                            .build())));
            List<CompletableFuture<?>> all = new ArrayList<>(results);
            all.addAll(forwarded);
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                    .thenApply(v -> {
                        // The agents sent each reset's closing delta before their result, so the ledger
                        // already holds the closed generations.
                        List<StatsRow> before = new ArrayList<>();
                        for (AgentSession agent : agents) {
                            for (Volume volume : fleet.volumes(agent.hostId())) {
                                if (reset.getNamesCount() == 0
                                        || reset.getNamesList().contains(volume.getName())) {
                                    before.add(StatsRows.row(
                                                    volume.getHost(),
                                                    volume.getName(),
                                                    fleet.ledger().beforeReset(volume.getHost(), volume.getName()))
                                            .build());
                                }
                            }
                        }
                        forwarded.forEach(f -> before.addAll(f.join().getBeforeList()));
                        before.sort(BY_HOST_AND_VOLUME);
                        LOG.infof(
                                "stats reset: scope %s%s%s, %d volumes",
                                request.getScope(),
                                request.getHost().isEmpty() ? "" : " host " + request.getHost(),
                                request.getVolume().isEmpty() ? "" : " volume " + request.getVolume(),
                                before.size());
                        return before;
                    });
        } catch (StatusException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    public QueryStatsResponse queryStats(QueryStatsRequest request) throws StatusException {
        return StatsQuery.run(fleet, request);
    }

    private static final Comparator<StatsRow> BY_HOST_AND_VOLUME =
            Comparator.comparing(StatsRow::getHost).thenComparing(StatsRow::getVolume);

    private AgentSession online(String host) throws StatusException {
        if (!fleet.known(host)) {
            throw unknownHost(host);
        }
        return fleet.session(host)
                .orElseThrow(() -> Status.FAILED_PRECONDITION
                        .withDescription(
                                "host '" + host + "' is offline: its agent is not connected; retry when it is back")
                        .asException());
    }

    private static StatusException unknownHost(String host) {
        return Status.NOT_FOUND
                .withDescription(
                        "no host '" + host + "' has connected to this controller; ListHosts shows the known hosts")
                .asException();
    }

    /** The agent's answer, turned into a failed future with its status when it is not OK. */
    private static CompletableFuture<CommandResult> succeeded(CompletableFuture<CommandResult> result) {
        return result.thenCompose(r -> r.getCode() == Status.Code.OK.value()
                ? CompletableFuture.completedFuture(r)
                : CompletableFuture.failedFuture(Status.fromCodeValue(r.getCode())
                        .withDescription(r.getMessage())
                        .asException()));
    }
}
