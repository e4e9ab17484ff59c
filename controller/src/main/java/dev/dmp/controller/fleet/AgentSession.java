package dev.dmp.controller.fleet;

import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import dev.dmp.proto.v1.ControllerMessage;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connected agent's AgentLink stream, as the controller's end sees it: sends commands down and
 * matches the results that come back by command id.
 */
public final class AgentSession {
    /** How long a command may take at the agent before the caller gets UNAVAILABLE. */
    static final long COMMAND_TIMEOUT_SECONDS = 30;

    private static final AtomicLong COMMAND_IDS = new AtomicLong();

    private final String hostId;
    private final String runId;
    private final StreamObserver<ControllerMessage> outbound;
    private final ConcurrentHashMap<Long, CompletableFuture<CommandResult>> pending = new ConcurrentHashMap<>();
    private volatile boolean open = true;
    /** The epoch of the ledger's claim this stream made at its Hello; 0 until it is made. */
    private volatile long epoch;
    /** Guarded by outbound. */
    private boolean ended;

    public AgentSession(String hostId, String runId, StreamObserver<ControllerMessage> outbound) {
        this.hostId = hostId;
        this.runId = runId;
        this.outbound = outbound;
    }

    public String hostId() {
        return hostId;
    }

    public String runId() {
        return runId;
    }

    long epoch() {
        return epoch;
    }

    void claimed(long epoch) {
        this.epoch = epoch;
    }

    /** Sends a command; the future completes with the agent's result, or fails with a gRPC status. */
    public CompletableFuture<CommandResult> send(Command.Builder command) {
        long id = COMMAND_IDS.incrementAndGet();
        CompletableFuture<CommandResult> result = new CompletableFuture<>();
        pending.put(id, result);
        result.whenComplete((r, e) -> pending.remove(id));
        if (!open) {
            result.completeExceptionally(lost());
            return result;
        }
        send(ControllerMessage.newBuilder().setCommand(command.setId(id)).build());
        return result.orTimeout(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(
                        e instanceof java.util.concurrent.TimeoutException
                                ? Status.UNAVAILABLE
                                        .withDescription("host " + hostId + " did not answer within "
                                                + COMMAND_TIMEOUT_SECONDS + " s; check the agent and retry")
                                        .asException()
                                : e));
    }

    void send(ControllerMessage message) {
        synchronized (outbound) {
            if (open) {
                outbound.onNext(message);
            }
        }
    }

    void completed(CommandResult result) {
        CompletableFuture<CommandResult> f = pending.get(result.getId());
        if (f != null) {
            f.complete(result);
        }
    }

    /** The stream ended: every command still waiting fails. */
    void close() {
        open = false;
        pending.values().forEach(f -> f.completeExceptionally(lost()));
    }

    /**
     * Ends the controller's half of the stream, once, whether or not {@link #close} came first (it
     * did when a newer stream replaced this one, which used to leave this one open).
     */
    public void end() {
        synchronized (outbound) {
            open = false;
            if (!ended) {
                ended = true;
                try {
                    outbound.onCompleted();
                } catch (IllegalStateException e) {
                    // The call was already cancelled or closed by the peer: nothing left to end.
                }
            }
        }
    }

    /** Ends the controller's half of the stream with an error status, once (see {@link #end}). */
    void abort(Status status) {
        synchronized (outbound) {
            open = false;
            if (!ended) {
                ended = true;
                try {
                    outbound.onError(status.asException());
                } catch (IllegalStateException e) {
                    // already cancelled or closed by the peer
                }
            }
        }
    }

    private StatusException lost() {
        return Status.UNAVAILABLE
                .withDescription("host " + hostId + " disconnected before answering; retry when it is back online")
                .asException();
    }
}
