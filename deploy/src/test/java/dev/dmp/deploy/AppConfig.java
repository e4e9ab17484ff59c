package dev.dmp.deploy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one app reads: the keys of its {@code @ConfigMapping} interface and of its
 * application.properties, and the environment variable names that Quarkus maps to them.
 */
public record AppConfig(Properties properties, Set<String> keys) {

    /** The keys of the app's {@code @ConfigMapping} interfaces (its own, and the shared ones it reads) and properties. */
    public static AppConfig of(Path applicationProperties, Class<?>... mappings) throws IOException {
        Properties properties = new Properties();
        try (Reader r = Files.newBufferedReader(applicationProperties)) {
            properties.load(r);
        }
        Set<String> keys = new TreeSet<>(properties.stringPropertyNames());
        for (Class<?> mapping : mappings) {
            addKeys(mapping, mapping.getAnnotation(ConfigMapping.class).prefix(), keys);
        }
        return new AppConfig(properties, Set.copyOf(keys));
    }

    /** The keys of one mapping interface under {@code prefix}; a group (a nested interface) adds its own under its name. */
    private static void addKeys(Class<?> mapping, String prefix, Set<String> keys) {
        for (Method m : mapping.getDeclaredMethods()) {
            if (m.getParameterCount() == 0 && !m.isDefault() && !m.isSynthetic()) {
                WithName name = m.getAnnotation(WithName.class);
                String key = prefix + "." + (name != null ? name.value() : kebab(m.getName()));
                if (m.getReturnType().isInterface() && m.getReturnType().getEnclosingClass() == mapping) {
                    addKeys(m.getReturnType(), key, keys);
                } else {
                    keys.add(key);
                }
            }
        }
    }

    /** The key an environment variable sets, or null when the app reads no such key. */
    public String keyOf(String envName) {
        return keys.stream().filter(k -> envName(k).equals(envName)).findFirst().orElse(null);
    }

    public String property(String key) {
        String v = properties.getProperty(key);
        if (v == null) {
            throw new IllegalArgumentException("application.properties has no " + key);
        }
        return v;
    }

    /** SmallRye Config's rule: every character that is not a letter or digit becomes '_', upper case. */
    static String envName(String key) {
        return key.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    }

    static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
}
