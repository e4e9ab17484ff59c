package dev.dmp.controller.health;

import dev.dmp.controller.fleet.Fleet;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * /q/health/ready: the controller is ready once it has started (its fleet state is in memory; when a
 * persistent store comes, once that store is open).
 */
@Readiness
@ApplicationScoped
public class ControllerReadiness implements HealthCheck {
    private final Fleet fleet;
    private volatile boolean started;

    public ControllerReadiness(Fleet fleet) {
        this.fleet = fleet;
    }

    void start(@Observes StartupEvent event) {
        started = true;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("dmp controller")
                .status(started)
                .withData("hosts", fleet.hosts().size())
                .build();
    }
}
