package dev.dmp.auth;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Requires the bearer token on every gRPC call of the app when one is set, reflection and the gRPC
 * health service included: none gives UNAUTHENTICATED, a wrong one PERMISSION_DENIED. Probes that
 * cannot send a header use the HTTP health endpoints ({@code /q/health/*}), which stay open.
 */
@ApplicationScoped
@GlobalInterceptor
public class TokenInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private final TokenGuard guard;

    public TokenInterceptor(TokenGuard guard) {
        this.guard = guard;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
            ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        TokenGuard.Refusal refusal = guard.refusal(headers.get(AUTHORIZATION));
        if (refusal == null) {
            return next.startCall(call, headers);
        }
        call.close(
                (refusal.missing() ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED)
                        .withDescription(refusal.message()),
                new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
