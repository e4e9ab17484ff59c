package dev.dmp.controller.api;

import dev.dmp.controller.fleet.AgentSession;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerGrpc;
import dev.dmp.proto.v1.CreateVolume;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.DeleteVolume;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.DeleteVolumeResponse;
import dev.dmp.proto.v1.ListHostsRequest;
import dev.dmp.proto.v1.ListHostsResponse;
import dev.dmp.proto.v1.ListVolumesRequest;
import dev.dmp.proto.v1.ListVolumesResponse;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import dev.dmp.proto.v1.ResetVolumes;
import dev.dmp.proto.v1.Scope;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * dmp.v1.Controller: checks each request, forwards volume commands to the host's agent over its
 * AgentLink stream, and answers from the fleet's ledger. Nothing here blocks the gRPC thread.
 */
@GrpcService
public class ControllerService extends ControllerGrpc.ControllerImplBase {
    private static final Logger LOG = Logger.getLogger(ControllerService.class);

    private final Fleet fleet;
    private final ScheduledExecutorService watchTimer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("watch-stats").daemon().factory());

    public ControllerService(Fleet fleet) {
        this.fleet = fleet;
    }

    @Override
    public void createVolume(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> response) {
        try {
            RequestChecks.required("host", request.getHost());
            RequestChecks.volumeName(request.getName());
            dev.dmp.proto.v1.Backend backend = switch (request.getBackendCase()) {
                case ZERO -> {
                    if (request.getZero().getSizeBytes() == 0) {
                        throw RequestChecks.invalid("zero.sizeBytes must be greater than 0");
                    }
                    yield dev.dmp.proto.v1.Backend.newBuilder().setZero(request.getZero()).build();
                }
                case FILE -> {
                    RequestChecks.required("file.path", request.getFile().getPath());
                    yield dev.dmp.proto.v1.Backend.newBuilder().setFile(request.getFile()).build();
                }
                case BACKEND_NOT_SET -> throw RequestChecks.invalid(
                        "a backend is required: \"zero\":{\"sizeBytes\":\"...\"} or \"file\":{\"path\":\"...\"}");
            };
            AgentSession agent = online(request.getHost());
            Command.Builder command = Command.newBuilder()
                    .setCreate(CreateVolume.newBuilder().setName(request.getName()).setBackend(backend)
                            .setKernel(request.getKernel()));
            answer(agent.send(command), response, result -> {
                fleet.volumeCreated(result.getVolume());
                LOG.infof("volume %s/%s created (%s)", request.getHost(), request.getName(), describe(backend));
                return CreateVolumeResponse.newBuilder().setVolume(result.getVolume()).build();
            });
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest request, StreamObserver<DeleteVolumeResponse> response) {
        try {
            RequestChecks.required("host", request.getHost());
            RequestChecks.volumeName(request.getName());
            AgentSession agent = online(request.getHost());
            Command.Builder command = Command.newBuilder().setDelete(DeleteVolume.newBuilder().setName(request.getName()));
            answer(agent.send(command), response, result -> {
                fleet.volumeDeleted(request.getHost(), request.getName());
                LOG.infof("volume %s/%s deleted", request.getHost(), request.getName());
                return DeleteVolumeResponse.getDefaultInstance();
            });
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void listVolumes(ListVolumesRequest request, StreamObserver<ListVolumesResponse> response) {
        if (!request.getHost().isEmpty() && !fleet.known(request.getHost())) {
            response.onError(unknownHost(request.getHost()));
            return;
        }
        response.onNext(ListVolumesResponse.newBuilder().addAllVolumes(fleet.volumes(request.getHost())).build());
        response.onCompleted();
    }

    @Override
    public void listHosts(ListHostsRequest request, StreamObserver<ListHostsResponse> response) {
        response.onNext(ListHostsResponse.newBuilder().addAllHosts(fleet.hosts()).build());
        response.onCompleted();
    }

    @Override
    public void resetStats(ResetStatsRequest request, StreamObserver<ResetStatsResponse> response) {
        try {
            RequestChecks.scope(request.getScope(), request.getHost(), request.getVolume(), true);
            List<AgentSession> agents = new ArrayList<>();
            ResetVolumes.Builder reset = ResetVolumes.newBuilder();
            if (request.getScope() == Scope.FLEET) {
                List<String> offline = new ArrayList<>();
                for (var host : fleet.hosts()) {
                    fleet.session(host.getId()).ifPresentOrElse(agents::add, () -> offline.add(host.getId()));
                }
                if (!offline.isEmpty()) {
                    throw Status.FAILED_PRECONDITION.withDescription("hosts offline: " + String.join(", ", offline)
                            + "; nothing was reset. Reset each online host with scope HOST, or wait for them").asException();
                }
            } else {
                agents.add(online(request.getHost()));
                if (request.getScope() == Scope.VOLUME) {
                    if (!fleet.hasVolume(request.getHost(), request.getVolume())) {
                        throw Status.NOT_FOUND.withDescription("host '" + request.getHost() + "' has no volume '"
                                + request.getVolume() + "'").asException();
                    }
                    reset.addNames(request.getVolume());
                }
            }
            List<CompletableFuture<CommandResult>> results = agents.stream()
                    .map(a -> a.send(Command.newBuilder().setReset(reset))).toList();
            CompletableFuture<CommandResult> all = CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
                    .thenApply(v -> {
                        int n = 0;
                        for (var r : results) {
                            CommandResult result = r.join();
                            if (result.getCode() != Status.Code.OK.value()) {
                                return result;
                            }
                            n += result.getVolumesReset();
                        }
                        return CommandResult.newBuilder().setVolumesReset(n).build();
                    });
            answer(all, response, result -> {
                LOG.infof("stats reset: scope %s%s%s, %d volumes", request.getScope(),
                        request.getHost().isEmpty() ? "" : " host " + request.getHost(),
                        request.getVolume().isEmpty() ? "" : " volume " + request.getVolume(), result.getVolumesReset());
                return ResetStatsResponse.newBuilder().setVolumesReset(result.getVolumesReset()).build();
            });
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void queryStats(QueryStatsRequest request, StreamObserver<QueryStatsResponse> response) {
        try {
            response.onNext(StatsQuery.run(fleet, request));
            response.onCompleted();
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void watchStats(QueryStatsRequest request, StreamObserver<QueryStatsResponse> response) {
        QueryStatsResponse first;
        try {
            first = StatsQuery.run(fleet, request);
        } catch (StatusException e) {
            response.onError(e);
            return;
        }
        ServerCallStreamObserver<QueryStatsResponse> call = (ServerCallStreamObserver<QueryStatsResponse>) response;
        Object lock = new Object();
        QueryStatsResponse[] last = {first};
        response.onNext(first);
        var task = watchTimer.scheduleAtFixedRate(() -> {
            synchronized (lock) {
                try {
                    QueryStatsResponse now = StatsQuery.run(fleet, request);
                    if (!now.equals(last[0]) && !call.isCancelled()) {
                        last[0] = now;
                        response.onNext(now);
                    }
                } catch (StatusException e) {
                    response.onError(e);
                    throw new CompletionException(e); // ends the schedule
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
        call.setOnCancelHandler(() -> task.cancel(false));
    }

    private AgentSession online(String host) throws StatusException {
        if (!fleet.known(host)) {
            throw unknownHost(host);
        }
        return fleet.session(host).orElseThrow(() -> Status.FAILED_PRECONDITION
                .withDescription("host '" + host + "' is offline: its agent is not connected; retry when it is back")
                .asException());
    }

    private static StatusException unknownHost(String host) {
        return Status.NOT_FOUND.withDescription("no host '" + host
                + "' has connected to this controller; ListHosts shows the known hosts").asException();
    }

    /** Completes the call with the agent's result: its error code and message, or {@code onSuccess}'s answer. */
    private static <T> void answer(CompletableFuture<CommandResult> result, StreamObserver<T> response,
            Function<CommandResult, T> onSuccess) {
        result.whenComplete((r, e) -> {
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                response.onError(cause instanceof StatusException ? cause
                        : Status.INTERNAL.withDescription(cause.toString()).asException());
            } else if (r.getCode() != Status.Code.OK.value()) {
                response.onError(Status.fromCodeValue(r.getCode()).withDescription(r.getMessage()).asException());
            } else {
                response.onNext(onSuccess.apply(r));
                response.onCompleted();
            }
        });
    }

    private static String describe(dev.dmp.proto.v1.Backend backend) {
        return switch (backend.getKindCase()) {
            case ZERO -> "zero, " + backend.getZero().getSizeBytes() + " bytes";
            case FILE -> "file " + backend.getFile().getPath();
            default -> backend.getKindCase().toString();
        };
    }
}
