package dev.dmp.controller.dashboard;

/** Requests and bytes per second, for reads and writes, over some interval. */
public record Rate(double readRequests, double writeRequests, double readBytes, double writeBytes) {
    public static final Rate ZERO = new Rate(0, 0, 0, 0);

    public Rate plus(Rate o) {
        return new Rate(
                readRequests + o.readRequests,
                writeRequests + o.writeRequests,
                readBytes + o.readBytes,
                writeBytes + o.writeBytes);
    }
}
