package dev.dmp.controller.ops;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.dmp.auth.TokenCallCredentials;
import dev.dmp.auth.TokenGuard;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.DeleteVolumeResponse;
import dev.dmp.proto.v1.ReplicaLinkGrpc;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import io.grpc.CallCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Sends a volume command to the replica that holds the host's stream, over its
 * {@code dmp.v1.ReplicaLink} (docs/replication.md, "Commands on any replica"), with this process's
 * bearer token: replicas share one. One channel per replica address, kept while the process runs.
 * The owner's answer comes back as is, its status included; an owner that cannot be reached is
 * UNAVAILABLE, and the caller may retry (by then its agent may have dialled another replica).
 */
@ApplicationScoped
public class ReplicaForwarder {
    private static final Logger LOG = Logger.getLogger(ReplicaForwarder.class);
    /** As long as a command may take at the agent (a kernel attachment waits for the device). */
    static final long DEADLINE_SECONDS = 60;

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final CallCredentials credentials;

    public ReplicaForwarder(TokenGuard guard) {
        String token = guard.token().value().orElse(null);
        this.credentials = token == null ? null : new TokenCallCredentials(token);
    }

    public CompletableFuture<CreateVolumeResponse> createVolume(String owner, CreateVolumeRequest request) {
        return call(owner, "CreateVolume " + request.getHost() + "/" + request.getName(), s -> s.createVolume(request));
    }

    public CompletableFuture<DeleteVolumeResponse> deleteVolume(String owner, DeleteVolumeRequest request) {
        return call(owner, "DeleteVolume " + request.getHost() + "/" + request.getName(), s -> s.deleteVolume(request));
    }

    public CompletableFuture<ResetStatsResponse> resetStats(String owner, ResetStatsRequest request) {
        return call(owner, "ResetStats " + request.getScope() + " " + request.getHost(), s -> s.resetStats(request));
    }

    private <T> CompletableFuture<T> call(
            String owner, String what, Function<ReplicaLinkGrpc.ReplicaLinkFutureStub, ListenableFuture<T>> rpc) {
        ReplicaLinkGrpc.ReplicaLinkFutureStub stub =
                ReplicaLinkGrpc.newFutureStub(channel(owner)).withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
        if (credentials != null) {
            stub = stub.withCallCredentials(credentials);
        }
        LOG.debugf("forwarding %s to the replica at %s, which holds the host", what, owner);
        CompletableFuture<T> result = new CompletableFuture<>();
        Futures.addCallback(
                rpc.apply(stub),
                new FutureCallback<>() {
                    @Override
                    public void onSuccess(T answer) {
                        result.complete(answer);
                    }

                    @Override
                    public void onFailure(Throwable t) {
                        result.completeExceptionally(failure(owner, what, t));
                    }
                },
                MoreExecutors.directExecutor());
        return result;
    }

    /** The owner's own status as it is; a transport failure says which replica did not answer. */
    private static Throwable failure(String owner, String what, Throwable t) {
        Status status = t instanceof StatusRuntimeException e ? e.getStatus() : Status.fromThrowable(t);
        if (status.getCode() == Status.Code.UNAVAILABLE || status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
            LOG.warnf("forwarding %s to the replica at %s failed: %s", what, owner, status);
            return Status.UNAVAILABLE
                    .withDescription("the controller replica at " + owner + " that holds the host did not answer ("
                            + status.getCode() + ": " + status.getDescription() + "); retry")
                    .asException();
        }
        return status.asException();
    }

    private ManagedChannel channel(String address) {
        return channels.computeIfAbsent(
                address,
                a -> Grpc.newChannelBuilder(a, InsecureChannelCredentials.create())
                        .build());
    }

    void close(@Observes ShutdownEvent event) {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
