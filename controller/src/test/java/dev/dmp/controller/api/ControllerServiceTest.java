package dev.dmp.controller.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.AttachmentState;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerGrpc;
import dev.dmp.proto.v1.CreateVolumeRequest;
import dev.dmp.proto.v1.CreateVolumeResponse;
import dev.dmp.proto.v1.FileBackend;
import dev.dmp.proto.v1.ListHostsRequest;
import dev.dmp.proto.v1.ListVolumesRequest;
import dev.dmp.proto.v1.OpStats;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.ResetStatsRequest;
import dev.dmp.proto.v1.ResetStatsResponse;
import dev.dmp.proto.v1.Scope;
import dev.dmp.proto.v1.StatsRow;
import dev.dmp.proto.v1.Volume;
import dev.dmp.proto.v1.VolumeDelta;
import dev.dmp.proto.v1.ZeroBackend;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * dmp.v1.Controller through a real gRPC client on the test port, with agents played by the test over
 * AgentLink. The application (and its fleet) is shared by the methods: each uses its own host ids.
 */
@QuarkusTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControllerServiceTest {
    private static final long WAIT_SECONDS = 10;

    @TestHTTPResource("/")
    URL root;

    private ManagedChannel channel;
    private ControllerGrpc.ControllerBlockingStub stub;

    @BeforeEach
    void open() {
        channel = Grpc.newChannelBuilderForAddress(root.getHost(), root.getPort(), InsecureChannelCredentials.create())
                .build();
        stub = ControllerGrpc.newBlockingStub(channel);
    }

    /** The Controller stub, with a deadline for the next call. */
    private ControllerGrpc.ControllerBlockingStub controller() {
        return stub.withDeadlineAfter(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    @AfterEach
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private static OpStats op(long requests, long bytes, long avg) {
        return OpStats.newBuilder()
                .setRequests(requests)
                .setBytes(bytes)
                .setAvgSize(avg)
                .build();
    }

    /** The rows without when their hosts were last seen, which the controller's clock decides. */
    private static QueryStatsResponse withoutLastSeen(QueryStatsResponse response) {
        QueryStatsResponse.Builder b = response.toBuilder();
        b.getRowsBuilderList().forEach(StatsRow.Builder::clearLastSeen);
        return b.build();
    }

    private static void assertStatus(Status.Code code, String description, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode());
        assertEquals(description, e.getStatus().getDescription());
    }

    @Test
    @Order(1)
    void noHostsBeforeAnyAgentConnects() {
        assertEquals(
                0, controller().listHosts(ListHostsRequest.getDefaultInstance()).getHostsCount());
    }

    @Test
    void badRequestsAreRefusedWithADescription() {
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "scope is required: VOLUME, HOST or FLEET",
                () -> controller().queryStats(QueryStatsRequest.getDefaultInstance()));
        assertStatus(
                Status.Code.NOT_FOUND,
                "no host 'nowhere' has connected to this controller; ListHosts shows the known hosts",
                () -> controller()
                        .createVolume(CreateVolumeRequest.newBuilder()
                                .setHost("nowhere")
                                .setName("dmp1")
                                .setZero(ZeroBackend.newBuilder().setSizeBytes(4096))
                                .build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "invalid volume name 'Bad/Name': use 1-63 characters of a-z 0-9 . _ -",
                () -> controller()
                        .createVolume(CreateVolumeRequest.newBuilder()
                                .setHost("nowhere")
                                .setName("Bad/Name")
                                .setZero(ZeroBackend.newBuilder().setSizeBytes(4096))
                                .build()));
        assertStatus(
                Status.Code.INVALID_ARGUMENT,
                "zero.sizeBytes must be greater than 0",
                () -> controller()
                        .createVolume(CreateVolumeRequest.newBuilder()
                                .setHost("nowhere")
                                .setName("dmp1")
                                .setZero(ZeroBackend.getDefaultInstance())
                                .build()));
    }

    @Test
    void queryStatsShowsExactlyTheDeltasSentOnce() throws Exception {
        try (FakeAgent agent = FakeAgent.connect(channel, "stats-host", "run-1", "dmp1")) {
            // 3 writes of 4096 and 2 reads of 8192, in two deltas; the second is sent twice
            CounterSet writes = FakeAgent.requests(CounterSet.WRITE, 3, 4096);
            CounterSet reads = FakeAgent.requests(CounterSet.READ, 2, 8192);
            agent.sendDelta(1, FakeAgent.volume("dmp1", writes));
            agent.sendDelta(2, FakeAgent.volume("dmp1", reads));
            agent.sendDelta(2, FakeAgent.volume("dmp1", reads));

            CounterSet all = writes.copy();
            all.add(reads);
            StatsRow expected = StatsRow.newBuilder()
                    .setHost("stats-host")
                    .setVolume("dmp1")
                    .setRead(op(2, 16384, 8192))
                    .setWrite(op(3, 12288, 4096))
                    .setTotal(op(5, 28672, 5734))
                    .addAllOps(all.toProto())
                    .build();
            QueryStatsResponse volume = controller()
                    .queryStats(QueryStatsRequest.newBuilder()
                            .setScope(Scope.VOLUME)
                            .setHost("stats-host")
                            .setVolume("dmp1")
                            .build());
            assertEquals(QueryStatsResponse.newBuilder().addRows(expected).build(), withoutLastSeen(volume));
            assertTrue(volume.getRows(0).getLastSeen().getSeconds() > 0, volume.toString());
            QueryStatsResponse host = controller()
                    .queryStats(QueryStatsRequest.newBuilder()
                            .setScope(Scope.HOST)
                            .setHost("stats-host")
                            .build());
            assertEquals(
                    QueryStatsResponse.newBuilder()
                            .addRows(expected.toBuilder().setVolume(""))
                            .build(),
                    withoutLastSeen(host));
            assertEquals(volume.getRows(0).getLastSeen(), host.getRows(0).getLastSeen());

            HttpResponse<String> text = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(root + "stat/volumes"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, text.statusCode());
            assertTrue(text.body().contains("""
                    stats-host/dmp1:
                    read:
                      reqs: 2
                      avg size: 8192
                    write:
                      reqs: 3
                      avg size: 4096
                    total:
                      reqs: 5
                      avg size: 5734
                    """), text.body());
        }
    }

    @Test
    void resetStatsAnswersWithTheClosedCountsAndQueryStatsStartsAgain() throws Exception {
        try (FakeAgent agent = FakeAgent.connect(channel, "reset-host", "run-1", "dmp1")) {
            CounterSet three = FakeAgent.requests(CounterSet.WRITE, 3, 4096);
            agent.sendDelta(1, FakeAgent.volume("dmp1", three));
            ResetStatsRequest request = ResetStatsRequest.newBuilder()
                    .setScope(Scope.VOLUME)
                    .setHost("reset-host")
                    .setVolume("dmp1")
                    .build();
            CompletableFuture<ResetStatsResponse> reset =
                    CompletableFuture.supplyAsync(() -> controller().resetStats(request));

            Command command = agent.nextCommand();
            assertEquals(List.of("dmp1"), command.getReset().getNamesList());
            // as the agent does it: the closing counts of generation 0 (one more write since the last
            // delta), the new generation, one read already in it; then the result
            CounterSet one = FakeAgent.requests(CounterSet.WRITE, 1, 4096);
            CounterSet read = FakeAgent.requests(CounterSet.READ, 1, 512);
            agent.sendDelta(
                    2,
                    FakeAgent.volume("dmp1", one),
                    VolumeDelta.newBuilder().setVolume("dmp1").setGeneration(1).build(),
                    FakeAgent.volume("dmp1", read).toBuilder().setGeneration(1).build());
            agent.answer(CommandResult.newBuilder()
                    .setId(command.getId())
                    .setVolumesReset(1)
                    .setLastSeq(2)
                    .build());

            CounterSet closed = three.copy();
            closed.add(one);
            assertEquals(
                    ResetStatsResponse.newBuilder()
                            .setVolumesReset(1)
                            .addBefore(StatsRow.newBuilder()
                                    .setHost("reset-host")
                                    .setVolume("dmp1")
                                    .setRead(op(0, 0, 0))
                                    .setWrite(op(4, 16384, 4096))
                                    .setTotal(op(4, 16384, 4096))
                                    .addAllOps(closed.toProto()))
                            .build(),
                    reset.get(WAIT_SECONDS, TimeUnit.SECONDS));
            assertEquals(
                    QueryStatsResponse.newBuilder()
                            .addRows(StatsRow.newBuilder()
                                    .setHost("reset-host")
                                    .setVolume("dmp1")
                                    .setRead(op(1, 512, 512))
                                    .setWrite(op(0, 0, 0))
                                    .setTotal(op(1, 512, 512))
                                    .addAllOps(read.toProto())
                                    .setGeneration(1))
                            .build(),
                    withoutLastSeen(controller()
                            .queryStats(QueryStatsRequest.newBuilder()
                                    .setScope(Scope.VOLUME)
                                    .setHost("reset-host")
                                    .setVolume("dmp1")
                                    .build())));
        }
    }

    @Test
    void createVolumeIsForwardedAndAnsweredWithTheAgentsResult() throws Exception {
        try (FakeAgent agent = FakeAgent.connect(channel, "create-host", "run-1")) {
            awaitOnline("create-host", true);
            CreateVolumeRequest request = CreateVolumeRequest.newBuilder()
                    .setHost("create-host")
                    .setName("dmp2")
                    .setZero(ZeroBackend.newBuilder().setSizeBytes(1_000_000_000))
                    .build();
            CompletableFuture<CreateVolumeResponse> created =
                    CompletableFuture.supplyAsync(() -> controller().createVolume(request));

            Command command = agent.nextCommand();
            assertEquals("dmp2", command.getCreate().getName());
            assertEquals(
                    1_000_000_000, command.getCreate().getBackend().getZero().getSizeBytes());
            Volume volume = Volume.newBuilder()
                    .setHost("create-host")
                    .setName("dmp2")
                    .setSizeBytes(1_000_000_000)
                    .setNbdUri("nbd+unix:///dmp2?socket=/run/dmp/nbd.sock")
                    .build();
            agent.answer(CommandResult.newBuilder()
                    .setId(command.getId())
                    .setCode(0)
                    .setVolume(volume)
                    .build());
            assertEquals(volume, created.get(WAIT_SECONDS, TimeUnit.SECONDS).getVolume());
            assertEquals(
                    List.of(volume),
                    controller()
                            .listVolumes(ListVolumesRequest.newBuilder()
                                    .setHost("create-host")
                                    .build())
                            .getVolumesList());

            // the agent's refusal comes back as the caller's status, with the agent's words
            CreateVolumeRequest missing = CreateVolumeRequest.newBuilder()
                    .setHost("create-host")
                    .setName("dmp3")
                    .setFile(FileBackend.newBuilder().setPath("/nonexistent.img"))
                    .build();
            CompletableFuture<CreateVolumeResponse> refused =
                    CompletableFuture.supplyAsync(() -> controller().createVolume(missing));
            command = agent.nextCommand();
            assertEquals(
                    "/nonexistent.img",
                    command.getCreate().getBackend().getFile().getPath());
            agent.answer(CommandResult.newBuilder()
                    .setId(command.getId())
                    .setCode(Status.Code.INVALID_ARGUMENT.value())
                    .setMessage("file backend: /nonexistent.img does not exist")
                    .build());
            StatusRuntimeException e = assertInstanceOf(
                    StatusRuntimeException.class,
                    assertThrows(CompletionException.class, refused::join).getCause());
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
            assertEquals(
                    "file backend: /nonexistent.img does not exist",
                    e.getStatus().getDescription());
            assertEquals(
                    List.of(volume),
                    controller()
                            .listVolumes(ListVolumesRequest.newBuilder()
                                    .setHost("create-host")
                                    .build())
                            .getVolumesList());
        }
    }

    @Test
    void aVolumeChangedOnTheAgentShowsInListVolumesWithoutANewHello() throws Exception {
        try (FakeAgent agent = FakeAgent.connect(channel, "change-host", "run-1")) {
            awaitOnline("change-host", true);
            CompletableFuture<CreateVolumeResponse> created = CompletableFuture.supplyAsync(() -> controller()
                    .createVolume(CreateVolumeRequest.newBuilder()
                            .setHost("change-host")
                            .setName("dmp2")
                            .setKernel(true)
                            .setZero(ZeroBackend.newBuilder().setSizeBytes(65536))
                            .build()));
            Command command = agent.nextCommand();
            Volume attached = Volume.newBuilder()
                    .setHost("change-host")
                    .setName("dmp2")
                    .setSizeBytes(65536)
                    .setDevice("/dev/nbd3")
                    .setBlockSize(4096)
                    .setAttachment("attached via netlink")
                    .setAttachmentState(AttachmentState.ATTACHMENT_STATE_ATTACHED)
                    .build();
            agent.answer(CommandResult.newBuilder()
                    .setId(command.getId())
                    .setCode(0)
                    .setVolume(attached)
                    .build());
            assertEquals(attached, created.get(WAIT_SECONDS, TimeUnit.SECONDS).getVolume());

            Volume failed = attached.toBuilder()
                    .setDevice("")
                    .setBlockSize(0)
                    .setAttachment(
                            "failed: /dev/nbd3: " + "4 connections in a row ended within 13 s; the device was released")
                    .setAttachmentState(AttachmentState.ATTACHMENT_STATE_FAILED)
                    .build();
            agent.volumeChanged(failed);
            ListVolumesRequest list =
                    ListVolumesRequest.newBuilder().setHost("change-host").build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!controller().listVolumes(list).getVolumesList().equals(List.of(failed))) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "ListVolumes still shows " + controller().listVolumes(list));
                Thread.sleep(20);
            }
            Volume shown = controller().listVolumes(list).getVolumes(0);
            assertEquals("", shown.getDevice());
            assertEquals(0, shown.getBlockSize());
            assertEquals(AttachmentState.ATTACHMENT_STATE_FAILED, shown.getAttachmentState());
            assertEquals(
                    "failed: /dev/nbd3: 4 connections in a row ended within 13 s; the device was released",
                    shown.getAttachment());

            // a change of a volume the controller does not hold (deleted meanwhile) adds nothing
            agent.volumeChanged(failed.toBuilder().setName("gone").build());
            agent.volumeChanged(
                    failed.toBuilder().setAttachment("failed: again").build());
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!controller().listVolumes(list).getVolumes(0).getAttachment().equals("failed: again")) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "ListVolumes still shows " + controller().listVolumes(list));
                Thread.sleep(20);
            }
            assertEquals(
                    List.of("dmp2"),
                    controller().listVolumes(list).getVolumesList().stream()
                            .map(Volume::getName)
                            .toList());
        }
    }

    @Test
    void watchStatsSendsTheCountsThenEachChange() throws Exception {
        try (FakeAgent agent = FakeAgent.connect(channel, "watch-host", "run-1", "dmp1");
                Context.CancellableContext call = Context.current().withCancellation()) {
            agent.sendDelta(1, FakeAgent.volume("dmp1", FakeAgent.requests(CounterSet.WRITE, 1, 4096)));
            QueryStatsRequest request = QueryStatsRequest.newBuilder()
                    .setScope(Scope.HOST)
                    .setHost("watch-host")
                    .build();
            Iterator<QueryStatsResponse> updates = call.call(() -> controller().watchStats(request));
            assertEquals(op(1, 4096, 4096), updates.next().getRows(0).getTotal());
            agent.sendDelta(2, FakeAgent.volume("dmp1", FakeAgent.requests(CounterSet.READ, 1, 512)));
            assertEquals(op(2, 4608, 2304), updates.next().getRows(0).getTotal());
            call.cancel(null);
        }
    }

    @Test
    void offlineHostsAndLostAgentsAreReported() throws Exception {
        CreateVolumeRequest request = CreateVolumeRequest.newBuilder()
                .setHost("lost-host")
                .setName("dmp1")
                .setZero(ZeroBackend.newBuilder().setSizeBytes(4096))
                .build();
        FakeAgent agent = FakeAgent.connect(channel, "lost-host", "run-1");
        awaitOnline("lost-host", true);
        CompletableFuture<CreateVolumeResponse> pending =
                CompletableFuture.supplyAsync(() -> controller().createVolume(request));
        assertEquals("dmp1", agent.nextCommand().getCreate().getName());
        agent.close(); // gone without answering
        CompletionException e = assertThrows(CompletionException.class, pending::join);
        StatusRuntimeException status = assertInstanceOf(StatusRuntimeException.class, e.getCause());
        assertEquals(Status.Code.UNAVAILABLE, status.getStatus().getCode());
        assertEquals(
                "host lost-host disconnected before answering; retry when it is back online",
                status.getStatus().getDescription());

        awaitOnline("lost-host", false);
        assertStatus(
                Status.Code.FAILED_PRECONDITION,
                "host 'lost-host' is offline: its agent is not connected; retry when it is back",
                () -> controller().createVolume(request));
    }

    /** Waits (bounded) until ListHosts shows the host with the given online state. */
    private void awaitOnline(String host, boolean online) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (controller().listHosts(ListHostsRequest.getDefaultInstance()).getHostsList().stream()
                .noneMatch(h -> h.getId().equals(host) && h.getOnline() == online)) {
            assertTrue(
                    System.nanoTime() < deadline,
                    "host " + host + " not " + (online ? "online" : "offline") + " within " + WAIT_SECONDS + " s");
            Thread.sleep(20);
        }
    }

    @Test
    void reflectionListsTheServices() throws Exception {
        // v1 is what buf curl and recent grpcurl ask; older grpcurl asks v1alpha
        List<String> v1 = reflect(
                        io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo,
                        io.grpc.reflection.v1.ServerReflectionRequest.newBuilder()
                                .setListServices("")
                                .build())
                .getListServicesResponse()
                .getServiceList()
                .stream()
                .map(io.grpc.reflection.v1.ServiceResponse::getName)
                .toList();
        assertTrue(v1.containsAll(List.of("dmp.v1.Controller", "dmp.v1.AgentLink")), v1.toString());
        List<String> v1alpha = reflect(
                        grpc.reflection.v1alpha.ServerReflectionGrpc.newStub(channel)::serverReflectionInfo,
                        grpc.reflection.v1alpha.Reflection.ServerReflectionRequest.newBuilder()
                                .setListServices("")
                                .build())
                .getListServicesResponse()
                .getServiceList()
                .stream()
                .map(grpc.reflection.v1alpha.Reflection.ServiceResponse::getName)
                .toList();
        assertEquals(v1, v1alpha);
    }

    /** Sends one request on a reflection stream and returns the first answer. */
    private static <Q, R> R reflect(java.util.function.Function<StreamObserver<R>, StreamObserver<Q>> call, Q request)
            throws Exception {
        CompletableFuture<R> answer = new CompletableFuture<>();
        StreamObserver<Q> requests = call.apply(new StreamObserver<>() {
            @Override
            public void onNext(R r) {
                answer.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
        });
        requests.onNext(request);
        try {
            return answer.get(WAIT_SECONDS, TimeUnit.SECONDS);
        } finally {
            requests.onCompleted();
        }
    }
}
