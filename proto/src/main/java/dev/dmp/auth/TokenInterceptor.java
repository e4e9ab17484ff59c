package dev.dmp.auth;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Set;

/**
 * Requires the bearer token on every gRPC call of the app when one is set: none gives
 * UNAUTHENTICATED, a wrong one PERMISSION_DENIED. Two services stay open because they tell nothing
 * that is not public: health (orchestrators' gRPC probes send no headers) and reflection (the schema,
 * which is in the repository; clients such as buf curl report a refused reflection call as "service
 * not found" instead of the status, which would hide the real reason from the operator).
 */
@ApplicationScoped
@GlobalInterceptor
public class TokenInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final Set<String> OPEN = Set.of("grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection");

    private final TokenGuard guard;

    public TokenInterceptor(TokenGuard guard) {
        this.guard = guard;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        if (OPEN.contains(call.getMethodDescriptor().getServiceName())) {
            return next.startCall(call, headers);
        }
        Status refused = switch (guard.token().check(headers.get(AUTHORIZATION))) {
            case NOT_REQUIRED, OK -> null;
            case MISSING -> Status.UNAUTHENTICATED.withDescription(
                    "this server requires a token: send the header 'authorization: Bearer <dmp.auth.token>'");
            case WRONG -> Status.PERMISSION_DENIED.withDescription(
                    "the bearer token is wrong: send the value of this server's dmp.auth.token");
        };
        if (refused == null) {
            return next.startCall(call, headers);
        }
        call.close(refused, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
