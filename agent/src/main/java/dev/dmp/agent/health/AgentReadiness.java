package dev.dmp.agent.health;

import dev.dmp.agent.Agent;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** /q/health/ready: the agent is ready once its NBD socket listens and its volumes are restored. */
@Readiness
@ApplicationScoped
public class AgentReadiness implements HealthCheck {
    private final Agent agent;

    public AgentReadiness(Agent agent) {
        this.agent = agent;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("dmp agent")
                .status(agent.ready())
                .withData("host", agent.settings().hostId())
                .withData("nbd-socket", agent.settings().nbdSocket().toString())
                .withData("volumes", agent.registry().list().size())
                .withData("controller", agent.settings().standalone() ? "none (standalone)" : agent.settings().controller())
                .build();
    }
}
