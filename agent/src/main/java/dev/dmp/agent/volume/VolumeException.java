package dev.dmp.agent.volume;

import io.grpc.Status;

/** A volume operation that was refused; the code is the gRPC status an API caller gets. */
public class VolumeException extends Exception {
    private final Status.Code code;

    public VolumeException(Status.Code code, String message) {
        super(message);
        this.code = code;
    }

    public Status.Code code() {
        return code;
    }

    public Status toStatus() {
        return Status.fromCode(code).withDescription(getMessage());
    }
}
