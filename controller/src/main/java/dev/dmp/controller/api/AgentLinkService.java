package dev.dmp.controller.api;

import dev.dmp.controller.fleet.Fleet;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.ControllerMessage;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/**
 * The controller's end of the agents' AgentLink streams. See docs/stats-protocol.md. The agents'
 * messages are read as {@link AgentMessageIn} (the same bytes as {@link AgentMessage}) so that their
 * counters go into the ledger without being built as messages first.
 */
@GrpcService
public class AgentLinkService extends AgentLinkGrpc.AgentLinkImplBase {
    private final Fleet fleet;
    /** Where Hellos claim their host when that waits on the network (see {@link AgentStream}). */
    private final Executor claims = Executors.newVirtualThreadPerTaskExecutor();

    public AgentLinkService(Fleet fleet) {
        this.fleet = fleet;
    }

    /** AgentLink/Connect, with requests read as {@link AgentMessageIn}. */
    static final MethodDescriptor<AgentMessageIn, ControllerMessage> CONNECT =
            AgentLinkGrpc.getConnectMethod().toBuilder(
                            ProtoUtils.marshaller(AgentMessageIn.getDefaultInstance()),
                            ProtoUtils.marshaller(ControllerMessage.getDefaultInstance()))
                    .build();

    @Override
    public ServerServiceDefinition bindService() {
        ServiceDescriptor generated = AgentLinkGrpc.getServiceDescriptor();
        return ServerServiceDefinition.builder(ServiceDescriptor.newBuilder(generated.getName())
                        .setSchemaDescriptor(generated.getSchemaDescriptor())
                        .addMethod(CONNECT)
                        .build())
                .addMethod(CONNECT, ServerCalls.asyncBidiStreamingCall(this::connectIn))
                .build();
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<ControllerMessage> outbound) {
        throw new UnsupportedOperationException("bound as connectIn, see bindService");
    }

    StreamObserver<AgentMessageIn> connectIn(StreamObserver<ControllerMessage> outbound) {
        return new AgentStream(fleet, outbound, claims);
    }
}
