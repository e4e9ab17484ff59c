package dev.dmp.controller.http;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.dmp.controller.dashboard.ChartScope;
import dev.dmp.controller.dashboard.Dashboard;
import dev.dmp.controller.dashboard.Overview;
import dev.dmp.controller.dashboard.RatePoint;
import dev.dmp.controller.ops.FleetOperations;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.DeleteVolumeRequest;
import dev.dmp.proto.v1.ResetStatsRequest;
import io.grpc.StatusException;
import io.smallrye.mutiny.Multi;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;
import org.jboss.resteasy.reactive.RestStreamElementType;

/**
 * The dashboard's JSON API: a door onto {@link FleetOperations} like the gRPC service, with the same
 * checks and messages; request bodies are the gRPC requests in proto3 JSON. See docs/dashboard.md.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class DashboardResource {
    private final FleetOperations ops;
    private final Dashboard dashboard;

    public DashboardResource(FleetOperations ops, Dashboard dashboard) {
        this.ops = ops;
        this.dashboard = dashboard;
    }

    /** Fleet, hosts and volumes with stats and rates; {@code chart} is the newest point of the scope asked for. */
    @GET
    @Path("overview")
    public Overview overview(@RestQuery String host, @RestQuery String volume) throws StatusException {
        return dashboard.overview(ChartScope.of(host, volume));
    }

    /** The overview again every second, as server-sent events, until the client goes. */
    @GET
    @Path("events")
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @RestStreamElementType(MediaType.APPLICATION_JSON)
    public Multi<Overview> events(@RestQuery String host, @RestQuery String volume) throws StatusException {
        ChartScope scope = ChartScope.of(host, volume);
        dashboard.overview(scope); // a bad scope fails here, with its HTTP status, rather than mid-stream
        return Multi.createFrom()
                .ticks()
                .startingAfter(Duration.ofMillis(1))
                .every(Duration.ofSeconds(1))
                .onOverflow()
                .drop()
                .map(tick -> {
                    try {
                        return dashboard.overview(scope);
                    } catch (StatusException e) {
                        throw new IllegalStateException(
                                e.getStatus().getDescription(), e); // e.g. the volume was deleted
                    }
                });
    }

    /** The chart of a scope over the last minutes: one point a second, oldest first. */
    @GET
    @Path("history")
    public Map<String, List<RatePoint>> history(@RestQuery String host, @RestQuery String volume)
            throws StatusException {
        return Map.of("points", dashboard.history(ChartScope.of(host, volume)));
    }

    /** CreateVolume: the body is a CreateVolumeRequest; answers 201 with the volume. */
    @POST
    @Path("volumes")
    @Consumes(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> createVolume(String body) throws InvalidProtocolBufferException {
        CreateVolumeRequest request =
                parse(body, CreateVolumeRequest.newBuilder()).build();
        return answer(
                ops.createVolume(request),
                v -> Response.status(Response.Status.CREATED).entity(v).build());
    }

    @DELETE
    @Path("volumes/{host}/{name}")
    public CompletionStage<Response> deleteVolume(@RestPath String host, @RestPath String name) {
        DeleteVolumeRequest request =
                DeleteVolumeRequest.newBuilder().setHost(host).setName(name).build();
        return answer(ops.deleteVolume(request), v -> Response.noContent().build());
    }

    /** ResetStats: the body is a ResetStatsRequest; answers how many volumes were reset. */
    @POST
    @Path("reset")
    @Consumes(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> resetStats(String body) throws InvalidProtocolBufferException {
        ResetStatsRequest request = parse(body, ResetStatsRequest.newBuilder()).build();
        return answer(
                ops.resetStats(request),
                before -> Response.ok(Map.of("volumesReset", before.size())).build());
    }

    private static <B extends Message.Builder> B parse(String body, B builder) throws InvalidProtocolBufferException {
        JsonFormat.parser().merge(body == null || body.isBlank() ? "{}" : body, builder);
        return builder;
    }

    private static <T> CompletionStage<Response> answer(CompletableFuture<T> result, Function<T, Response> ok) {
        return result.handle((v, e) -> e == null ? ok.apply(v) : ApiError.response(e));
    }
}
