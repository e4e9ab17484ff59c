package dev.dmp.controller.api;

import dev.dmp.controller.fleet.AgentSession;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.proto.v1.AgentLinkGrpc;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.ControllerMessage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import org.jboss.logging.Logger;

/** The controller's end of the agents' AgentLink streams. See docs/stats-protocol.md. */
@GrpcService
public class AgentLinkService extends AgentLinkGrpc.AgentLinkImplBase {
    private static final Logger LOG = Logger.getLogger(AgentLinkService.class);

    private final Fleet fleet;

    public AgentLinkService(Fleet fleet) {
        this.fleet = fleet;
    }

    @Override
    public StreamObserver<AgentMessage> connect(StreamObserver<ControllerMessage> outbound) {
        return new StreamObserver<>() {
            private AgentSession session;

            @Override
            public void onNext(AgentMessage message) {
                if (session == null) {
                    if (!message.hasHello() || message.getHello().getHostId().isEmpty()
                            || message.getHello().getRunId().isEmpty()) {
                        outbound.onError(Status.INVALID_ARGUMENT
                                .withDescription("the first AgentLink message must be a Hello with host_id and run_id")
                                .asException());
                        return;
                    }
                    session = new AgentSession(message.getHello().getHostId(), message.getHello().getRunId(), outbound);
                    fleet.connected(session, message.getHello());
                    return;
                }
                fleet.seen(session);
                switch (message.getBodyCase()) {
                    case HELLO -> fleet.announced(session, message.getHello());
                    case DELTA -> fleet.delta(session, message.getDelta());
                    case RESULT -> fleet.result(session, message.getResult());
                    case BODY_NOT_SET -> { } // the agent's heartbeat: being seen is all it says
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
