package dev.dmp.controller.dashboard;

/** The old view's read and write counts of a volume at one sample, what the dashboard's rates are made of. */
public record Counts(long readRequests, long readBytes, long writeRequests, long writeBytes) {
    public static final Counts ZERO = new Counts(0, 0, 0, 0);

    public Counts plus(Counts o) {
        return new Counts(
                readRequests + o.readRequests,
                readBytes + o.readBytes,
                writeRequests + o.writeRequests,
                writeBytes + o.writeBytes);
    }
}
