package dev.dmp.controller.health;

import dev.dmp.controller.fleet.Fleet;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * /q/health/ready: the controller is ready once it has started (its ledger open) and, with the ledger
 * in PostgreSQL, while it reaches the database: a replica that cannot can neither claim a host nor
 * acknowledge a delta, so the Service should send agents to the others.
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
        boolean ledger = fleet.ledgerReachable();
        return HealthCheckResponse.named("dmp controller")
                .status(started && ledger)
                .withData("ledger", ledger ? "reachable" : "unreachable")
                .withData("hosts", fleet.hosts().size())
                .build();
    }
}
