package dev.dmp.agent.api;

import dev.dmp.agent.host.HostOperations;
import dev.dmp.agent.host.VolumeDescriber;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.proto.BackendSpecs;
import dev.dmp.proto.v1.AgentGrpc;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.DeleteVolumeResponse;
import dev.dmp.proto.v1.GetVolumeRequest;
import dev.dmp.proto.v1.GetVolumeResponse;
import dev.dmp.proto.v1.ListVolumesRequest;
import dev.dmp.proto.v1.ListVolumesResponse;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import dev.dmp.proto.v1.Scope;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * dmp.v1.Agent over gRPC: a thin door onto {@link HostOperations} for this host's volumes. The
 * controller learns of volumes made or deleted here through the registry (its link listens).
 */
@GrpcService
public class AgentService extends AgentGrpc.AgentImplBase {
    private static final Logger LOG = Logger.getLogger(AgentService.class);

    /** A unit of work that may be refused with a gRPC status. */
    private interface Call<T> {
        T run() throws VolumeException, StatusException;
    }

    private final HostOperations operations;
    private final VolumeDescriber describer;

    public AgentService(HostOperations operations, VolumeDescriber describer) {
        this.operations = operations;
        this.describer = describer;
    }

    @Override
    public void createVolume(CreateVolumeRequest request, StreamObserver<CreateVolumeResponse> response) {
        answer(response, () -> {
            thisHost(request.getHost());
            var spec = BackendSpecs.of(request);
            Volume v = operations.create(
                    request.getName(),
                    spec,
                    request.getReadOnly(),
                    request.getKernel(),
                    Integer.toUnsignedLong(request.getKernelTimeoutSeconds()));
            LOG.infof(
                    "volume %s/%s ready (%s), asked directly",
                    operations.hostId(), v.name(), BackendSpecs.describe(spec));
            return CreateVolumeResponse.newBuilder()
                    .setVolume(describer.describe(v))
                    .build();
        });
    }

    @Override
    public void deleteVolume(DeleteVolumeRequest request, StreamObserver<DeleteVolumeResponse> response) {
        answer(response, () -> {
            thisHost(request.getHost());
            operations.delete(request.getName());
            return DeleteVolumeResponse.getDefaultInstance();
        });
    }

    @Override
    public void getVolume(GetVolumeRequest request, StreamObserver<GetVolumeResponse> response) {
        answer(response, () -> {
            thisHost(request.getHost());
            return GetVolumeResponse.newBuilder()
                    .setVolume(describer.describe(operations.get(request.getName())))
                    .build();
        });
    }

    @Override
    public void listVolumes(ListVolumesRequest request, StreamObserver<ListVolumesResponse> response) {
        answer(response, () -> {
            thisHost(request.getHost());
            ListVolumesResponse.Builder out = ListVolumesResponse.newBuilder();
            operations.list().forEach(v -> out.addVolumes(describer.describe(v)));
            return out.build();
        });
    }

    @Override
    public void resetStats(ResetStatsRequest request, StreamObserver<ResetStatsResponse> response) {
        answer(response, () -> {
            thisHost(request.getHost());
            scope(request.getScope(), request.getVolume());
            if (request.getScope() == Scope.VOLUME && request.getVolume().isEmpty()) {
                throw invalid("scope VOLUME needs the volume to reset; use HOST to reset every volume");
            }
            int n = operations.reset(request.getVolume().isEmpty() ? List.of() : List.of(request.getVolume()));
            LOG.infof("stats reset on host %s: %d volumes", operations.hostId(), n);
            return ResetStatsResponse.newBuilder().setVolumesReset(n).build();
        });
    }

    @Override
    public void queryStats(QueryStatsRequest request, StreamObserver<QueryStatsResponse> response) {
        answer(response, () -> {
            thisHost(request.getHost());
            scope(request.getScope(), request.getVolume());
            return operations.query(request.getScope(), request.getVolume());
        });
    }

    private void thisHost(String host) throws StatusException {
        if (!host.isEmpty() && !host.equals(operations.hostId())) {
            throw invalid("this agent is host '" + operations.hostId() + "', not '" + host
                    + "'; leave host empty or ask that host's agent (or the controller)");
        }
    }

    private static void scope(Scope scope, String volume) throws StatusException {
        if (scope != Scope.VOLUME && scope != Scope.HOST && scope != Scope.FLEET) {
            throw invalid("scope is required: VOLUME, HOST or FLEET");
        }
        if (scope != Scope.VOLUME && !volume.isEmpty()) {
            throw invalid("scope " + scope + " takes no volume; use scope VOLUME for one volume");
        }
    }

    private static StatusException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asException();
    }

    private static <T> void answer(StreamObserver<T> response, Call<T> call) {
        T message;
        try {
            message = call.run();
        } catch (VolumeException e) {
            response.onError(e.toStatus().asException());
            return;
        } catch (StatusException e) {
            response.onError(e);
            return;
        }
        response.onNext(message);
        response.onCompleted();
    }
}
