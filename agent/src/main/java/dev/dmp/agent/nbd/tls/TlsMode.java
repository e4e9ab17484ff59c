package dev.dmp.agent.nbd.tls;

/**
 * Whether the NBD listeners offer TLS ({@code dmp.agent.nbd-tls}), as nbdkit's {@code --tls}: off (the
 * default) refuses NBD_OPT_STARTTLS; on offers it and serves plaintext clients too; require refuses every
 * option but NBD_OPT_STARTTLS and NBD_OPT_ABORT until the connection is encrypted.
 */
public enum TlsMode {
    OFF,
    ON,
    REQUIRE;

    /** The setting's value: off, on or require. */
    public static TlsMode parse(String value) {
        return switch (value.trim()) {
            case "off" -> OFF;
            case "on" -> ON;
            case "require" -> REQUIRE;
            default ->
                throw new IllegalArgumentException("dmp.agent.nbd-tls: '" + value
                        + "' is not off (no TLS), on (TLS offered, plaintext allowed) or require (TLS only)");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
