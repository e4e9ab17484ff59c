package dev.dmp.controller.api;

import dev.dmp.controller.fleet.AgentSession;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.controller.store.LedgerUnavailableException;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.ControllerMessage;
import dev.dmp.proto.v1.Hello;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import org.jboss.logging.Logger;

/**
 * One agent's AgentLink stream as the controller reads it: a Hello first, then deltas, results,
 * volume changes and heartbeats, handed to the {@link Fleet} in the order they came. When the ledger's
 * claim at Hello goes over the network (PostgreSQL), it runs on {@code claims}, not on the event loop
 * that reads the stream (a database that does not answer would stall every stream of that loop); what
 * arrives meanwhile waits, in order, until the claim is done.
 */
final class AgentStream implements StreamObserver<AgentMessageIn> {
    private static final Logger LOG = Logger.getLogger(AgentStream.class);

    private final Fleet fleet;
    private final StreamObserver<ControllerMessage> outbound;
    private final Executor claims;
    private AgentSession session;
    /** The Hello could not be taken (the ledger's store is unreachable): the stream has ended. */
    private boolean refused;
    /** What arrived while the Hello's claim ran elsewhere, in order; null when no claim is running. */
    private ArrayDeque<Runnable> held;

    AgentStream(Fleet fleet, StreamObserver<ControllerMessage> outbound, Executor claims) {
        this.fleet = fleet;
        this.outbound = outbound;
        this.claims = claims;
    }

    @Override
    public synchronized void onNext(AgentMessageIn message) {
        if (held != null) {
            held.add(() -> onNext(message));
        } else if (refused) {
            return;
        } else if (session == null) {
            hello(message);
        } else {
            received(message);
        }
    }

    private void hello(AgentMessageIn message) {
        Hello hello = message.getHello();
        if (!message.hasHello()
                || hello.getHostId().isEmpty()
                || hello.getRunId().isEmpty()) {
            outbound.onError(Status.INVALID_ARGUMENT
                    .withDescription("the first AgentLink message must be a Hello with host_id and run_id")
                    .asException());
            return;
        }
        AgentSession opened = new AgentSession(hello.getHostId(), hello.getRunId(), outbound);
        if (!fleet.claimsWaitOnNetwork()) {
            connect(opened, hello);
            return;
        }
        held = new ArrayDeque<>();
        claims.execute(() -> {
            connect(opened, hello); // not under this stream's lock: its messages are held meanwhile
            synchronized (this) {
                ArrayDeque<Runnable> waiting = held;
                held = null;
                waiting.forEach(Runnable::run);
            }
        });
    }

    private void connect(AgentSession opened, Hello hello) {
        try {
            fleet.connected(opened, hello);
            session = opened;
        } catch (LedgerUnavailableException e) {
            refused = true;
            LOG.warnf("host %s: Hello refused: %s", opened.hostId(), e.getMessage());
            outbound.onError(Status.UNAVAILABLE
                    .withDescription("the controller cannot reach its ledger (" + e.getMessage() + "); dial again")
                    .asException());
        }
    }

    private void received(AgentMessageIn message) {
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
                            .withDescription("delta " + message.getDelta().getSeq() + ": " + e.getMessage())
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
    public synchronized void onError(Throwable t) {
        if (held != null) {
            held.add(() -> onError(t));
        } else if (session != null) {
            fleet.disconnected(session);
        }
    }

    @Override
    public synchronized void onCompleted() {
        if (held != null) {
            held.add(this::onCompleted);
        } else if (session != null) {
            fleet.disconnected(session);
            session.end();
        } else if (!refused) {
            outbound.onCompleted();
        }
    }
}
