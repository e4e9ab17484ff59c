package dev.dmp.auth;

import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Set;
import org.jboss.logging.Logger;

/** The app's bearer token, read once at start-up; warns when the door is open to anyone. */
@ApplicationScoped
public class TokenGuard {
    private static final Logger LOG = Logger.getLogger(TokenGuard.class);

    private static final Set<String> READING = Set.of("GET", "HEAD", "OPTIONS");

    private final BearerToken token;

    public TokenGuard(AuthConfig config) {
        this.token = BearerToken.from(config.token(), config.tokenFile());
    }

    void start(@Observes StartupEvent event) {
        if (!token.required()) {
            LOG.warn(
                    "no dmp.auth.token or dmp.auth.token-file is set: anyone who reaches this port can call the gRPC API"
                            + " and reset counters; set a shared token in production");
        }
    }

    public BearerToken token() {
        return token;
    }

    /**
     * Why a call with this {@code authorization} header (null when absent) is refused, or null when it
     * may go on. Every door of the app (gRPC, the HTTP calls that change something) answers with these
     * words, so the operator reads the same fix whichever way they came.
     */
    public Refusal refusal(String authorization) {
        return switch (token.check(authorization)) {
            case NOT_REQUIRED, OK -> null;
            case MISSING ->
                new Refusal(
                        true, "this server requires a token: send the header 'authorization: Bearer <dmp.auth.token>'");
            case WRONG ->
                new Refusal(false, "the bearer token is wrong: send the value of this server's dmp.auth.token");
        };
    }

    /**
     * The same for an HTTP request: one that only reads (GET, HEAD, OPTIONS) always goes on; one that
     * changes something needs the token as a gRPC call does.
     */
    public Refusal refusal(String httpMethod, String authorization) {
        return READING.contains(httpMethod) ? null : refusal(authorization);
    }

    /** A refused call: {@code missing} is no token at all (UNAUTHENTICATED, 401), else a wrong one (PERMISSION_DENIED, 403). */
    public record Refusal(boolean missing, String message) {
        public int httpStatus() {
            return missing ? 401 : 403;
        }
    }
}
