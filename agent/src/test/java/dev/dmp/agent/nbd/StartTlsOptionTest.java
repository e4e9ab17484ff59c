package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.OptionFrames.CLIENT_FLAGS;
import static dev.dmp.agent.nbd.OptionFrames.GREETING;
import static dev.dmp.agent.nbd.OptionFrames.export;
import static dev.dmp.agent.nbd.OptionFrames.option;
import static dev.dmp.agent.nbd.OptionFrames.reply;
import static dev.dmp.agent.nbd.OptionFrames.text;
import static dev.dmp.agent.protocol.NbdProtocol.*;
import static dev.dmp.agent.protocol.Wire.concat;
import static dev.dmp.agent.protocol.Wire.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.agent.nbd.tls.NbdTls;
import dev.dmp.agent.nbd.tls.TlsCredentials;
import dev.dmp.agent.nbd.tls.TlsMode;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.Wire;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * NBD_OPT_STARTTLS, byte for byte, in the three modes (dmp.agent.nbd-tls): what is answered in the
 * clear, what is refused and with which error, and that after the ACK the options and replies go over
 * the channel the TLS handshake returned. The TLS itself is a stand-in here: its "encrypted" side is a
 * second scripted channel (tests/test-nbd-tls.sh runs the real one with real clients).
 */
class StartTlsOptionTest {
    private static final String TLS_REQD =
            "TLS is required on this server (dmp.agent.nbd-tls=require): send NBD_OPT_STARTTLS first";

    private final Export dmp1 = new Export("dmp1", new SparseBackend(1 << 20), false, () -> RequestObserver.NONE);
    private final Catalog catalog = new Catalog(dmp1);

    /** What the client sends once TLS is up, and what it is sent. */
    private ScriptedChannel encrypted = new ScriptedChannel(new byte[0]);

    /** A TLS handshake that always succeeds and hands over {@link #encrypted}. */
    private final TlsCredentials standIn = new TlsCredentials() {
        @Override
        public ByteChannel accept(ByteChannel socket) {
            return encrypted;
        }

        @Override
        public String describe() {
            return "stand-in";
        }
    };

    private Handshake handshake(ScriptedChannel plain, TlsMode mode) {
        NbdTls tls = mode == TlsMode.OFF ? NbdTls.off() : new NbdTls(mode, standIn);
        return new Handshake(plain, catalog, NbdOptions.defaults().withTls(tls));
    }

    private static ScriptedChannel client(byte[]... options) {
        return new ScriptedChannel(concat(hex(CLIENT_FLAGS), concat(options)));
    }

    /** NBD_OPT_GO's replies for dmp1 without structured replies. */
    private static byte[] go() {
        return concat(
                reply(NBD_OPT_GO, NBD_REP_INFO, hex("0000 0000000000100000 0d6d")),
                reply(NBD_OPT_GO, NBD_REP_INFO, hex("0003 00000001 00001000 02000000")),
                reply(NBD_OPT_GO, NBD_REP_ACK));
    }

    private static void assertWire(byte[] expected, ScriptedChannel ch) {
        assertEquals(Wire.hex(expected), Wire.hex(ch.written()));
    }

