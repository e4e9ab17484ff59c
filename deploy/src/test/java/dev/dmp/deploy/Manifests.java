package dev.dmp.deploy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A kustomization rendered ({@link Kustomization}) and read strictly into the Kubernetes model
 * ({@link StrictModel}), keyed {@code Kind/name} in render order, with the look-ups the tests make.
 */
record Manifests(Map<String, HasMetadata> objects) {

    static Manifests render(Path dir) throws IOException {
        Map<String, HasMetadata> objects = new LinkedHashMap<>();
        for (ObjectNode o : Kustomization.load(dir).render()) {
            HasMetadata typed = StrictModel.read(o.deepCopy());
            String id = typed.getKind() + "/" + typed.getMetadata().getName();
            if (objects.put(id, typed) != null) {
                throw new AssertionError(dir + ": " + id + " twice");
            }
        }
        return new Manifests(objects);
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        HasMetadata o = objects.get(type.getSimpleName() + "/" + name);
        if (o == null) {
            throw new AssertionError("no " + type.getSimpleName() + "/" + name);
        }
        return type.cast(o);
    }

    /** The names of the container's environment: its own variables, then its ConfigMaps'. */
    List<String> envNames(Container c) {
        List<String> names = new ArrayList<>();
        if (c.getEnv() != null) {
            c.getEnv().forEach(e -> names.add(e.getName()));
        }
        names.addAll(configMapEnv(c).keySet());
        return names;
    }

    /** The values of the container's literal and ConfigMap environment (not the downward API or Secret ones). */
    Map<String, String> env(Container c) {
        Map<String, String> env = new TreeMap<>(configMapEnv(c));
        if (c.getEnv() != null) {
            for (EnvVar e : c.getEnv()) {
                if (e.getValue() != null) {
                    env.put(e.getName(), e.getValue());
                }
            }
        }
        return env;
    }

    Map<String, String> configMapEnv(Container c) {
        Map<String, String> env = new TreeMap<>();
        if (c.getEnvFrom() != null) {
            for (EnvFromSource from : c.getEnvFrom()) {
                if (from.getPrefix() != null) {
                    throw new AssertionError(c.getName() + ": envFrom with a prefix");
                }
                env.putAll(
                        get(ConfigMap.class, from.getConfigMapRef().getName()).getData());
            }
        }
        return env;
    }

    static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream()
                .filter(c -> c.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no container " + name));
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream()
                .filter(v -> v.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }
}
