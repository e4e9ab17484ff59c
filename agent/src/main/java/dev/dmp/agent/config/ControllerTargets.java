package dev.dmp.agent.config;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The controllers an agent may dial ({@code dmp.agent.controller}): one {@code host:port}, or several
 * separated by commas (replicas of one controller on PostgreSQL, docs/replication.md). A host may also
 * be a DNS name with several addresses; that is the link's business, not this list's.
 *
 * <p>A bad value names the key and every bad entry, so one start-up tells the operator all there is
 * to fix. A single target keeps the message it always had.
 */
public record ControllerTargets(List<String> targets) {
    static final String KEY = "dmp.agent.controller";
    private static final Pattern HOST = Pattern.compile("\\[[0-9a-fA-F:.]+]|[A-Za-z0-9._-]+");
    private static final Pattern PORT = Pattern.compile("\\d{1,5}");

    public ControllerTargets {
        targets = List.copyOf(targets);
    }

    /** The targets of {@code value}, already trimmed and not empty. */
    static ControllerTargets parse(String value) {
        String[] entries = value.split(",", -1);
        if (entries.length == 1) {
            if (problem(value) != null) {
                throw new IllegalArgumentException(
                        KEY + ": '" + value
                                + "' is not host:port (for example controller.dmp.svc:8080); leave it empty for a standalone agent");
            }
            return new ControllerTargets(List.of(value));
        }
        List<String> targets = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < entries.length; i++) {
            String entry = entries[i].trim();
            String which = "entry " + (i + 1) + " of " + entries.length;
            String problem = problem(entry);
            if (problem != null) {
                problems.add(which + (entry.isEmpty() ? "" : ", '" + entry + "',") + " " + problem);
            } else if (targets.contains(entry)) {
                problems.add(which + ", '" + entry + "', repeats entry " + (targets.indexOf(entry) + 1));
            }
            targets.add(entry);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(KEY + ": '" + value
                    + "' is not a list of host:port separated by commas (for example c1.dmp.svc:8080,c2.dmp.svc:8080): "
                    + String.join("; ", problems));
        }
        return new ControllerTargets(targets);
    }

    /** What is wrong with one {@code host:port} entry, or null when nothing is. */
    private static String problem(String entry) {
        if (entry.isEmpty()) {
            return "is empty";
        }
        int colon = entry.lastIndexOf(':');
        if (colon < 0 || entry.endsWith("]")) {
            return "has no port";
        }
        String port = entry.substring(colon + 1);
        if (!PORT.matcher(port).matches() || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
            return "has port '" + port + "', not 1-65535";
        }
        if (!HOST.matcher(entry.substring(0, colon)).matches()) {
            return "is not host:port";
        }
        return null;
    }

    /** The targets as they are configured, separated by commas: for logs and the readiness check. */
    @Override
    public String toString() {
        return String.join(",", targets);
    }
}
