package dev.dmp.agent.stats;

/** Read and write counts at one moment (or the difference between two moments). */
public record StatsSnapshot(long readRequests, long readBytes, long writeRequests, long writeBytes) {
    public static final StatsSnapshot ZERO = new StatsSnapshot(0, 0, 0, 0);

    public StatsSnapshot minus(StatsSnapshot other) {
        return new StatsSnapshot(readRequests - other.readRequests, readBytes - other.readBytes,
                writeRequests - other.writeRequests, writeBytes - other.writeBytes);
    }

    public StatsSnapshot plus(StatsSnapshot other) {
        return new StatsSnapshot(readRequests + other.readRequests, readBytes + other.readBytes,
                writeRequests + other.writeRequests, writeBytes + other.writeBytes);
    }

    public boolean isZero() {
        return equals(ZERO);
    }
}
