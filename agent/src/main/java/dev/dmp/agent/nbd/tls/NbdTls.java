package dev.dmp.agent.nbd.tls;

/**
 * TLS on the NBD listeners: the mode ({@code dmp.agent.nbd-tls}) and, unless it is off, the credentials
 * the server proves itself with. See docs/nbd.md, "TLS".
 *
 * @param credentials null exactly when the mode is {@link TlsMode#OFF}
 */
public record NbdTls(TlsMode mode, TlsCredentials credentials) {

    public NbdTls {
        if ((mode == TlsMode.OFF) != (credentials == null)) {
            throw new IllegalArgumentException(
                    "TLS " + mode + " with" + (credentials == null ? "out" : "") + " credentials");
        }
    }

    /** No TLS: NBD_OPT_STARTTLS is refused. */
    public static NbdTls off() {
        return new NbdTls(TlsMode.OFF, null);
    }
}
