package dev.dmp.agent.nbd.tls;

import java.nio.charset.StandardCharsets;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.AlertLevel;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.PSKTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.PskIdentity;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.TlsPSKIdentityManager;
import org.bouncycastle.tls.TlsUtils;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.jboss.logging.Logger;

/**
 * BouncyCastle's server side of one TLS handshake with pre-shared keys, as GnuTLS clients (libnbd,
 * qemu, nbdkit's tests) offer them: TLS 1.3 with an external PSK (psk_dhe_ke, the binder hashed with
 * SHA-256, GnuTLS's default) and, for a client that stops at TLS 1.2, the (EC)DHE_PSK and PSK suites.
 * The identity is the user name of the key file; an unknown user or a wrong key fails the handshake.
 */
final class PskServer extends PSKTlsServer {
    private static final Logger LOG = Logger.getLogger(PskServer.class);

    /**
     * AEAD suites only; for TLS 1.2, forward secrecy first ((EC)DHE_PSK before plain PSK). For TLS 1.3
     * only the SHA-256 suites: an external PSK is bound to one hash (GnuTLS's binder is SHA-256), yet
     * BouncyCastle picks the suite by the client's preference before it looks at the PSK, and with
     * TLS_AES_256_GCM_SHA384 (GnuTLS's first choice) the two sides derive different keys.
     */
    private static final int[] SUITES = {
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_DHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_DHE_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
    };

    private final PskKeys keys;

    PskServer(TlsCrypto crypto, PskKeys keys) {
        super(crypto, new IdentityManager(keys));
        this.keys = keys;
    }

    /** The order above, not the client's: GnuTLS lists ChaCha20 before AES-128-GCM, which is faster here. */
    @Override
    protected boolean preferLocalCipherSuites() {
        return true;
    }

    @Override
    protected ProtocolVersion[] getSupportedVersions() {
        return ProtocolVersion.TLSv13.downTo(ProtocolVersion.TLSv12);
    }

    @Override
    protected int[] getSupportedCipherSuites() {
        return TlsUtils.getSupportedCipherSuites(getCrypto(), SUITES);
    }

    @Override
    public TlsCredentials getCredentials() throws java.io.IOException {
        // TLS 1.3 with a PSK needs no certificate; TLS 1.2 PSK suites are PSKTlsServer's.
        return TlsUtils.isTLSv13(context) ? null : super.getCredentials();
    }

    /** TLS 1.3: the first identity the client offers that the key file knows. */
    @Override
    public TlsPSKExternal getExternalPSK(Vector identities) {
        for (Object o : identities) {
            byte[] identity = ((PskIdentity) o).getIdentity();
            byte[] key = keys.key(new String(identity, StandardCharsets.UTF_8));
            if (key != null) {
                return new BasicTlsPSKExternal(identity, getCrypto().createSecret(key));
            }
        }
        LOG.debugf("TLS: no key for the PSK identities the client offered");
        return null;
    }

    @Override
    public void notifyAlertRaised(short level, short description, String message, Throwable cause) {
        LOG.debugf(
                "TLS alert sent: %s, %s%s",
                AlertLevel.getText(level),
                AlertDescription.getText(description),
                message == null ? "" : ": " + message);
    }

    @Override
    public void notifyAlertReceived(short level, short description) {
        LOG.debugf("TLS alert received: %s, %s", AlertLevel.getText(level), AlertDescription.getText(description));
    }

    /** TLS 1.2: the key of the identity the client sent. No hint: GnuTLS clients ignore it. */
    private record IdentityManager(PskKeys keys) implements TlsPSKIdentityManager {
        @Override
        public byte[] getHint() {
            return null;
        }

        @Override
        public byte[] getPSK(byte[] identity) {
            return keys.key(new String(identity, StandardCharsets.UTF_8));
        }
    }
}
