package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.nbd.tls.NbdTls;
import dev.dmp.agent.nbd.tls.TlsMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * NBD_OPT_STARTTLS for one handshake (the NBD spec, "TLS support"): whether an option may be answered
 * before TLS, whether STARTTLS itself is refused, and the upgrade of the connection once it is
 * acknowledged. With {@code require} every option but STARTTLS and ABORT is refused with
 * NBD_REP_ERR_TLS_REQD until then (the spec's FORCEDTLS, nbdkit's {@code --tls=require}).
 */
final class StartTls {
    private final NbdTls tls;
    private boolean encrypted;

    StartTls(NbdTls tls) {
        this.tls = tls;
    }

    /** Whether the connection's option haggling now goes over TLS. */
    boolean encrypted() {
        return encrypted;
    }

    /**
     * The refusal of {@code option} because TLS must come first, or null. NBD_OPT_EXPORT_NAME cannot be
     * refused (it has no error reply): for it the handshake closes the connection instead.
     */
    OptionRefusal tlsFirst(int option) {
        if (tls.mode() != TlsMode.REQUIRE || encrypted || option == NBD_OPT_STARTTLS || option == NBD_OPT_ABORT) {
            return null;
        }
        return new OptionRefusal(
                NBD_REP_ERR_TLS_REQD,
                "TLS is required on this server (dmp.agent.nbd-tls=require): send NBD_OPT_STARTTLS first");
    }

    /** The refusal of NBD_OPT_STARTTLS with {@code data}, or null when the upgrade may go ahead. */
    OptionRefusal refusal(ByteBuffer data) {
        if (tls.mode() == TlsMode.OFF) {
            return new OptionRefusal(NBD_REP_ERR_UNSUP, "TLS is turned off on this server (dmp.agent.nbd-tls=off)");
        }
        if (data.hasRemaining()) {
            return new OptionRefusal(NBD_REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
        }
        if (encrypted) {
            return new OptionRefusal(NBD_REP_ERR_INVALID, "TLS is already negotiated on this connection");
        }
        return null;
    }

    /**
     * After the ACK: runs the TLS handshake on {@code socket} and returns the channel the rest of the
     * connection uses. A failed handshake throws, and the connection is over.
     */
    ByteChannel start(ByteChannel socket) throws IOException {
        encrypted = true;
        try {
            return tls.credentials().accept(socket);
        } catch (IOException e) {
            // A wrong key, an unknown user, a client certificate missing or not signed by the CA: the
            // client's own error says which; this line is for the operator.
            throw new IOException("NBD_OPT_STARTTLS: the TLS handshake failed: " + e, e);
        }
    }
}
