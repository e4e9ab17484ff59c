package dev.dmp.agent.http;

import dev.dmp.agent.lifecycle.Drain;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code POST /lifecycle/drain[?ack-wait-seconds=N]}: what the pod's preStop hook calls
 * ({@link dev.dmp.agent.lifecycle.PreStop}) before Kubernetes sends SIGTERM: devices detached, NBD
 * connections closed, last counts acknowledged by the controller (see {@link Drain}).
 */
@Path("/lifecycle/drain")
public class LifecycleResource {
    /** Below the DaemonSet's terminationGracePeriodSeconds (60), so SIGTERM still finds time to stop. */
    static final int DEFAULT_ACK_WAIT_SECONDS = 20;

    private final Drain drain;

    public LifecycleResource(Drain drain) {
        this.drain = drain;
    }

    @POST
    @Blocking
    @Produces(MediaType.TEXT_PLAIN)
    public String drain(@QueryParam("ack-wait-seconds") Integer ackWaitSeconds) throws InterruptedException {
        int wait = ackWaitSeconds == null ? DEFAULT_ACK_WAIT_SECONDS : Math.max(0, Math.min(ackWaitSeconds, 300));
        return drain.drain(wait * 1000L) + "\n";
    }
}
