package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.dmp.agent.fuzz.HeapBudget;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.Wire;
import dev.dmp.agent.stats.VolumeStats;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The handshake as a hostile client drives it: any bytes after the greeting. Whatever they are, the
 * server either ends the connection with its protocol error ({@link NbdProtocolException}, or
 * {@link EOFException} for a frame cut short) or answers; what it wrote is the greeting, then whole
 * option replies, each option of the client's answered in order and closed by an ACK or an error reply
 * carrying that option's number; it stops answering only where it chose an export, was told to abort,
 * or refused. Its heap stays within {@link HeapBudget} whatever the length fields say.
 *
 * <p>The input's last byte (Jazzer's FuzzedDataProvider reads booleans from the end) says whether the
 * listener offers structured replies; the rest is what the client sends after the greeting.
 */
class HandshakeFuzzTest {
    private static final String GREETING = "4e42444d41474943" + "49484156454f5054" + "0003";

    private static final Export DMP1 =
            new Export("dmp1", new MemoryBackend(1 << 16), false, new VolumeStats()::observer);
    private static final Export DMP2 = new Export("dmp2", new MemoryBackend(512), true, new VolumeStats()::observer);
    private static final ExportCatalog CATALOG = new Catalog(DMP1, DMP2);

    @FuzzTest
    void answersEveryOptionOrRefusesWithItsProtocolError(FuzzedDataProvider data) throws Exception {
        NbdOptions options = NbdOptions.defaults().withStructuredReplies(data.consumeBoolean());
        byte[] sent = data.consumeRemainingAsBytes();
        ScriptedChannel[] ch = new ScriptedChannel[1];
        Session session = null;
        boolean refused = false;
        try {
            session = HeapBudget.within(sent.length, "the handshake", () -> {
                ch[0] = new ScriptedChannel(sent);
                return new Handshake(ch[0], CATALOG, options).negotiate();
            });
        } catch (NbdProtocolException | EOFException e) {
            refused = true;
        }
        checkReplies(sent, ch[0].written(), session, refused);
    }

    /** The server's output against the client's options: see the class comment. */
    private static void checkReplies(byte[] sent, byte[] written, Session session, boolean refused) {
        ByteBuffer out = ByteBuffer.wrap(written);
        assertTrue(written.length >= 18, "no greeting");
        assertEquals(GREETING, Wire.hex(java.util.Arrays.copyOf(written, 18)));
        out.position(18);
        List<Integer> options = clientOptions(sent);
        int answered = 0;
        int last = -1;
        boolean go = false;
        while (out.remaining() >= 20 && out.getLong(out.position()) == OPTION_REPLY_MAGIC) {
            out.getLong();
            int option = out.getInt();
            int type = out.getInt();
            int length = out.getInt();
            assertTrue(length >= 0 && length <= out.remaining(), "a reply cut short");
            out.position(out.position() + length);
            assertTrue(answered < options.size(), "a reply to an option the client did not send");
            assertEquals(options.get(answered), option, "a reply to another option than the one due");
            boolean error = (type & NBD_REP_FLAG_ERROR) != 0;
            assertTrue(
                    error
                            || List.of(NBD_REP_ACK, NBD_REP_SERVER, NBD_REP_INFO, NBD_REP_META_CONTEXT)
                                    .contains(type),
                    "reply type " + type);
            if (error || type == NBD_REP_ACK) {
                last = option;
                go = option == NBD_OPT_GO && type == NBD_REP_ACK;
                answered++;
            }
        }
        if (session != null && !go) {
            // NBD_OPT_EXPORT_NAME: the export's size and flags, then 124 zeroes unless NO_ZEROES.
            assertTrue(out.remaining() == 10 || out.remaining() == 134, "NBD_OPT_EXPORT_NAME's reply");
            out.position(out.limit());
        }
        assertEquals(0, out.remaining(), "bytes after the last whole reply");
        if (session != null) {
            assertTrue(session.export() == DMP1 || session.export() == DMP2);
        } else if (!refused && last != NBD_OPT_ABORT) {
            assertEquals(options.size(), answered, "options left unanswered when the client went away");
        }
    }

    /** The options of the whole frames the client sent after its flags, as far as they are well-formed. */
    private static List<Integer> clientOptions(byte[] sent) {
        ByteBuffer in = ByteBuffer.wrap(sent);
        List<Integer> options = new ArrayList<>();
        if (in.remaining() < 4) {
            return options;
        }
        in.getInt();
        while (in.remaining() >= 16 && in.getLong() == IHAVEOPT) {
            int option = in.getInt();
            long length = Integer.toUnsignedLong(in.getInt());
            if (length > MAX_OPTION_LENGTH || length > in.remaining()) {
                break;
            }
            in.position(in.position() + (int) length);
            options.add(option);
        }
        return options;
    }
}
