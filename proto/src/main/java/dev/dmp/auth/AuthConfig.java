package dev.dmp.auth;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/** The shared bearer token, under {@code dmp.auth}; both apps read it. See docs/api.md. */
@ConfigMapping(prefix = "dmp.auth")
public interface AuthConfig {
    /** The token every gRPC call (and every mutating HTTP request) must carry; absent: no check. */
    Optional<String> token();

    /** A file whose first line is the token (instead of {@code dmp.auth.token}). */
    Optional<String> tokenFile();
}
