package dev.dmp.controller.http;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.concurrent.CompletionException;

/**
 * The body of a failed /api call: the gRPC status code's name and its description, which says what
 * to change. The HTTP status follows the gRPC code (see docs/dashboard.md).
 */
public record ApiError(String code, String message) {

    /** The HTTP answer for a failure of an operation, whatever wrapped it. */
    public static Response response(Throwable failure) {
        Throwable cause =
                failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        Status status = switch (cause) {
            case StatusException e -> e.getStatus();
            case InvalidProtocolBufferException e ->
                Status.INVALID_ARGUMENT.withDescription("bad JSON: " + e.getMessage());
            default -> Status.INTERNAL.withDescription(cause.toString());
        };
        return Response.status(httpStatus(status.getCode()))
                .type(MediaType.APPLICATION_JSON)
                .entity(new ApiError(
                        status.getCode().name(), status.getDescription() == null ? "" : status.getDescription()))
                .build();
    }

    static int httpStatus(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS -> 409;
            case FAILED_PRECONDITION -> 412;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case UNAVAILABLE, DEADLINE_EXCEEDED -> 503;
            default -> 500;
        };
    }
}