    /** As nbdkit --tls=off: unsupported, with the setting named; the client may go on in the clear. */
    @Test
    void offRefusesStartTlsAsUnsupported() throws Exception {
        ScriptedChannel plain = client(option(NBD_OPT_STARTTLS), option(NBD_OPT_GO, export("dmp1")));
        Handshake h = handshake(plain, TlsMode.OFF);
        assertEquals(Session.simple(dmp1), h.negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(
                                NBD_OPT_STARTTLS,
                                NBD_REP_ERR_UNSUP,
                                text("TLS is turned off on this server (dmp.agent.nbd-tls=off)")),
                        go()),
                plain);
        assertFalse(h.encrypted());
        assertSame(plain, h.channel());
    }

    /** The spec's FORCEDTLS: everything but STARTTLS and ABORT gets NBD_REP_ERR_TLS_REQD. */
    @Test
    void requireRefusesEveryOptionBeforeStartTlsButAbort() throws Exception {
        ScriptedChannel plain = client(
                option(NBD_OPT_LIST),
                option(NBD_OPT_STRUCTURED_REPLY),
                option(NBD_OPT_LIST_META_CONTEXT, OptionFrames.metaContexts("dmp1")),
                option(NBD_OPT_INFO, export("dmp1")),
                option(NBD_OPT_GO, export("dmp1")),
                option(42),
                option(NBD_OPT_ABORT));
        assertNull(handshake(plain, TlsMode.REQUIRE).negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(NBD_OPT_LIST, NBD_REP_ERR_TLS_REQD, text(TLS_REQD)),
                        reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ERR_TLS_REQD, text(TLS_REQD)),
                        reply(NBD_OPT_LIST_META_CONTEXT, NBD_REP_ERR_TLS_REQD, text(TLS_REQD)),
                        reply(NBD_OPT_INFO, NBD_REP_ERR_TLS_REQD, text(TLS_REQD)),
                        reply(NBD_OPT_GO, NBD_REP_ERR_TLS_REQD, text(TLS_REQD)),
                        reply(42, NBD_REP_ERR_TLS_REQD, text(TLS_REQD)),
                        reply(NBD_OPT_ABORT, NBD_REP_ACK)),
                plain);
    }

    /** NBD_OPT_EXPORT_NAME has no error reply: the connection ends, nothing is sent. */
    @Test
    void requireClosesOnExportNameInTheClear() {
        ScriptedChannel plain = client(option(NBD_OPT_EXPORT_NAME, text("dmp1")));
        NbdProtocolException e = assertThrows(
                NbdProtocolException.class,
                () -> handshake(plain, TlsMode.REQUIRE).negotiate());
        assertEquals("NBD_OPT_EXPORT_NAME before NBD_OPT_STARTTLS: " + TLS_REQD, e.getMessage());
        assertWire(hex(GREETING), plain);
    }

    /** After the ACK in the clear, the rest goes over TLS: the GO and its replies, and the session. */
    @Test
    void requireAcknowledgesStartTlsThenHagglesOverTls() throws Exception {
        ScriptedChannel plain = client(option(NBD_OPT_STARTTLS));
        encrypted = new ScriptedChannel(option(NBD_OPT_GO, export("dmp1")));
        Handshake h = handshake(plain, TlsMode.REQUIRE);
        assertEquals(Session.simple(dmp1), h.negotiate());
        assertWire(concat(hex(GREETING), reply(NBD_OPT_STARTTLS, NBD_REP_ACK)), plain);
        assertWire(go(), encrypted);
        assertTrue(h.encrypted());
        assertSame(encrypted, h.channel());
    }

    /** With data: NBD_REP_ERR_INVALID (and no upgrade); a second STARTTLS, over TLS: INVALID too. */
    @Test
    void startTlsWithDataOrTwiceIsInvalid() throws Exception {
        ScriptedChannel plain = client(option(NBD_OPT_STARTTLS, text("x")), option(NBD_OPT_STARTTLS));
        encrypted = new ScriptedChannel(concat(option(NBD_OPT_STARTTLS), option(NBD_OPT_GO, export("dmp1"))));
        assertEquals(Session.simple(dmp1), handshake(plain, TlsMode.ON).negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(NBD_OPT_STARTTLS, NBD_REP_ERR_INVALID, text("NBD_OPT_STARTTLS takes no data")),
                        reply(NBD_OPT_STARTTLS, NBD_REP_ACK)),
                plain);
        assertWire(
                concat(
                        reply(
                                NBD_OPT_STARTTLS,
                                NBD_REP_ERR_INVALID,
                                text("TLS is already negotiated on this connection")),
                        go()),
                encrypted);
    }

    /** on: a plaintext client is served as with TLS off. */
    @Test
    void onServesPlaintextClients() throws Exception {
        ScriptedChannel plain = client(option(NBD_OPT_GO, export("dmp1")));
        Handshake h = handshake(plain, TlsMode.ON);
        assertEquals(Session.simple(dmp1), h.negotiate());
        assertWire(concat(hex(GREETING), go()), plain);
        assertFalse(h.encrypted());
    }

    /** What was settled in the clear (a man in the middle could have) does not survive STARTTLS. */
    @Test
    void structuredRepliesNegotiatedInTheClearAreForgotten() throws Exception {
        ScriptedChannel plain = client(option(NBD_OPT_STRUCTURED_REPLY), option(NBD_OPT_STARTTLS));
        encrypted = new ScriptedChannel(option(NBD_OPT_GO, export("dmp1")));
        assertEquals(Session.simple(dmp1), handshake(plain, TlsMode.ON).negotiate());
        assertWire(
                concat(
                        hex(GREETING),
                        reply(NBD_OPT_STRUCTURED_REPLY, NBD_REP_ACK),
                        reply(NBD_OPT_STARTTLS, NBD_REP_ACK)),
                plain);
        assertWire(go(), encrypted);
    }

    /** A failed TLS handshake ends the connection with an error that says where it failed. */
    @Test
    void aFailedTlsHandshakeEndsTheConnection() {
        TlsCredentials failing = new TlsCredentials() {
            @Override
            public ByteChannel accept(ByteChannel socket) throws IOException {
                throw new SSLHandshakeException("bad_record_mac");
            }

            @Override
            public String describe() {
                return "failing";
            }
        };
        ScriptedChannel plain = client(option(NBD_OPT_STARTTLS));
        Handshake h =
                new Handshake(plain, catalog, NbdOptions.defaults().withTls(new NbdTls(TlsMode.REQUIRE, failing)));
        IOException e = assertThrows(IOException.class, h::negotiate);
        assertEquals(
                "NBD_OPT_STARTTLS: the TLS handshake failed: javax.net.ssl.SSLHandshakeException: bad_record_mac",
                e.getMessage());
    }
}
