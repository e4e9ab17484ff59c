package dev.dmp.proto;

import java.util.regex.Pattern;

/** Volume names: 1-63 characters of a-z 0-9 . _ -, and never "." or ".." (names may become paths). */
public final class VolumeName {
    private static final Pattern VALID = Pattern.compile("[a-z0-9._-]{1,63}");

    private VolumeName() {}

    /** Returns why {@code name} is not a valid volume name, or null when it is. */
    public static String problem(String name) {
        if (name == null || name.isEmpty()) {
            return "volume name is required (1-63 characters of a-z 0-9 . _ -)";
        }
        if (!VALID.matcher(name).matches()) {
            return "invalid volume name '" + name + "': use 1-63 characters of a-z 0-9 . _ -";
        }
        if (name.equals(".") || name.equals("..")) {
            return "invalid volume name '" + name + "': '.' and '..' are reserved";
        }
        return null;
    }
}
