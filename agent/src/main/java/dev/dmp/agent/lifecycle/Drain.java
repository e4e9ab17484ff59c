package dev.dmp.agent.lifecycle;

import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.link.StatsReporter;
import dev.dmp.agent.nbd.NbdListeners;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * What the pod's preStop hook asks before Kubernetes sends SIGTERM ({@code POST /lifecycle/drain}):
 * detach every device while the agent is whole, end the NBD connections, and hand the last counts to
 * the controller, waiting for its acknowledgement. The agent stays up (not ready, refusing new volumes)
 * until SIGTERM, which then has nothing left to do.
 */
public final class Drain {
    private static final Logger LOG = Logger.getLogger(Drain.class);

    private final KernelAttacher kernel;
    private final NbdListeners listeners;
    private final StatsReporter reporter;
    /** False for a standalone agent: there is no controller to hand the counts to. */
    private final boolean linked;

    private volatile boolean draining;

    public Drain(KernelAttacher kernel, NbdListeners listeners, StatsReporter reporter, boolean linked) {
        this.kernel = kernel;
        this.listeners = listeners;
        this.reporter = reporter;
        this.linked = linked;
    }

    /** True once drained: not ready, no new volumes. */
    public boolean draining() {
        return draining;
    }

    /** Drains, waiting up to {@code ackWaitMillis} for the controller's acknowledgement; says what was done. */
    public synchronized String drain(long ackWaitMillis) throws InterruptedException {
        if (draining) {
            return "already drained";
        }
        draining = true;
        LOG.info("draining for shutdown: detaching devices, closing NBD connections, sending the last counts");
        List<String> devices = kernel.detachAll();
        listeners.close();
        StringBuilder out = new StringBuilder();
        out.append("detached ")
                .append(devices.size())
                .append(devices.size() == 1 ? " device" : " devices")
                .append(devices.isEmpty() ? "" : " " + String.join(" ", devices))
                .append("; NBD connections closed; ");
        reporter.tick();
        if (!linked) {
            out.append("standalone: counts saved in the checkpoint");
        } else if (reporter.deltas().awaitAcked(ackWaitMillis)) {
            out.append("the controller acknowledged every count (delta ")
                    .append(reporter.deltas().lastSeq())
                    .append(')');
        } else {
            out.append("the controller did not acknowledge within ")
                    .append(ackWaitMillis / 1000)
                    .append(" s; the unsent counts are in the checkpoint and go out when the agent starts again");
        }
        LOG.infof("drained: %s", out);
        return out.toString();
    }
}
