package dev.dmp.agent.volume;

import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Which host paths a backend may open ({@code dmp.agent.allowed-paths}): a path is accepted when, with
 * {@code ..} and every symbolic link resolved, it lies inside one of the listed directories or is
 * exactly one of the listed entries (a block device, say). Without this, whoever may create volumes
 * could read and write any file the agent can.
 */
public final class AllowedPaths {
    private final List<Path> entries;

    /** {@code entries} are absolute; those that exist are compared by their real path. */
    public AllowedPaths(List<Path> entries) {
        List<Path> resolved = new ArrayList<>();
        for (Path entry : entries) {
            resolved.add(real(entry.toAbsolutePath().normalize()));
        }
        this.entries = List.copyOf(resolved);
    }

    /**
     * The real path of {@code path} if it is allowed.
     *
     * @param what the backend and parameter, for messages ("file backend: path")
     * @throws VolumeException INVALID_ARGUMENT when it is not absolute or does not exist,
     *     PERMISSION_DENIED when it resolves to a place outside every allowed entry
     */
    public Path check(String what, String path) throws VolumeException {
        if (path.isEmpty() || !Path.of(path).isAbsolute()) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, what + " must be absolute, got '" + path + "'");
        }
        Path real;
        try {
            real = Path.of(path).toRealPath();
        } catch (IOException e) {
            throw new VolumeException(
                    Status.Code.INVALID_ARGUMENT,
                    what + " " + path + " does not exist or cannot be resolved ("
                            + e.getClass().getSimpleName() + ")");
        }
        for (Path entry : entries) {
            if (real.equals(entry) || (Files.isDirectory(entry) && real.startsWith(entry))) {
                return real;
            }
        }
        String shown = real.toString().equals(path) ? path : path + " (which resolves to " + real + ")";
        throw new VolumeException(
                Status.Code.PERMISSION_DENIED,
                what + " " + shown + " is outside dmp.agent.allowed-paths [" + this
                        + "]: move it under one of those directories or add it to the list");
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    @Override
    public String toString() {
        return entries.stream().map(Path::toString).collect(Collectors.joining(", "));
    }
}
