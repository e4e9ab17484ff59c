package dev.dmp.agent.http;

import dev.dmp.auth.TokenGuard;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The agent's HTTP calls that change something (reset, drain) need the bearer token when one is
 * set, as every gRPC call does: 401 without it, 403 when wrong. Reading stays open.
 */
public class ChangeGuard {
    private final TokenGuard guard;

    public ChangeGuard(TokenGuard guard) {
        this.guard = guard;
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        TokenGuard.Refusal refusal =
                guard.refusal(request.getMethod(), request.getHeaderString(HttpHeaders.AUTHORIZATION));
        return refusal == null
                ? Optional.empty()
                : Optional.of(Response.status(refusal.httpStatus())
                        .type(MediaType.TEXT_PLAIN)
                        .entity(refusal.message() + "\n")
                        .build());
    }
}
