package dev.dmp.agent.kernel;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The bytes of the kernel's generic netlink nbd interface, without any I/O: requests are built and
 * answers parsed here, so that unit tests can check both directions against hand-written bytes. Names
 * are the C names of {@code <linux/netlink.h>}, {@code <linux/genetlink.h>} and
 * {@code <linux/nbd-netlink.h>}. Netlink is in the host's byte order; every header and attribute is
 * padded to 4 bytes. A message is {@code nlmsghdr} (16 bytes), {@code genlmsghdr} (4 bytes), then
 * attributes {@code nlattr} (length u16 including its 4-byte header, type u16, value).
 */
final class NbdNetlink {
    static final int NLMSG_ERROR = 2;
    static final int NLMSG_DONE = 3;
    static final int NLM_F_REQUEST = 1;
    static final int NLM_F_ACK = 4;
    static final int NLA_F_NESTED = 0x8000;
    static final int NLMSG_HDRLEN = 16;
    static final int GENL_HDRLEN = 4;

    static final int GENL_ID_CTRL = 0x10;
    static final int CTRL_CMD_NEWFAMILY = 1;
    static final int CTRL_CMD_GETFAMILY = 3;
    static final int CTRL_ATTR_FAMILY_ID = 1;
    static final int CTRL_ATTR_FAMILY_NAME = 2;

    static final String NBD_GENL_FAMILY_NAME = "nbd";
    static final int NBD_GENL_VERSION = 1;
    static final int NBD_CMD_CONNECT = 1;
    static final int NBD_CMD_DISCONNECT = 2;
    static final int NBD_CMD_RECONFIGURE = 3;
    static final int NBD_ATTR_INDEX = 1;
    static final int NBD_ATTR_SIZE_BYTES = 2;
    static final int NBD_ATTR_BLOCK_SIZE_BYTES = 3;
    static final int NBD_ATTR_TIMEOUT = 4;
    static final int NBD_ATTR_SERVER_FLAGS = 5;
    static final int NBD_ATTR_SOCKETS = 7;
    static final int NBD_ATTR_DEAD_CONN_TIMEOUT = 8;
    static final int NBD_ATTR_BACKEND_IDENTIFIER = 10;
    static final int NBD_SOCK_ITEM = 1;
    static final int NBD_SOCK_FD = 1;

    private NbdNetlink() {}

    /** What NBD_CMD_CONNECT configures. */
    record Connect(
            int index,
            long sizeBytes,
            long blockSize,
            long serverFlags,
            long timeoutSeconds,
            long deadConnTimeoutSeconds,
            String backend,
            int socketFd) {}

    /** CTRL_CMD_GETFAMILY for a family name: the answer carries the family's id. */
    static byte[] getFamily(int seq, String name) {
        Message m = new Message(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, seq);
        m.string(CTRL_ATTR_FAMILY_NAME, name);
        return m.bytes();
    }

    /** NBD_CMD_CONNECT: configures and starts /dev/nbdINDEX on one socket. */
    static byte[] connect(int family, int seq, Connect c) {
        Message m = new Message(family, NBD_CMD_CONNECT, NBD_GENL_VERSION, seq);
        m.u32(NBD_ATTR_INDEX, c.index());
        m.u64(NBD_ATTR_SIZE_BYTES, c.sizeBytes());
        m.u64(NBD_ATTR_BLOCK_SIZE_BYTES, c.blockSize());
        m.u64(NBD_ATTR_SERVER_FLAGS, c.serverFlags());
        m.u64(NBD_ATTR_TIMEOUT, c.timeoutSeconds());
        m.u64(NBD_ATTR_DEAD_CONN_TIMEOUT, c.deadConnTimeoutSeconds());
        m.string(NBD_ATTR_BACKEND_IDENTIFIER, c.backend());
        m.socket(c.socketFd());
        return m.bytes();
    }

    /**
     * NBD_CMD_RECONFIGURE: hands a running device a new socket in place of its dead one. The backend
     * identifier must be the one given at connect (the kernel refuses another with EINVAL).
     */
    static byte[] reconfigure(
            int family,
            int seq,
            int index,
            String backend,
            long timeoutSeconds,
            long deadConnTimeoutSeconds,
            int socketFd) {
        Message m = new Message(family, NBD_CMD_RECONFIGURE, NBD_GENL_VERSION, seq);
        m.u32(NBD_ATTR_INDEX, index);
        m.string(NBD_ATTR_BACKEND_IDENTIFIER, backend);
        m.u64(NBD_ATTR_TIMEOUT, timeoutSeconds);
        m.u64(NBD_ATTR_DEAD_CONN_TIMEOUT, deadConnTimeoutSeconds);
        m.socket(socketFd);
        return m.bytes();
    }

    /** NBD_CMD_DISCONNECT: the kernel sends NBD_CMD_DISC, shuts its sockets and releases the device. */
    static byte[] disconnect(int family, int seq, int index) {
        Message m = new Message(family, NBD_CMD_DISCONNECT, NBD_GENL_VERSION, seq);
        m.u32(NBD_ATTR_INDEX, index);
        return m.bytes();
    }

