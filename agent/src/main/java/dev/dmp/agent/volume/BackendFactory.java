package dev.dmp.agent.volume;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.FileBackend;
import dev.dmp.agent.backend.MemoryBackend;
import dev.dmp.agent.backend.NbdBackend;
import dev.dmp.agent.backend.ZeroBackend;
import dev.dmp.agent.protocol.NbdUri;
import dev.dmp.proto.v1.Backend.KindCase;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;

/**
 * Opens the {@link Backend} a volume's spec names. One opener per kind of backend: to add a backend,
 * write its class in {@code dev.dmp.agent.backend}, give the spec a field for it (volume.proto's
 * {@code Backend} oneof) and add its opener here. Paths from the spec are checked against
 * {@code dmp.agent.allowed-paths} before anything is opened.
 */
public final class BackendFactory {
    /** Opens one kind of backend from its spec. */
    private interface Opener {
        Backend open(dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException;
    }

    private final AllowedPaths allowedPaths;
    private final Map<KindCase, Opener> openers = new EnumMap<>(KindCase.class);

    public BackendFactory(AllowedPaths allowedPaths) {
        this.allowedPaths = allowedPaths;
        openers.put(
                KindCase.ZERO,
                (spec, readOnly) -> new ZeroBackend(spec.getZero().getSizeBytes()));
        openers.put(
                KindCase.MEMORY,
                (spec, readOnly) -> new MemoryBackend(spec.getMemory().getSizeBytes()));
        openers.put(KindCase.FILE, (spec, readOnly) -> openFile(spec.getFile().getPath(), readOnly));
        openers.put(KindCase.NBD, (spec, readOnly) -> openNbd(spec.getNbd().getUri()));
    }

    /** The spec's backend, open; refusals carry the gRPC code the caller gets, and leave nothing open. */
    public Backend open(dev.dmp.proto.v1.Backend spec, boolean readOnly) throws VolumeException {
        Opener opener = openers.get(spec.getKindCase());
        if (opener == null) {
            throw new VolumeException(
                    Status.Code.INVALID_ARGUMENT,
                    "a backend is required: zero {sizeBytes}, memory {sizeBytes}, file {path} or nbd {uri}");
        }
        try {
            return opener.open(spec, readOnly);
        } catch (IllegalArgumentException e) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, e.getMessage());
        }
    }

    private Backend openFile(String path, boolean readOnly) throws VolumeException {
        Path real = allowedPaths.check("file backend: path", path);
        try {
            return FileBackend.open(real, readOnly);
        } catch (IOException e) {
            throw new VolumeException(Status.Code.INVALID_ARGUMENT, "file backend: cannot open " + path + ": " + e);
        }
    }

    private Backend openNbd(String uri) throws VolumeException {
        NbdUri parsed = NbdUri.parse(uri);
        if (parsed.socket() != null) {
            allowedPaths.check("nbd backend: socket", parsed.socket().toString());
        }
        try {
            return NbdBackend.connect(parsed);
        } catch (IOException e) {
            throw new VolumeException(Status.Code.FAILED_PRECONDITION, "nbd backend: cannot reach " + e.getMessage());
        }
    }
}
