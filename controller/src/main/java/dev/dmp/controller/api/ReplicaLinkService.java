package dev.dmp.controller.api;

import dev.dmp.controller.ops.FleetOperations;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.DeleteVolumeResponse;
import dev.dmp.proto.v1.ReplicaLinkGrpc;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;

/**
 * dmp.v1.ReplicaLink: a volume command another replica forwarded because this one holds the host's
 * stream. Run here and never forwarded again, so two replicas that disagree for a moment about who
 * holds a host cannot pass a command back and forth: the one that does not hold it answers
 * FAILED_PRECONDITION, as for an offline host.
 */
@GrpcService
public class ReplicaLinkService extends ReplicaLinkGrpc.ReplicaLinkImplBase {
    private final FleetOperations ops;

    public ReplicaLinkService(FleetOperations ops) {
        this.ops = ops;
    }

    @Override
    public void createVolume(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> response) {
        ControllerService.answer(
                ops.createVolume(request, false),
                response,
                v -> CreateVolumeResponse.newBuilder().setVolume(v).build());
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest request, StreamObserver<DeleteVolumeResponse> response) {
        ControllerService.answer(
                ops.deleteVolume(request, false), response, v -> DeleteVolumeResponse.getDefaultInstance());
    }

    @Override
    public void resetStats(ResetStatsRequest request, StreamObserver<ResetStatsResponse> response) {
        ControllerService.answer(ops.resetStats(request, false), response, ControllerService::resetAnswer);
    }
}
