package dev.dmp.agent.protocol;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;

/**
 * Where an NBD export lives, as a URI of the NBD URI spec (NetworkBlockDevice/nbd {@code doc/uri.md}):
 * {@code nbd+unix:///EXPORT?socket=PATH} or {@code nbd://HOST[:PORT]/EXPORT}. TLS ({@code nbds}) and
 * vsock are not supported. Exactly one of {@code socket} and {@code host} is set.
 */
public record NbdUri(String export, Path socket, String host, int port) {
    public static final int DEFAULT_PORT = 10809;

    /** Parses {@code text}; the message of the exception says what is wrong and what is accepted. */
    public static NbdUri parse(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw bad(text, e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme();
        String path = uri.getPath() == null ? "" : uri.getPath();
        String export = path.startsWith("/") ? path.substring(1) : path;
        if (export.length() > NbdProtocol.MAX_NAME_LENGTH) {
            throw bad(text, "the export name is over " + NbdProtocol.MAX_NAME_LENGTH + " bytes");
        }
        switch (scheme) {
            case "nbd+unix" -> {
                if (uri.getRawAuthority() != null) {
                    throw bad(text, "nbd+unix takes no host: write nbd+unix:///EXPORT?socket=PATH (three slashes)");
                }
                String socket = queryParameter(uri, "socket");
                if (socket == null || !socket.startsWith("/")) {
                    throw bad(text, "nbd+unix needs ?socket=ABSOLUTE_PATH");
                }
                return new NbdUri(export, Path.of(socket), null, 0);
            }
            case "nbd" -> {
                if (uri.getHost() == null) {
                    throw bad(text, "nbd:// needs a host: nbd://HOST[:PORT]/EXPORT");
                }
                int port = uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort();
                String host = uri.getHost().startsWith("[")
                        ? uri.getHost().substring(1, uri.getHost().length() - 1)
                        : uri.getHost();
                return new NbdUri(export, null, host, port);
            }
            default ->
                throw bad(
                        text,
                        "scheme '" + scheme
                                + "' is not supported; use nbd+unix:///EXPORT?socket=PATH or nbd://HOST[:PORT]/EXPORT");
        }
    }

    /** The address to connect to. */
    public SocketAddress address() {
        return socket != null ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return socket != null
                ? "nbd+unix:///" + export + "?socket=" + socket
                : "nbd://" + host + ":" + port + "/" + export;
    }

    private static String queryParameter(URI uri, String name) {
        if (uri.getQuery() == null) {
            return null;
        }
        for (String pair : uri.getQuery().split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                return pair.substring(eq + 1);
            }
        }
        return null;
    }

    private static IllegalArgumentException bad(String text, String why) {
        return new IllegalArgumentException("nbd backend: uri '" + text + "': " + why);
    }
}
