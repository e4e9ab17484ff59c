package dev.dmp.auth;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.util.concurrent.Executor;

/**
 * Sends the shared bearer token ({@code dmp.auth.token}) as {@code authorization: Bearer ...} on every
 * call, as {@link TokenInterceptor} requires it: the agent's calls to the controller, and a controller
 * replica's calls to another.
 */
public final class TokenCallCredentials extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION = TokenInterceptor.AUTHORIZATION;

    private final String token;

    public TokenCallCredentials(String token) {
        this.token = token;
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        applier.apply(headers);
    }
}
