package dev.dmp.agent.kernel;

import dev.dmp.agent.os.Errno;
import dev.dmp.agent.os.LibC;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The kernel's generic netlink nbd interface (Linux 4.12+): one {@code AF_NETLINK}/{@code NETLINK_GENERIC}
 * socket per operation, a request with {@code NLM_F_ACK}, and the answers read until the kernel's
 * acknowledgement ({@code NLMSG_ERROR}, 0 or a negative errno). The bytes come from {@link NbdNetlink}.
 * Every nbd command needs CAP_SYS_ADMIN (EPERM otherwise).
 */
final class NbdGenl {
    private static final int AF_NETLINK = 16;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int NETLINK_GENERIC = 16;
    private static final AtomicInteger SEQ = new AtomicInteger(1);

    private final int family;

    private NbdGenl(int family) {
        this.family = family;
    }

    /**
     * Resolves the "nbd" family with CTRL_CMD_GETFAMILY. Empty when the kernel has no such family (its
     * driver is not loaded, or predates netlink): ENOENT. Other failures are thrown.
     */
    static java.util.Optional<NbdGenl> open() throws NbdIoctlException {
        try {
            Result r = call(
                    NbdNetlink.getFamily(SEQ.getAndIncrement(), NbdNetlink.NBD_GENL_FAMILY_NAME),
                    "CTRL_CMD_GETFAMILY nbd");
            return java.util.Optional.of(new NbdGenl(r.family()
                    .orElseThrow(() -> new NbdIoctlException(
                            "CTRL_CMD_GETFAMILY nbd (no family id in the answer)", Errno.EINVAL))));
        } catch (NbdIoctlException e) {
            if (e.errno() == Errno.ENOENT) {
                return java.util.Optional.empty();
            }
            throw e;
        }
    }

    /** NBD_CMD_CONNECT; returns the index the kernel answers with. */
    int connect(NbdNetlink.Connect c) throws NbdIoctlException {
        Result r = call(NbdNetlink.connect(family, SEQ.getAndIncrement(), c), "NBD_CMD_CONNECT /dev/nbd" + c.index());
        return r.index().orElse(c.index());
    }

    void reconfigure(int index, String backend, long timeoutSeconds, long deadConnSeconds, int socketFd)
            throws NbdIoctlException {
        call(
                NbdNetlink.reconfigure(
                        family, SEQ.getAndIncrement(), index, backend, timeoutSeconds, deadConnSeconds, socketFd),
                "NBD_CMD_RECONFIGURE /dev/nbd" + index);
    }

    void disconnect(int index) throws NbdIoctlException {
        call(NbdNetlink.disconnect(family, SEQ.getAndIncrement(), index), "NBD_CMD_DISCONNECT /dev/nbd" + index);
    }

    /** What the answers carried besides the ACK. */
    private record Result(OptionalInt family, OptionalInt index) {}

    private static Result call(byte[] request, String what) throws NbdIoctlException {
        LibC c = LibC.get();
        int fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
        if (fd < 0) {
            throw new NbdIoctlException(what + ": socket(AF_NETLINK)", LibC.errno());
        }
        try {
            // struct sockaddr_nl: family, pad, port id 0 (the kernel), no groups.
            byte[] kernel = ByteBuffer.allocate(12)
                    .order(ByteOrder.nativeOrder())
                    .putShort((short) AF_NETLINK)
                    .array();
            if (c.sendto(fd, request, request.length, 0, kernel, kernel.length) < 0) {
                throw new NbdIoctlException(what + ": sendto", LibC.errno());
            }
            int seq = ByteBuffer.wrap(request).order(ByteOrder.nativeOrder()).getInt(8);
            byte[] buf = new byte[16384];
            OptionalInt familyId = OptionalInt.empty();
            OptionalInt index = OptionalInt.empty();
            while (true) {
                long n;
                do {
                    n = c.recv(fd, buf, buf.length, 0);
                } while (n < 0 && LibC.errno() == Errno.EINTR);
                if (n < 0) {
                    throw new NbdIoctlException(what + ": recv", LibC.errno());
                }
                for (NbdNetlink.Reply r : NbdNetlink.parse(buf, (int) n)) {
                    if (r.seq() != seq) {
                        continue;
                    }
                    if (r.type() == NbdNetlink.NLMSG_ERROR) {
                        if (r.errno() != 0) {
                            throw new NbdIoctlException(what, r.errno());
                        }
                        return new Result(familyId, index);
                    }
                    if (r.cmd() == NbdNetlink.CTRL_CMD_NEWFAMILY && r.type() == NbdNetlink.GENL_ID_CTRL) {
                        familyId = r.intAttr(NbdNetlink.CTRL_ATTR_FAMILY_ID);
                    } else {
                        index = r.intAttr(NbdNetlink.NBD_ATTR_INDEX);
                    }
                }
            }
        } finally {
            c.close(fd);
        }
    }
}
