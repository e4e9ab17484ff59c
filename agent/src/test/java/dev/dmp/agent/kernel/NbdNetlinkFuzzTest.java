package dev.dmp.agent.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.dmp.agent.fuzz.HeapBudget;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;

/**
 * What one recv(2) on the generic netlink socket may return, as a kernel (or whoever can write to that
 * socket) could send it: {@link NbdNetlink#parse} either rejects it as malformed
 * ({@link IllegalArgumentException} "malformed ...", its documented error) or returns one reply per message whose
 * attributes, laid out again (length, type, value, padding), are the bytes of the message they came
 * from, up to where the parser stopped at an attribute that does not fit.
 */
class NbdNetlinkFuzzTest {
    @FuzzTest
    void parsesWholeMessagesOrRejectsThemAsMalformed(byte[] received) throws Exception {
        List<NbdNetlink.Reply> replies;
        try {
            replies = HeapBudget.within(
                    received.length, "the netlink parser", () -> NbdNetlink.parse(received, received.length));
        } catch (IllegalArgumentException e) {
            // Its own refusal, not a buffer's complaint (ByteBuffer.position throws this type too).
            assertTrue(e.getMessage().startsWith("malformed "), e.toString());
            return;
        }
        ByteBuffer in = ByteBuffer.wrap(received).order(ByteOrder.nativeOrder());
        for (NbdNetlink.Reply r : replies) {
            assertTrue(in.remaining() >= NbdNetlink.NLMSG_HDRLEN, "a reply where no message began");
            int start = in.position();
            int length = in.getInt(start);
            assertEquals(Short.toUnsignedInt(in.getShort(start + 4)), r.type());
            assertEquals(in.getInt(start + 8), r.seq());
            if (r.type() != NbdNetlink.NLMSG_ERROR && r.type() != NbdNetlink.NLMSG_DONE) {
                byte[] laidOut = layOut(r.attrs());
                int attrsAt = start + NbdNetlink.NLMSG_HDRLEN + NbdNetlink.GENL_HDRLEN;
                assertTrue(attrsAt + laidOut.length <= start + NbdNetlink.align(length), "attributes past the message");
                // The last attribute's padding may lie past what was received: compared up to there.
                byte[] original = new byte[Math.min(laidOut.length, received.length - attrsAt)];
                in.get(attrsAt, original);
                clearNestedFlags(original);
                assertEquals(
                        HexFormat.of().formatHex(original),
                        HexFormat.of().formatHex(java.util.Arrays.copyOf(laidOut, original.length)));
            }
            in.position(Math.min(received.length, start + NbdNetlink.align(length)));
        }
        assertTrue(in.remaining() < NbdNetlink.NLMSG_HDRLEN, "a whole message left out");
    }

    /** The attributes as nlattr: length (header included), type, value, padded to 4 bytes. */
    private static byte[] layOut(List<NbdNetlink.Attr> attrs) {
        int n = 0;
        for (NbdNetlink.Attr a : attrs) {
            n += NbdNetlink.align(4 + a.value().length);
        }
        ByteBuffer out = ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
        for (NbdNetlink.Attr a : attrs) {
            int start = out.position();
            out.putShort((short) (4 + a.value().length))
                    .putShort((short) a.type())
                    .put(a.value());
            out.position(start + NbdNetlink.align(4 + a.value().length));
        }
        return out.array();
    }

    /** The parser drops NLA_F_NESTED from types, and the padding is not its business: both are cleared. */
    private static void clearNestedFlags(byte[] attrs) {
        ByteBuffer b = ByteBuffer.wrap(attrs).order(ByteOrder.nativeOrder());
        while (b.remaining() >= 4) {
            int start = b.position();
            int length = Short.toUnsignedInt(b.getShort(start));
            b.putShort(start + 2, (short) (b.getShort(start + 2) & ~NbdNetlink.NLA_F_NESTED));
            for (int i = start + length; i < Math.min(attrs.length, start + NbdNetlink.align(length)); i++) {
                attrs[i] = 0;
            }
            b.position(Math.min(attrs.length, start + NbdNetlink.align(length)));
        }
    }
}
