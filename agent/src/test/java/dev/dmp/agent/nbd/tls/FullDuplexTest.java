package dev.dmp.agent.nbd.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dmp.agent.protocol.Channels;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Vector;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.tls.AbstractTlsClient;
import org.bouncycastle.tls.BasicTlsPSKExternal;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsClientProtocol;
import org.bouncycastle.tls.TlsPSKExternal;
import org.bouncycastle.tls.crypto.TlsCrypto;
import org.bouncycastle.tls.crypto.impl.jcajce.JcaTlsCryptoProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Both TLS channels as an NBD connection uses them: one thread reads what the client sends while
 * several threads write replies at the same time, each write whole (never interleaved with another),
 * and nothing is lost either way. The clients are the JDK's TLS (X.509) and BouncyCastle's (a TLS 1.3
 * external PSK, as GnuTLS sends it); tests/test-nbd-tls.sh runs GnuTLS's.
 */
class FullDuplexTest {
    private static final int WRITERS = 4;
    private static final int REPLIES = 64;
    private static final int REPLY = 16 << 10;
    private static final int UPLOAD = 4 << 20;
    private static final byte[] KEY = new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

    @TempDir
    Path dir;

    /** A client's two streams once its TLS handshake is done. */
    private interface Client {
        Streams connect(InetSocketAddress server) throws IOException;
    }

    private record Streams(InputStream in, OutputStream out, AutoCloseable connection) {}

    @Test
    @Timeout(60)
    void x509ChannelReadsWhileSeveralThreadsWriteWholeReplies() throws Exception {
        SelfSigned server = SelfSigned.make();
        SSLContext context = trusting(server);
        exchange(X509Credentials.load(server.writeTo(dir), false), address -> {
            SSLSocket socket =
                    (SSLSocket) context.getSocketFactory().createSocket(address.getAddress(), address.getPort());
            socket.startHandshake();
            return new Streams(socket.getInputStream(), socket.getOutputStream(), socket);
        });
    }

    @Test
    @Timeout(60)
    void pskChannelReadsWhileSeveralThreadsWriteWholeReplies() throws Exception {
        PskKeys keys = PskKeys.parse(
                "keys.psk", List.of("alice:" + java.util.HexFormat.of().formatHex(KEY)));
        exchange(new PskCredentials(keys, Path.of("keys.psk")), address -> pskClient(address, "alice", KEY));
    }

    /** A wrong key fails the handshake on both sides. */
    @Test
    @Timeout(60)
    void aWrongPskFailsTheHandshake() throws Exception {
        PskKeys keys = PskKeys.parse(
                "keys.psk", List.of("alice:" + java.util.HexFormat.of().formatHex(KEY)));
        TlsCredentials credentials = new PskCredentials(keys, Path.of("keys.psk"));
        byte[] wrong = KEY.clone();
        wrong[0] ^= 1;
        try (ServerSocketChannel listener = listener()) {
            CompletableFuture<Streams> client = CompletableFuture.supplyAsync(() -> {
                try {
                    return pskClient((InetSocketAddress) listener.getLocalAddress(), "alice", wrong);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            try (SocketChannel socket = listener.accept()) {
                assertThrows(IOException.class, () -> credentials.accept(socket));
            }
            assertThrows(Exception.class, () -> client.get(30, TimeUnit.SECONDS));
        }
    }

    private static ServerSocketChannel listener() throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress("127.0.0.1", 0));
        return listener;
    }

    private static void exchange(TlsCredentials credentials, Client connect) throws Exception {
        byte[] upload = new byte[UPLOAD];
        new Random(1).nextBytes(upload);
        ExecutorService threads = Executors.newCachedThreadPool();
        try (ServerSocketChannel listener = listener()) {
            Future<int[]> client = threads.submit(
                    () -> client(connect.connect((InetSocketAddress) listener.getLocalAddress()), upload));
            try (SocketChannel socket = listener.accept();
                    ByteChannel tls = credentials.accept(socket)) {
                List<Future<?>> writers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    byte mark = (byte) (w + 1);
                    writers.add(threads.submit(() -> {
                        for (int i = 0; i < REPLIES; i++) {
                            byte[] reply = new byte[REPLY];
                            Arrays.fill(reply, mark);
                            // Direct, as the agent's pooled payload buffers are.
                            tls.write(
                                    ByteBuffer.allocateDirect(REPLY).put(reply).flip());
                        }
                        return null;
                    }));
                }
                ByteBuffer received = ByteBuffer.allocateDirect(UPLOAD);
                Channels.readFully(tls, received);
                byte[] got = new byte[UPLOAD];
                received.flip().get(got);
                assertArrayEquals(upload, got, "what the client sent, read while replies were written");
                for (Future<?> w : writers) {
                    w.get(30, TimeUnit.SECONDS);
                }
                int[] expected = new int[WRITERS + 1];
                Arrays.fill(expected, 1, WRITERS + 1, REPLIES);
                assertArrayEquals(expected, client.get(30, TimeUnit.SECONDS), "whole replies per writer, none torn");
            }
        } finally {
            threads.shutdownNow();
        }
    }

    /** Sends {@code upload} while it reads every reply; returns how many whole replies each writer sent. */
    private static int[] client(Streams streams, byte[] upload) throws Exception {
        try (AutoCloseable connection = streams.connection()) {
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    for (int off = 0; off < upload.length; off += 100_000) {
                        streams.out().write(upload, off, Math.min(100_000, upload.length - off));
                    }
                    streams.out().flush();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            DataInputStream in = new DataInputStream(streams.in());
            int[] perWriter = new int[WRITERS + 1];
            byte[] reply = new byte[REPLY];
            for (int i = 0; i < WRITERS * REPLIES; i++) {
                in.readFully(reply);
                byte mark = reply[0];
                for (byte b : reply) {
                    assertEquals(mark, b, "reply " + i + " is torn");
                }
                perWriter[mark]++;
            }
            sent.get(30, TimeUnit.SECONDS);
            return perWriter;
        }
    }

    private static SSLContext trusting(SelfSigned server) throws Exception {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("server", server.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }

    /** BouncyCastle's TLS 1.3 client with an external PSK, SHA-256 as GnuTLS's. */
    private static Streams pskClient(InetSocketAddress address, String user, byte[] key) throws IOException {
        Socket socket = new Socket(address.getAddress(), address.getPort());
        TlsCrypto crypto = new JcaTlsCryptoProvider().create(new SecureRandom());
        TlsClientProtocol protocol = new TlsClientProtocol(socket.getInputStream(), socket.getOutputStream());
        try {
            protocol.connect(new AbstractTlsClient(crypto) {
                @Override
                protected ProtocolVersion[] getSupportedVersions() {
                    return ProtocolVersion.TLSv13.only();
                }

                @Override
                protected int[] getSupportedCipherSuites() {
                    return new int[] {CipherSuite.TLS_AES_128_GCM_SHA256};
                }

                @Override
                public Vector getExternalPSKs() {
                    Vector<TlsPSKExternal> psks = new Vector<>();
                    psks.add(new BasicTlsPSKExternal(
                            user.getBytes(StandardCharsets.UTF_8), getCrypto().createSecret(key)));
                    return psks;
                }

                @Override
                public TlsAuthentication getAuthentication() {
                    throw new IllegalStateException("a PSK handshake has no certificate to check");
                }
            });
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        return new Streams(protocol.getInputStream(), protocol.getOutputStream(), protocol::close);
    }
}
