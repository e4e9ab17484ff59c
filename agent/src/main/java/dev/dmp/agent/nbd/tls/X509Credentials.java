package dev.dmp.agent.nbd.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.Socket;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * An X.509 certificate and its key, from a directory laid out as nbdkit's {@code --tls-certificates}
 * and libnbd's {@code tls-certificates} expect: {@code server-cert.pem} (the certificate, then any
 * intermediates), {@code server-key.pem} (its private key, PKCS#8, PKCS#1 or SEC1, unencrypted), and
 * with {@code verifyPeer} {@code ca-cert.pem}, the authority every client's certificate must chain to.
 * The TLS is JSSE's (TLS 1.3 and 1.2, the JDK's suites).
 */
public final class X509Credentials implements TlsCredentials {
    private final SSLContext context;
    private final boolean verifyPeer;
    private final String subject;

    private X509Credentials(SSLContext context, boolean verifyPeer, String subject) {
        this.context = context;
        this.verifyPeer = verifyPeer;
        this.subject = subject;
    }

    /** Loads and checks the directory's files; a problem throws with the file's name and what is wrong. */
    public static X509Credentials load(Path dir, boolean verifyPeer) throws IOException, GeneralSecurityException {
        Path certFile = dir.resolve("server-cert.pem");
        Path keyFile = dir.resolve("server-key.pem");
        List<? extends Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        X509Certificate leaf = (X509Certificate) chain.get(0);
        if (!matches(key, leaf)) {
            throw new GeneralSecurityException(keyFile + " is not the key of the certificate in " + certFile);
        }
        // A key store in memory only: its password protects nothing, but PKCS12 wants one.
        char[] password = "in-memory".toCharArray();
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", key, password, chain.toArray(new Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, password);
        TrustManagerFactory tmf = null;
        if (verifyPeer) {
            Path caFile = dir.resolve("ca-cert.pem");
            if (!Files.exists(caFile)) {
                throw new IOException(caFile + " is missing: it verifies the clients' certificates");
            }
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            int i = 0;
            for (Certificate ca : certificates(caFile)) {
                trusted.setCertificateEntry("ca" + i++, ca);
            }
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf == null ? null : unnamed(tmf.getTrustManagers()), null);
        return new X509Credentials(
                context, verifyPeer, leaf.getSubjectX500Principal().getName());
    }

    private static List<? extends Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            List<? extends Certificate> chain =
                    List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (chain.isEmpty()) {
                throw new GeneralSecurityException(file + " holds no certificate");
            }
            return chain;
        } catch (CertificateException e) {
            throw new GeneralSecurityException(file + " is not PEM certificates: " + e.getMessage(), e);
        }
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
                PEMParser pem = new PEMParser(in)) {
            Object o = pem.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo()); // PKCS#1 (RSA), SEC1 (EC)
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info); // PKCS#8
            }
            throw new GeneralSecurityException(file + " is not an unencrypted PEM private key"
                    + (o == null ? "" : " (found " + o.getClass().getSimpleName() + ")"));
        }
    }

    /** Whether {@code key} signs what the certificate's public key verifies. */
    private static boolean matches(PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null) {
            return true; // a key type we cannot test: the handshake will tell
        }
        byte[] probe = "dmp".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(cert.getPublicKey());
        verifier.update(probe);
        return verifier.verify(signature);
    }

    private static TrustManager[] unnamed(TrustManager[] managers) {
        TrustManager[] out = managers.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof X509ExtendedTrustManager pkix) {
                out[i] = new UnnamedIssuers(pkix);
            }
        }
        return out;
    }

    /**
     * The CA's trust manager, except that it names no CA to the client. In TLS 1.3 JSSE names the CAs it
     * accepts (certificate_authorities); GnuTLS (libnbd, qemu) then offers only a certificate whose issuer
     * it finds among them, found none with a certtool CA, and sent no certificate at all. Named nowhere,
     * a client sends the certificate it has, and the CA still verifies it.
     */
    private static final class UnnamedIssuers extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager pkix;

        UnnamedIssuers(X509ExtendedTrustManager pkix) {
            this.pkix = pkix;
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            pkix.checkClientTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            pkix.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            pkix.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a server does not check servers");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("a server does not check servers");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("a server does not check servers");
        }
    }

    @Override
    public ByteChannel accept(ByteChannel socket) throws IOException {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setNeedClientAuth(verifyPeer);
        return EngineChannel.handshake(socket, engine);
    }

    @Override
    public String describe() {
        return "X.509 certificate " + subject + (verifyPeer ? ", client certificates verified" : "");
    }
}
