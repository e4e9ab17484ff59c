package dev.dmp.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A renderer for the plain Kustomize base in deploy/kubernetes and the overlays on it: the resources,
 * in order (files, or directories holding a kustomization of their own), the namespace transformer,
 * then the patches: JSON patches ({@link JsonPatch}) on the object their target names, and the one
 * strategic merge patch an overlay here needs, {@code $patch: delete} of an object. That is all
 * `kubectl kustomize` does to kustomizations that use nothing else. Any other field or kind of patch is
 * refused, so that a kustomization grown beyond this stops the test with a message instead of being
 * rendered wrong (the tests also compare with kubectl).
 */
public record Kustomization(Path dir, String namespace, List<String> resources, List<Patch> patches) {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> SUPPORTED = Set.of("apiVersion", "kind", "namespace", "resources", "patches");

    /** One entry of {@code patches}: its file and, for a JSON patch, the kind and name of its target. */
    public record Patch(String path, String kind, String name) {}
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
        List<Patch> patches = new ArrayList<>();
        for (JsonNode p : k.path("patches")) {
            JsonNode target = p.path("target");
            if (!p.has("path") || p.size() > 2 || target.size() > 2) {
                throw new IllegalArgumentException("kustomization.yaml: patch " + p + " is not rendered by "
                        + Kustomization.class.getName() + " (it knows path, and target with kind and name)");
            }
            patches.add(new Patch(
                    p.path("path").asText(),
                    target.path("kind").asText(null),
                    target.path("name").asText(null)));
        }
        return new Kustomization(dir, k.path("namespace").asText(null), List.copyOf(resources), List.copyOf(patches));
    }

    /** Every object, in resource order, as kustomize would print it (modulo order). */
    public List<ObjectNode> render() throws IOException {
        List<ObjectNode> out = new ArrayList<>();
        for (String resource : resources) {
            if (Files.isDirectory(dir.resolve(resource))) {
                for (ObjectNode o : load(dir.resolve(resource)).render()) {
                    out.add(withNamespace(o));
                }
                continue;
            }
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
        for (Patch patch : patches) {
            apply(patch, out);
        }
        return out;
    }

    private void apply(Patch patch, List<ObjectNode> objects) throws IOException {
        JsonNode body = YAML.readTree(dir.resolve(patch.path()).toFile());
        if (body.isArray()) {
            ObjectNode target = objects.stream()
                    .filter(o -> o.path("kind").asText().equals(patch.kind())
                            && o.path("metadata").path("name").asText().equals(patch.name()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(
                            patch.path() + ": no " + patch.kind() + "/" + patch.name() + " to patch"));
            JsonPatch.apply(target, body, patch.path());
        } else if (body.path("$patch").asText().equals("delete") && patch.kind() == null) {
            String kind = body.path("kind").asText();
            String name = body.path("metadata").path("name").asText();
            if (!objects.removeIf(o -> o.path("kind").asText().equals(kind)
                    && o.path("metadata").path("name").asText().equals(name))) {
                throw new IllegalArgumentException(patch.path() + ": no " + kind + "/" + name + " to delete");
            }
        } else {
            throw new IllegalArgumentException(patch.path()
                    + ": only JSON patches and `$patch: delete` are rendered by " + Kustomization.class.getName());
        }
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
