package dev.dmp.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON patch operations the overlays use, and the failures that must stop a render as kubectl's do. */
class JsonPatchTest {
    private static ObjectNode yaml(String text) throws Exception {
        return (ObjectNode) Kustomization.YAML.readTree(text);
    }

    @Test
    void addRemoveReplaceAndTestAsRfc6902Says() throws Exception {
        ObjectNode pod = yaml("""
                spec: {replicas: 1, volumes: [{name: data}, {name: tmp}], env: [{name: A}]}
                """);
        JsonPatch.apply(pod, Kustomization.YAML.readTree("""
                        - {op: test, path: /spec/volumes/0/name, value: data}
                        - {op: remove, path: /spec/volumes/0}
                        - {op: add, path: /spec/volumes/-, value: {name: secret}}
                        - {op: add, path: /spec/env/0, value: {name: FIRST}}
                        - {op: replace, path: /spec/replicas, value: 3}
                        - {op: add, path: /spec/strategy, value: {type: RollingUpdate}}
                        """), "p.yaml");
        assertEquals(yaml("""
                        spec:
                          replicas: 3
                          volumes: [{name: tmp}, {name: secret}]
                          env: [{name: FIRST}, {name: A}]
                          strategy: {type: RollingUpdate}
                        """), pod);
    }

    /** The message with which {@code operations}, a YAML list, are refused on {@code target}. */
    private static String refusal(ObjectNode target, String operations) {
        return assertThrows(
                        IllegalArgumentException.class,
                        () -> JsonPatch.apply(target, Kustomization.YAML.readTree(operations), "p.yaml"))
                .getMessage();
    }

    @Test
    void aFailedTestOrAMissingPathStopsTheRender() throws Exception {
        ObjectNode pod = yaml("spec: {volumes: [{name: tmp}]}");
        Map<String, String> refused = new LinkedHashMap<>();
        refused.put(
                "[{op: test, path: /spec/volumes/0/name, value: data}]",
                "p.yaml: test /spec/volumes/0/name: found \"tmp\", not \"data\"");
        refused.put(
                "[{op: remove, path: /spec/volumes/1}]",
                "p.yaml: remove /spec/volumes/1: no index 1 in [{\"name\":\"tmp\"}]");
        refused.put("[{op: replace, path: /spec/replicas, value: 3}]", "p.yaml: replace /spec/replicas: nothing there");
        refused.put(
                "[{op: add, path: /spec/template/labels, value: {}}]",
                "p.yaml: add /spec/template/labels: no object or list at /spec/template");
        refused.forEach((operations, message) -> assertEquals(message, refusal(pod, operations), operations));
    }
}
