package dev.dmp.controller.ops;

import dev.dmp.proto.VolumeName;
import dev.dmp.proto.v1.Scope;
import io.grpc.Status;
import io.grpc.StatusException;

/** Argument checks shared by the Controller RPCs; each failure says what to change. */
public final class RequestChecks {
    private RequestChecks() {}

    public static void required(String field, String value) throws StatusException {
        if (value.isEmpty()) {
            throw invalid(field + " is required");
        }
    }

    public static void volumeName(String name) throws StatusException {
        String problem = VolumeName.problem(name);
        if (problem != null) {
            throw invalid(problem);
        }
    }

    /**
     * Checks scope against host and volume. With {@code exact} (ResetStats) VOLUME needs both and HOST
     * needs a host, since a reset must name what it resets; queries may leave them empty to mean all.
     */
    public static void scope(Scope scope, String host, String volume, boolean exact) throws StatusException {
        switch (scope) {
            case VOLUME -> {
                if (exact) {
                    required("host", host);
                    required("volume", volume);
                }
                if (!volume.isEmpty() && host.isEmpty()) {
                    throw invalid("scope VOLUME with a volume name needs the host too");
                }
            }
            case HOST -> {
                if (exact) {
                    required("host", host);
                }
                if (!volume.isEmpty()) {
                    throw invalid("scope HOST takes no volume; use scope VOLUME for one volume");
                }
            }
            case FLEET -> {
                if (!host.isEmpty() || !volume.isEmpty()) {
                    throw invalid("scope FLEET takes no host or volume; use HOST or VOLUME to narrow it");
                }
            }
            default -> throw invalid("scope is required: VOLUME, HOST or FLEET");
        }
    }

    public static StatusException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asException();
    }
}
