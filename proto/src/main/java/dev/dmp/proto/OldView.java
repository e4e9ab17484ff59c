package dev.dmp.proto;

/**
 * The text of the old module's {@code /sys/module/dmp/stat/volumes}: for each volume, its name and a
 * read / write / total block of request counts and integer average sizes in bytes. Agent and
 * controller both print it, so it lives with the contract.
 */
public final class OldView {
    private OldView() {}

    /** Average request size in bytes, rounded down; 0 when there were no requests. */
    public static long averageSize(long bytes, long requests) {
        return requests == 0 ? 0 : Long.divideUnsigned(bytes, requests);
    }

    /** Appends {@code NAME:} and the block for one volume, host or fleet. */
    public static void appendBlock(
            StringBuilder out, String name, long readRequests, long readBytes, long writeRequests, long writeBytes) {
        out.append(name).append(":\n");
        appendOp(out, "read", readRequests, readBytes);
        appendOp(out, "write", writeRequests, writeBytes);
        appendOp(out, "total", readRequests + writeRequests, readBytes + writeBytes);
    }

    private static void appendOp(StringBuilder out, String op, long requests, long bytes) {
        out.append(op)
                .append(":\n")
                .append("  reqs: ")
                .append(Long.toUnsignedString(requests))
                .append('\n')
                .append("  avg size: ")
                .append(Long.toUnsignedString(averageSize(bytes, requests)))
                .append('\n');
    }
}
