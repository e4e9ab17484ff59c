package dev.dmp.agent.nbd.tls;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.bouncycastle.tls.TlsServerProtocol;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;

/**
 * Pre-shared keys from a psktool file: the server and the client prove to each other that they hold
 * the same key, with no certificate. JSSE has no external PSK, so BouncyCastle's TLS runs these
 * handshakes ({@link PskServer}).
 */
public final class PskCredentials implements TlsCredentials {
    private final PskKeys keys;
    private final Path file;
    /**
     * The JDK's ciphers under BouncyCastle's protocol: AES-GCM runs on the CPU's AES instructions there
     * (BouncyCastle's own Java AES moved 8 times fewer bytes per second in a 256 MiB nbdcopy).
     */
    private final TlsCrypto crypto = new JcaTlsCryptoProvider().create(new SecureRandom());

    public PskCredentials(PskKeys keys, Path file) {
        this.keys = keys;
        this.file = file;
    }

    @Override
    public ByteChannel accept(ByteChannel socket) throws IOException {
        TlsServerProtocol protocol = new TlsServerProtocol(SocketStreams.input(socket), SocketStreams.output(socket));
        try {
            protocol.accept(new PskServer(crypto, keys));
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new ProtocolChannel(protocol);
    }

    @Override
    public String describe() {
        return "pre-shared keys of " + keys.users().size() + " user(s) from " + file;
    }
}
