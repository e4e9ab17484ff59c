package dev.dmp.controller.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Status;
import jakarta.ws.rs.core.Response;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ApiErrorTest {
    @ParameterizedTest
    @CsvSource({
        "INVALID_ARGUMENT,400",
        "NOT_FOUND,404",
        "ALREADY_EXISTS,409",
        "FAILED_PRECONDITION,412",
        "UNAVAILABLE,503",
        "INTERNAL,500"
    })
    void grpcCodesBecomeHttpStatuses(Status.Code code, int http) {
        Response r =
                ApiError.response(Status.fromCode(code).withDescription("why").asException());
        assertEquals(http, r.getStatus());
        assertEquals(new ApiError(code.name(), "why"), r.getEntity());
    }

    @Test
    void theStatusInsideAFailedFutureIsAnswered() {
        Response r = ApiError.response(new CompletionException(Status.FAILED_PRECONDITION
                .withDescription("host 'a' is offline")
                .asException()));
        assertEquals(412, r.getStatus());
        assertEquals(new ApiError("FAILED_PRECONDITION", "host 'a' is offline"), r.getEntity());
    }
}
