package dev.dmp.controller.api;

import dev.dmp.controller.ops.FleetOperations;
import dev.dmp.controller.ops.StatsRates;
import dev.dmp.proto.v1.ControllerGrpc;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.DeleteVolumeResponse;
import dev.dmp.proto.v1.GetVolumeRequest;
import dev.dmp.proto.v1.GetVolumeResponse;
import dev.dmp.proto.v1.ListHostsRequest;
import dev.dmp.proto.v1.ListHostsResponse;
import dev.dmp.proto.v1.ListVolumesRequest;
import dev.dmp.proto.v1.ListVolumesResponse;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** dmp.v1.Controller over gRPC: a thin door onto {@link FleetOperations}. */
@GrpcService
public class ControllerService extends ControllerGrpc.ControllerImplBase {
    private final FleetOperations ops;
    private final ScheduledExecutorService watchTimer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("watch-stats").daemon().factory());

    public ControllerService(FleetOperations ops) {
        this.ops = ops;
    }

    @Override
    public void createVolume(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> response) {
        answer(
                ops.createVolume(request),
                response,
                v -> CreateVolumeResponse.newBuilder().setVolume(v).build());
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest request, StreamObserver<DeleteVolumeResponse> response) {
        answer(ops.deleteVolume(request), response, v -> DeleteVolumeResponse.getDefaultInstance());
    }

    @Override
    public void getVolume(GetVolumeRequest request, StreamObserver<GetVolumeResponse> response) {
        try {
            reply(
                    response,
                    GetVolumeResponse.newBuilder()
                            .setVolume(ops.getVolume(request.getHost(), request.getName()))
                            .build());
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void listVolumes(ListVolumesRequest request, StreamObserver<ListVolumesResponse> response) {
        try {
            reply(
                    response,
                    ListVolumesResponse.newBuilder()
                            .addAllVolumes(ops.listVolumes(request.getHost()))
                            .build());
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void listHosts(ListHostsRequest request, StreamObserver<ListHostsResponse> response) {
        reply(
                response,
                ListHostsResponse.newBuilder().addAllHosts(ops.listHosts()).build());
    }

    @Override
    public void resetStats(ResetStatsRequest request, StreamObserver<ResetStatsResponse> response) {
        answer(ops.resetStats(request), response, ControllerService::resetAnswer);
    }

    static ResetStatsResponse resetAnswer(java.util.List<dev.dmp.proto.v1.StatsRow> before) {
        return ResetStatsResponse.newBuilder()
                .setVolumesReset(before.size())
                .addAllBefore(before)
                .build();
    }

    @Override
    public void queryStats(QueryStatsRequest request, StreamObserver<QueryStatsResponse> response) {
        try {
            reply(response, ops.queryStats(request));
        } catch (StatusException e) {
            response.onError(e);
        }
    }

    @Override
    public void watchStats(QueryStatsRequest request, StreamObserver<QueryStatsResponse> response) {
        QueryStatsResponse first;
        try {
            first = ops.queryStats(request);
        } catch (StatusException e) {
            response.onError(e);
            return;
        }
        ServerCallStreamObserver<QueryStatsResponse> call = (ServerCallStreamObserver<QueryStatsResponse>) response;
        QueryStatsResponse[] last = {first};
        long[] lastSent = {System.nanoTime()};
        response.onNext(first);
        // One timer thread runs every watch, so sends to this call never overlap.
        var task = watchTimer.scheduleAtFixedRate(
                () -> {
                    try {
                        QueryStatsResponse counts = ops.queryStats(request);
                        boolean changed = !StatsRates.sameCounts(counts, last[0]);
                        // Send when the counts changed, and once more when they stop (so rates drop to zero).
                        if ((changed || StatsRates.moving(last[0])) && !call.isCancelled()) {
                            long t = System.nanoTime();
                            QueryStatsResponse now = StatsRates.between(last[0], counts, (t - lastSent[0]) / 1e9);
                            last[0] = now;
                            lastSent[0] = t;
                            response.onNext(now);
                        }
                    } catch (StatusException e) {
                        response.onError(e);
                        throw new CompletionException(e); // ends this watch's schedule
                    }
                },
                1,
                1,
                TimeUnit.SECONDS);
        call.setOnCancelHandler(() -> task.cancel(false));
    }

    private static <T> void reply(StreamObserver<T> response, T message) {
        response.onNext(message);
        response.onCompleted();
    }

    /** Completes the call when the operation does: its answer, or its status. */
    static <R, T> void answer(CompletableFuture<R> result, StreamObserver<T> response, Function<R, T> toMessage) {
        result.whenComplete((r, e) -> {
            if (e == null) {
                reply(response, toMessage.apply(r));
                return;
            }
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            response.onError(
                    cause instanceof StatusException
                            ? cause
                            : Status.INTERNAL.withDescription(cause.toString()).asException());
        });
    }
}
