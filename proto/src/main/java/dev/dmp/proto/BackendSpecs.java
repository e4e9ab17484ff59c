package dev.dmp.proto;

import dev.dmp.proto.v1.Backend;
import dev.dmp.proto.v1.CreateVolumeRequest;
import io.grpc.Status;
import io.grpc.StatusException;

/**
 * The backend a CreateVolumeRequest asks for, checked the same way by the Controller and Agent
 * services: each refusal is INVALID_ARGUMENT with a description that says what to send instead.
 */
public final class BackendSpecs {
    private BackendSpecs() {}

    public static Backend of(CreateVolumeRequest request) throws StatusException {
        return switch (request.getBackendCase()) {
            case ZERO -> {
                if (request.getZero().getSizeBytes() == 0) {
                    throw invalid("zero.sizeBytes must be greater than 0");
                }
                yield Backend.newBuilder().setZero(request.getZero()).build();
            }
            case FILE -> {
                if (request.getFile().getPath().isEmpty()) {
                    throw invalid("file.path is required");
                }
                yield Backend.newBuilder().setFile(request.getFile()).build();
            }
            case MEMORY -> {
                if (request.getMemory().getSizeBytes() == 0) {
                    throw invalid("memory.sizeBytes must be greater than 0");
                }
                yield Backend.newBuilder().setMemory(request.getMemory()).build();
            }
            case NBD -> {
                if (request.getNbd().getUri().isEmpty()) {
                    throw invalid("nbd.uri is required");
                }
                yield Backend.newBuilder().setNbd(request.getNbd()).build();
            }
            case BACKEND_NOT_SET ->
                throw invalid("a backend is required: \"zero\":{\"sizeBytes\":\"...\"}, \"file\":{\"path\":\"...\"}, "
                        + "\"memory\":{\"sizeBytes\":\"...\"} or \"nbd\":{\"uri\":\"nbd+unix:///EXPORT?socket=...\"}");
        };
    }

    /** How the logs name a backend: "zero, 1000 bytes", "file /var/lib/dmp/disk.img". */
    public static String describe(Backend backend) {
        return switch (backend.getKindCase()) {
            case ZERO -> "zero, " + Long.toUnsignedString(backend.getZero().getSizeBytes()) + " bytes";
            case FILE -> "file " + backend.getFile().getPath();
            case MEMORY ->
                "memory, " + Long.toUnsignedString(backend.getMemory().getSizeBytes()) + " bytes";
            case NBD -> "nbd " + backend.getNbd().getUri();
            default -> backend.getKindCase().toString();
        };
    }

    private static StatusException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asException();
    }
}