    /** One message of an answer: its type, its sequence number, and after the headers its attributes. */
    record Reply(int type, int seq, int errno, int cmd, List<Attr> attrs) {
        /** The u32 or u16 value of an attribute, if present. */
        OptionalInt intAttr(int attrType) {
            for (Attr a : attrs) {
                if (a.type() == attrType && a.value().length >= 2) {
                    ByteBuffer b = ByteBuffer.wrap(a.value()).order(ByteOrder.nativeOrder());
                    return OptionalInt.of(a.value().length >= 4 ? b.getInt() : Short.toUnsignedInt(b.getShort()));
                }
            }
            return OptionalInt.empty();
        }
    }

    /** An attribute: its type (flags removed) and value (without padding). */
    record Attr(int type, byte[] value) {}

    /**
     * Parses what one recv returned: one or more messages. For NLMSG_ERROR, {@code errno} is the
     * positive errno of {@code nlmsgerr.error} (0 for an ACK); for a generic netlink message, its command
     * and attributes.
     */
    static List<Reply> parse(byte[] buf, int len) {
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len).order(ByteOrder.nativeOrder());
        List<Reply> out = new ArrayList<>();
        while (b.remaining() >= NLMSG_HDRLEN) {
            int start = b.position();
            int msgLen = b.getInt();
            int type = Short.toUnsignedInt(b.getShort());
            b.getShort(); // flags
            int seq = b.getInt();
            b.getInt(); // port id
            // Compared without adding: start + msgLen could wrap past 2^31 and pass.
            if (msgLen < NLMSG_HDRLEN || msgLen > len - start) {
                throw new IllegalArgumentException(
                        "malformed netlink message: length " + msgLen + " at " + start + " of " + len + " bytes");
            }
            int end = start + msgLen;
            if (type == NLMSG_ERROR) {
                if (msgLen < NLMSG_HDRLEN + 4) {
                    throw new IllegalArgumentException("malformed NLMSG_ERROR: length " + msgLen);
                }
                out.add(new Reply(type, seq, -b.getInt(), 0, List.of()));
            } else if (type == NLMSG_DONE) {
                out.add(new Reply(type, seq, 0, 0, List.of()));
            } else {
                if (msgLen < NLMSG_HDRLEN + GENL_HDRLEN) {
                    throw new IllegalArgumentException("malformed generic netlink message: length " + msgLen);
                }
                int cmd = Byte.toUnsignedInt(b.get());
                b.position(b.position() + 3);
                out.add(new Reply(type, seq, 0, cmd, attrs(b, end)));
            }
            b.position(Math.min(len, align(end)));
        }
        return out;
    }

    private static List<Attr> attrs(ByteBuffer b, int end) {
        List<Attr> out = new ArrayList<>();
        while (end - b.position() >= 4) {
            int start = b.position();
            int attrLen = Short.toUnsignedInt(b.getShort());
            int type = Short.toUnsignedInt(b.getShort()) & ~NLA_F_NESTED;
            if (attrLen < 4 || start + attrLen > end) {
                break;
            }
            byte[] value = new byte[attrLen - 4];
            b.get(value);
            out.add(new Attr(type, value));
            b.position(Math.min(end, align(start + attrLen)));
        }
        return out;
    }

    static int align(int n) {
        return (n + 3) & ~3;
    }

    /** A request being built: headers first, attributes appended, the length patched in at the end. */
    private static final class Message {
        private final ByteBuffer b = ByteBuffer.allocate(1024).order(ByteOrder.nativeOrder());

        Message(int family, int cmd, int version, int seq) {
            b.putInt(0)
                    .putShort((short) family)
                    .putShort((short) (NLM_F_REQUEST | NLM_F_ACK))
                    .putInt(seq)
                    .putInt(0);
            b.put((byte) cmd).put((byte) version).putShort((short) 0);
        }

        void u32(int type, int v) {
            header(type, 4).putInt(v);
        }

        void u64(int type, long v) {
            header(type, 8).putLong(v);
        }

        void string(int type, String s) {
            byte[] z = s.getBytes(StandardCharsets.UTF_8);
            header(type, z.length + 1).put(z).put((byte) 0);
            pad();
        }

        /** NBD_ATTR_SOCKETS { NBD_SOCK_ITEM { NBD_SOCK_FD fd } }: nested, 16 bytes. */
        void socket(int fd) {
            header(NBD_ATTR_SOCKETS | NLA_F_NESTED, 12);
            header(NBD_SOCK_ITEM | NLA_F_NESTED, 8);
            u32(NBD_SOCK_FD, fd);
        }

        private ByteBuffer header(int type, int valueLen) {
            return b.putShort((short) (4 + valueLen)).putShort((short) type);
        }

        private void pad() {
            while (b.position() % 4 != 0) {
                b.put((byte) 0);
            }
        }

        byte[] bytes() {
            b.putInt(0, b.position());
            byte[] out = new byte[b.position()];
            b.get(0, out);
            return out;
        }
    }
}
