package dev.dmp.deploy;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON Patch (RFC 6902) as a kustomize overlay's {@code patches} use it: add, remove, replace and test.
 * A test that fails, or a path that is not there, stops the render with a message, as it stops
 * {@code kubectl kustomize}; move and copy are refused (no overlay here uses them).
 */
final class JsonPatch {
    private JsonPatch() {}

    /** Applies {@code operations} to {@code target} in order; {@code what} names the patch in messages. */
    static void apply(ObjectNode target, JsonNode operations, String what) {
        for (JsonNode operation : operations) {
            String op = operation.path("op").asText();
            String path = operation.path("path").asText();
            JsonPointer pointer = JsonPointer.compile(path);
            JsonNode value = operation.get("value");
            String where = what + ": " + op + " " + path;
            switch (op) {
                case "test" -> {
                    if (!target.at(pointer).equals(value)) {
                        throw new IllegalArgumentException(where + ": found " + target.at(pointer) + ", not " + value);
                    }
                }
                case "add" -> add(container(target, pointer, where), pointer.last(), value.deepCopy(), where);
                case "remove" -> remove(container(target, pointer, where), pointer.last(), where);
                case "replace" -> {
                    JsonNode parent = container(target, pointer, where);
                    remove(parent, pointer.last(), where);
                    add(parent, pointer.last(), value.deepCopy(), where);
                }
                default -> throw new IllegalArgumentException(where + ": operation not rendered by " + JsonPatch.class);
            }
        }
    }

    /** The object or array that holds the pointer's last step. */
    private static JsonNode container(ObjectNode target, JsonPointer pointer, String where) {
        JsonNode parent = target.at(pointer.head());
        if (!parent.isContainerNode()) {
            throw new IllegalArgumentException(where + ": no object or list at " + pointer.head());
        }
        return parent;
    }

    private static void add(JsonNode parent, JsonPointer step, JsonNode value, String where) {
        if (parent instanceof ObjectNode object) {
            object.set(step.getMatchingProperty(), value);
        } else if (step.getMatchingProperty().equals("-")) {
            ((ArrayNode) parent).add(value);
        } else {
            ((ArrayNode) parent).insert(index(parent, step, parent.size(), where), value);
        }
    }

    private static void remove(JsonNode parent, JsonPointer step, String where) {
        if (parent instanceof ObjectNode object) {
            if (object.remove(step.getMatchingProperty()) == null) {
                throw new IllegalArgumentException(where + ": nothing there");
            }
        } else {
            ((ArrayNode) parent).remove(index(parent, step, parent.size() - 1, where));
        }
    }

    private static int index(JsonNode array, JsonPointer step, int highest, String where) {
        int i = step.getMatchingIndex();
        if (i < 0 || i > highest) {
            throw new IllegalArgumentException(where + ": no index " + step.getMatchingProperty() + " in " + array);
        }
        return i;
    }
}
