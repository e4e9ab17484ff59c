package dev.dmp.auth;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/** The app's bearer token, read once at start-up; warns when the door is open to anyone. */
@ApplicationScoped
public class TokenGuard {
    private static final Logger LOG = Logger.getLogger(TokenGuard.class);

    private final BearerToken token;

    public TokenGuard(AuthConfig config) {
        this.token = BearerToken.from(config.token(), config.tokenFile());
    }

    void start(@Observes StartupEvent event) {
        if (!token.required()) {
            LOG.warn("no dmp.auth.token or dmp.auth.token-file is set: anyone who reaches this port can call the gRPC API"
                    + " and reset counters; set a shared token in production");
        }
    }

    public BearerToken token() {
        return token;
    }
}
