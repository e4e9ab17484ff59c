package dev.dmp.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A renderer for the plain Kustomize base in deploy/kubernetes: its resources, in order, with the
 * namespace transformer applied, which is all `kubectl kustomize` does to a base that uses nothing
 * else. Any other kustomization field is refused, so that a base grown beyond this stops the test
 * with a message instead of being rendered wrong ({@code ManifestsTest} also compares with kubectl).
 */
public record Kustomization(Path dir, String namespace, List<String> resources) {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "namespace", "resources");
    /** Kinds without a namespace that a base like this could hold. */
    private static final Set<String> CLUSTER_SCOPED = Set.of(
            "Namespace",
            "PriorityClass",
            "StorageClass",
            "PersistentVolume",
            "ClusterRole",
            "ClusterRoleBinding",
            "CustomResourceDefinition");

    public static Kustomization load(Path dir) throws IOException {
        JsonNode k = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
        k.fieldNames().forEachRemaining(f -> {
            if (!SUPPORTED.contains(f)) {
                throw new IllegalArgumentException(
                        "kustomization.yaml: field '" + f + "' is not rendered by " + Kustomization.class.getName()
                                + " (it knows " + SUPPORTED + "); extend it or keep the base plain");
            }
        });
        List<String> resources = new ArrayList<>();
        k.path("resources").forEach(r -> resources.add(r.asText()));
        return new Kustomization(dir, k.path("namespace").asText(null), List.copyOf(resources));
    }

    /** Every object of the base, in resource order, as kustomize would print it (modulo order). */
    public List<ObjectNode> render() throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        for (String resource : resources) {
            try (var docs = YAML.readerFor(JsonNode.class)
                    .<JsonNode>readValues(dir.resolve(resource).toFile())) {
                while (docs.hasNext()) {
                    JsonNode doc = docs.next();
                    if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
                        continue;
                    }
                    out.add(withNamespace((ObjectNode) doc));
                }
            }
        }
        return out;
    }

    private ObjectNode withNamespace(ObjectNode object) {
        if (namespace == null) {
            return object;
        }
        ObjectNode metadata = (ObjectNode) object.get("metadata");
        if (object.path("kind").asText().equals("Namespace")) {
            metadata.put("name", namespace);
        } else if (!CLUSTER_SCOPED.contains(object.path("kind").asText())) {
            metadata.put("namespace", namespace);
        }
        return object;
    }
}
