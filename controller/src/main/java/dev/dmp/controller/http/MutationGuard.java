package dev.dmp.controller.http;

import dev.dmp.auth.TokenGuard;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The dashboard's HTTP calls that change something (create, delete, reset) need the bearer token
 * when one is set, as every gRPC call does: otherwise the token would guard one door of the
 * controller and leave the other open. Reading stays open, as the agent's {@code GET /stat/volumes}.
 */
public class MutationGuard {
    private final TokenGuard guard;

    public MutationGuard(TokenGuard guard) {
        this.guard = guard;
    }

    @ServerRequestFilter
    public Optional<Response> requireToken(ContainerRequestContext request) {
        TokenGuard.Refusal refusal =
                guard.refusal(request.getMethod(), request.getHeaderString(HttpHeaders.AUTHORIZATION));
        return refusal == null
                ? Optional.empty()
                : Optional.of(Response.status(refusal.httpStatus())
                        .type(MediaType.APPLICATION_JSON)
                        .entity(new ApiError(
                                refusal.missing() ? "UNAUTHENTICATED" : "PERMISSION_DENIED", refusal.message()))
                        .build());
    }
}
