package dev.dmp.controller.api;

import dev.dmp.controller.fleet.AgentSession;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.controller.store.LedgerUnavailableException;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.ControllerMessage;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import org.jboss.logging.Logger;

/**
 * The controller's end of the agents' AgentLink streams. See docs/stats-protocol.md. The agents'
 * messages are read as {@link AgentMessageIn} (the same bytes as {@link AgentMessage}) so that their
 * counters go into the ledger without being built as messages first.
 */
@GrpcService
public class AgentLinkService extends AgentLinkGrpc.AgentLinkImplBase {
    private static final Logger LOG = Logger.getLogger(AgentLinkService.class);

    private final Fleet fleet;

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
        return new StreamObserver<>() {
            private AgentSession session;
            /** The Hello could not be taken (the ledger's store is unreachable): the stream has ended. */
            private boolean refused;

            @Override
            public void onNext(AgentMessageIn message) {
                if (refused) {
                    return;
                }
                if (session == null) {
                    if (!message.hasHello()
                            || message.getHello().getHostId().isEmpty()
                            || message.getHello().getRunId().isEmpty()) {
                        outbound.onError(Status.INVALID_ARGUMENT
                                .withDescription("the first AgentLink message must be a Hello with host_id and run_id")
                                .asException());
                        return;
                    }
                    AgentSession opened = new AgentSession(
                            message.getHello().getHostId(), message.getHello().getRunId(), outbound);
                    try {
                        fleet.connected(opened, message.getHello());
                    } catch (LedgerUnavailableException e) {
                        refused = true;
                        LOG.warnf("host %s: Hello refused: %s", opened.hostId(), e.getMessage());
                        outbound.onError(Status.UNAVAILABLE
                                .withDescription(
                                        "the controller cannot reach its ledger (" + e.getMessage() + "); dial again")
                                .asException());
                        return;
                    }
                    session = opened;
                    return;
                }
                fleet.seen(session);
                switch (message.getBodyCase()) {
                    case HELLO -> fleet.announced(session, message.getHello());
                    case DELTA -> {
                        try {
                            fleet.delta(session, message.getDelta());
                        } catch (IllegalArgumentException e) {
                            // As if the message had not parsed: nothing of it was applied; the stream ends.
                            fleet.disconnected(session);
                            outbound.onError(Status.INVALID_ARGUMENT
                                    .withDescription(
                                            "delta " + message.getDelta().getSeq() + ": " + e.getMessage())
                                    .asException());
                        }
                    }
                    case RESULT -> fleet.result(session, message.getResult());
                    case VOLUME_CHANGED -> fleet.volumeChanged(session, message.getVolumeChanged());
                    case BODY_NOT_SET -> {} // the agent's heartbeat: being seen is all it says
                    default -> LOG.debugf("host %s: ignoring %s", session.hostId(), message.getBodyCase());
                }
            }

            @Override
            public void onError(Throwable t) {
                if (session != null) {
                    fleet.disconnected(session);
                }
            }

            @Override
            public void onCompleted() {
                if (session != null) {
                    fleet.disconnected(session);
                    session.end();
                } else {
                    outbound.onCompleted();
                }
            }
        };
    }
}
