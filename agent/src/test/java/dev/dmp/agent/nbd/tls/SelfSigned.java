package dev.dmp.agent.nbd.tls;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.util.Date;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A throwaway RSA key and a self-signed certificate for CN=localhost, valid for a day, as PEM files. */
record SelfSigned(KeyPair keys, X509Certificate certificate) {

    static SelfSigned make() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair keys = g.generateKeyPair();
        X500Principal name = new X500Principal("CN=localhost");
        Date now = new Date();
        var holder = new JcaX509v3CertificateBuilder(
                        name, BigInteger.ONE, now, new Date(now.getTime() + 86_400_000L), name, keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(keys.getPrivate()));
        return new SelfSigned(keys, new JcaX509CertificateConverter().getCertificate(holder));
    }

    /** server-cert.pem and server-key.pem in {@code dir}, as dmp.agent.nbd-tls-certificates wants them. */
    Path writeTo(Path dir) throws Exception {
        Files.writeString(dir.resolve("server-cert.pem"), pem(certificate));
        Files.writeString(dir.resolve("server-key.pem"), pem(keys.getPrivate()));
        return dir;
    }

    static String pem(Object o) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }
}
