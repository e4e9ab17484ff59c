package dev.dmp.agent.link;

import dev.dmp.agent.config.AgentConfig;
import dev.dmp.auth.BearerToken;
import dev.dmp.auth.TokenCallCredentials;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.Optional;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the agent's link dials the controller: plaintext or TLS (trusting the CA of a Quarkus TLS
 * registry configuration, or the JVM's), with the shared bearer token on every call when one is set.
 */
public final class LinkCredentials {
    private LinkCredentials() {}

    public static ChannelCredentials of(AgentConfig config, BearerToken token, TlsConfigurationRegistry registry) {
        ChannelCredentials channel = transport(config, registry);
        return token.value()
                .<ChannelCredentials>map(t -> CompositeChannelCredentials.create(channel, new TokenCallCredentials(t)))
                .orElse(channel);
    }

    private static ChannelCredentials transport(AgentConfig config, TlsConfigurationRegistry registry) {
        Optional<String> name = config.controllerTlsConfigurationName().filter(s -> !s.isBlank());
        if (config.controllerTls() || name.isPresent()) {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder();
            if (name.isPresent()) {
                TlsConfiguration conf = registry.get(name.get())
                        .orElseThrow(() -> new IllegalArgumentException(
                                "dmp.agent.controller-tls-configuration-name: no TLS configuration '" + name.get()
                                        + "'; define quarkus.tls." + name.get()
                                        + ".trust-store.pem.certs=/path/ca.pem"));
                if (conf.getTrustStore() != null) {
                    tls.trustManager(trustManagers(conf.getTrustStore()));
                }
            }
            return tls.build();
        }
        return InsecureChannelCredentials.create();
    }

    private static javax.net.ssl.TrustManager[] trustManagers(KeyStore trustStore) {
        try {
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(trustStore);
            return f.getTrustManagers();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    "dmp.agent.controller-tls-configuration-name: unusable trust store: " + e.getMessage(), e);
        }
    }
}
