package dev.dmp.controller.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;

/**
 * Writes protobuf messages inside the /api answers as proto3 JSON, the shape grpcurl shows for the
 * same RPCs (64-bit numbers as strings, every field even when zero), so fields the contract gains
 * later (a volume's device, a host's last_seen) reach the page without changes here.
 */
@Singleton
public class ProtoJsonCustomizer implements ObjectMapperCustomizer {
    static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().alwaysPrintFieldsWithNoPresence().omittingInsignificantWhitespace();

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.registerModule(new SimpleModule("proto3-json").addSerializer(MessageOrBuilder.class, new Serializer()));
    }

    private static final class Serializer extends StdSerializer<MessageOrBuilder> {
        Serializer() {
            super(MessageOrBuilder.class);
        }

        @Override
        public void serialize(MessageOrBuilder value, JsonGenerator gen, SerializerProvider provider)
                throws IOException {
            try {
                gen.writeRawValue(PRINTER.print(value));
            } catch (InvalidProtocolBufferException e) {
                throw new IOException("cannot print " + value.getClass().getSimpleName() + " as JSON", e);
            }
        }
    }
}
