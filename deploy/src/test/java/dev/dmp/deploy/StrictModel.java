package dev.dmp.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a manifest object into the fabric8 Kubernetes model and refuses anything the schema does not
 * know. fabric8 is lenient by design (unknown fields land in {@code additionalProperties}, "1" passes
 * for 1), so two checks make it strict: no object in the tree holds additional properties, and the
 * model serializes back to exactly the input (a coerced type or a dropped field shows as a difference).
 */
public final class StrictModel {
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
    private static final ObjectMapper JSON = new ObjectMapper();

    private StrictModel() {}

    public static HasMetadata read(ObjectNode object) throws IOException {
        String what = object.path("kind").asText() + "/"
                + object.path("metadata").path("name").asText();
        KubernetesResource resource = SERIALIZATION.unmarshal(object.toString());
        if (!(resource instanceof HasMetadata typed)
                || typed.getClass().getName().contains("GenericKubernetesResource")) {
            throw new IllegalArgumentException(what + ": apiVersion/kind is not in the Kubernetes model: "
                    + object.path("apiVersion").asText() + " "
                    + object.path("kind").asText());
        }
        List<String> unknown = new ArrayList<>();
        collectUnknown(typed, what, unknown, new IdentityHashMap<>());
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(what + ": fields unknown to the Kubernetes schema: " + unknown);
        }
        // Compared as JSON text read again, so that 185 read from YAML (an int) equals 185 from a Long field.
        JsonNode written = JSON.readTree(object.toString());
        JsonNode back = JSON.readTree(SERIALIZATION.asJson(typed));
        if (!back.equals(written)) {
            throw new IllegalArgumentException(what + ": does not read back as written (a wrong type?):\n  written: "
                    + object + "\n  read:    " + back);
        }
        return typed;
    }

    private static void collectUnknown(Object node, String path, List<String> unknown, Map<Object, Boolean> seen) {
        if (node == null || seen.put(node, Boolean.TRUE) != null) {
            return;
        }
        if (node instanceof Iterable<?> items) {
            int i = 0;
            for (Object item : items) {
                collectUnknown(item, path + "[" + i++ + "]", unknown, seen);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> collectUnknown(v, path + "." + k, unknown, seen));
            return;
        }
        if (!node.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : node.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(node);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(path + ": " + m, e);
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    extra.keySet().forEach(k -> unknown.add(path + "." + k));
                }
            } else if (!SCALAR_GETTERS.contains(m.getName())) {
                collectUnknown(value, path + "." + decapitalize(m.getName().substring(3)), unknown, seen);
            }
        }
    }

    /** Getters of computed or scalar values that need no descent. */
    private static final Set<String> SCALAR_GETTERS =
            Set.of("getClass", "getPlural", "getSingular", "getFullResourceName", "getApiVersion", "getKind");

    private static String decapitalize(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
