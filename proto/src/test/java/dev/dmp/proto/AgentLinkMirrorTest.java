package dev.dmp.proto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.DescriptorProto.ReservedRange;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.dmp.proto.v1.AgentMessage;
import dev.dmp.proto.v1.AgentMessageIn;
import dev.dmp.proto.v1.StatsDelta;
import dev.dmp.proto.v1.StatsDeltaIn;
import dev.dmp.proto.v1.VolumeDelta;
import dev.dmp.proto.v1.VolumeDeltaIn;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * agent_link_in.proto is the controller's reading of what agents write with agent_link.proto: every
 * field of {@code AgentMessage}, and of the messages it holds, has a field of the same name, number,
 * type, label and oneof in {@code AgentMessageIn}, and the other way round, except for the differences
 * listed in {@link #ALLOWED}. A field added to one file and not the other fails here, named.
 */
class AgentLinkMirrorTest {

    /** Each agent_link.proto message that agent_link_in.proto reads differently, with its mirror. */
    private static final Map<Descriptor, Descriptor> MIRRORS = Map.of(
            AgentMessage.getDescriptor(), AgentMessageIn.getDescriptor(),
            StatsDelta.getDescriptor(), StatsDeltaIn.getDescriptor(),
            VolumeDelta.getDescriptor(), VolumeDeltaIn.getDescriptor());

    /** A deliberate difference: the field as agents write it, as the controller reads it, and why the bytes agree. */
    private record Allowed(String field, String written, String read, String why) {}

    private static final List<Allowed> ALLOWED = List.of(new Allowed(
            "dmp.v1.VolumeDelta.ops",
            "repeated message dmp.v1.OpCounters",
            "repeated bytes",
            "a message is length-delimited bytes on the wire; the controller adds them without parsing"
                    + " them into messages (OpCountersCodec.addEncoded)"));

    @Test
    void agentMessageInMirrorsAgentMessageFieldByField() {
        List<String> problems = new ArrayList<>();
        Set<String> allowedSeen = new HashSet<>();
        Set<Descriptor> reached = new HashSet<>();
        compare(AgentMessage.getDescriptor(), AgentMessageIn.getDescriptor(), problems, allowedSeen, reached);
        for (Descriptor d : MIRRORS.keySet()) {
            if (!reached.contains(d)) {
                problems.add(d.getFullName() + ": listed in MIRRORS but not held by AgentMessage any more");
            }
        }
        for (Allowed a : ALLOWED) {
            if (!allowedSeen.contains(a.field())) {
                problems.add(a.field() + ": listed in ALLOWED as " + a.written() + " read as " + a.read()
                        + ", which is no longer the difference");
            }
        }
        assertTrue(
                problems.isEmpty(),
                () -> "agent_link_in.proto does not mirror agent_link.proto:\n  " + String.join("\n  ", problems));
    }

    /** Compares {@code written} (agent_link.proto) with {@code read} (its mirror), recursing into mirrored fields. */
    private static void compare(
            Descriptor written,
            Descriptor read,
            List<String> problems,
            Set<String> allowedSeen,
            Set<Descriptor> reached) {
        if (!reached.add(written)) {
            return;
        }
        if (!reservedOf(written).equals(reservedOf(read))) {
            problems.add(written.getFullName() + ": reserves " + reservedOf(written) + ", " + read.getFullName()
                    + " reserves " + reservedOf(read));
        }
        Set<Integer> numbers = new TreeSet<>();
        written.getFields().forEach(f -> numbers.add(f.getNumber()));
        read.getFields().forEach(f -> numbers.add(f.getNumber()));
        for (int number : numbers) {
            FieldDescriptor w = written.findFieldByNumber(number);
            FieldDescriptor r = read.findFieldByNumber(number);
            if (r == null) {
                problems.add(w.getFullName() + " (" + number + ", " + shape(w) + "): " + read.getFullName()
                        + " has no field " + number);
            } else if (w == null) {
                problems.add(r.getFullName() + " (" + number + ", " + shape(r) + "): " + written.getFullName()
                        + " has no field " + number);
            } else if (!w.getName().equals(r.getName())) {
                problems.add(w.getFullName() + " (" + number + "): named " + r.getName() + " in " + read.getFullName());
            } else if (isMirror(w, r)) {
                compare(w.getMessageType(), r.getMessageType(), problems, allowedSeen, reached);
            } else if (!shape(w).equals(shape(r))) {
                Allowed a = allowed(w, r);
                if (a == null) {
                    problems.add(w.getFullName() + " (" + number + "): " + shape(w) + ", read as " + shape(r) + " by "
                            + r.getFullName());
                } else if (w.getLiteType().getWireType() != r.getLiteType().getWireType()) {
                    problems.add(w.getFullName() + ": ALLOWED, but " + shape(w) + " and " + shape(r)
                            + " differ on the wire");
                } else {
                    allowedSeen.add(a.field());
                }
            }
        }
    }

    /** Two message fields whose types are a pair of {@link #MIRRORS}, alike otherwise. */
    private static boolean isMirror(FieldDescriptor w, FieldDescriptor r) {
        return w.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && r.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && MIRRORS.get(w.getMessageType()) == r.getMessageType()
                && w.isRepeated() == r.isRepeated()
                && oneof(w).equals(oneof(r));
    }

    private static Allowed allowed(FieldDescriptor w, FieldDescriptor r) {
        for (Allowed a : ALLOWED) {
            if (a.field().equals(w.getFullName())
                    && a.written().equals(shape(w))
                    && a.read().equals(shape(r))) {
                return a;
            }
        }
        return null;
    }

    /** What decides how a field's bytes are written and read: label, packing, type, oneof. */
    private static String shape(FieldDescriptor f) {
        String type = switch (f.getJavaType()) {
            case MESSAGE -> "message " + f.getMessageType().getFullName();
            case ENUM -> "enum " + f.getEnumType().getFullName();
            default -> f.getType().name().toLowerCase();
        };
        return (f.isRepeated() ? f.isPacked() ? "repeated packed " : "repeated " : "") + type + oneof(f);
    }

    private static String oneof(FieldDescriptor f) {
        return f.getRealContainingOneof() == null
                ? ""
                : " in oneof " + f.getRealContainingOneof().getName();
    }

    private static String reservedOf(Descriptor d) {
        List<String> out = new ArrayList<>();
        for (ReservedRange r : d.toProto().getReservedRangeList()) {
            out.add(r.getEnd() - 1 == r.getStart() ? "" + r.getStart() : r.getStart() + "-" + (r.getEnd() - 1));
        }
        out.addAll(d.toProto().getReservedNameList());
        return out.toString();
    }

    @Test
    void theControllerReadsAnAgentsDeltaWhollyAndWritesTheSameBytesBack() throws Exception {
        CounterSet counts = CounterSet.empty();
        counts.record(CounterSet.READ, 4096, 0, 1000);
        counts.record(CounterSet.WRITE, 512, 28, 1L << 40);
        AgentMessage sent = AgentMessage.newBuilder()
                .setDelta(StatsDelta.newBuilder()
                        .setSeq(7)
                        .addVolumes(VolumeDelta.newBuilder()
                                .setVolume("dmp1")
                                .setGeneration(2)
                                .addAllOps(counts.toProto())
                                .setInFlight(3))
                        .addVolumes(VolumeDelta.newBuilder().setVolume("dmp2")))
                .build();
        AgentMessageIn read = AgentMessageIn.parseFrom(sent.toByteArray());
        assertEquals(
                HexFormat.of().formatHex(sent.toByteArray()), HexFormat.of().formatHex(read.toByteArray()));
        assertTrue(read.getUnknownFields().asMap().isEmpty());
        assertTrue(read.getDelta().getUnknownFields().asMap().isEmpty());
        assertTrue(read.getDelta().getVolumes(0).getUnknownFields().asMap().isEmpty());
        assertEquals(
                counts.toProto().get(1).toByteString(),
                read.getDelta().getVolumes(0).getOps(1));
    }
}
