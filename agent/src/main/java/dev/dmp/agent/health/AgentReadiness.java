package dev.dmp.agent.health;

import dev.dmp.agent.config.AgentSettings;
import dev.dmp.agent.lifecycle.Drain;
import dev.dmp.agent.nbd.NbdListeners;
import dev.dmp.agent.volume.VolumeRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * /q/health/ready: the agent is ready once its NBD socket listens (its volumes are restored before it
 * opens), until a drain.
 */
@Readiness
@ApplicationScoped
public class AgentReadiness implements HealthCheck {
    private final AgentSettings settings;
    private final NbdListeners listeners;
    private final Drain drain;
    private final VolumeRegistry registry;

    public AgentReadiness(AgentSettings settings, NbdListeners listeners, Drain drain, VolumeRegistry registry) {
        this.settings = settings;
        this.listeners = listeners;
        this.drain = drain;
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("dmp agent")
                .status(listeners.listening() && !drain.draining())
                .withData("host", settings.hostId())
                .withData("nbd-socket", settings.nbdSocket().toString())
                .withData("volumes", registry.list().size())
                .withData("controller", settings.standalone() ? "none (standalone)" : settings.controller())
                .build();
    }
}
