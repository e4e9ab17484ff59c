package dev.dmp.agent.nbd.tls;

import java.io.IOException;
import java.nio.channels.ByteChannel;

/**
 * What the server proves itself with (an X.509 certificate, or keys shared with the clients) and how it
 * runs the server side of a TLS handshake on a connection after NBD_OPT_STARTTLS was acknowledged.
 */
public interface TlsCredentials {

    /**
     * Runs the TLS handshake on {@code socket} (blocking, in the caller's thread) and returns the channel
     * that carries the connection's plaintext from then on: closing it ends TLS and closes the socket. A
     * failed handshake (a wrong key, a client that is not speaking TLS) throws.
     */
    ByteChannel accept(ByteChannel socket) throws IOException;

    /** For the start-up log: "X.509 certificate CN=..." or "pre-shared keys of 2 users from FILE". */
    String describe();
}
