package dev.dmp.controller.http;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.StatusException;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns failures thrown by the synchronous /api methods into {@link ApiError} answers. */
public class ApiExceptionMappers {
    @ServerExceptionMapper
    public Response status(StatusException e) {
        return ApiError.response(e);
    }

    @ServerExceptionMapper
    public Response badJson(InvalidProtocolBufferException e) {
        return ApiError.response(e);
    }
}
