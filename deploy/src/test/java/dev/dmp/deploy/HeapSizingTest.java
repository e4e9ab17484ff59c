package dev.dmp.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The memory each pod gets holds what the benchmarks measured: the manifest's memory limit and CPU
 * request are the ones docs/deploy.md's sizing table gives for the fleet the base is sized for, the
 * heap that limit and the image's JVM options give (MaxRAMPercentage of the limit, as the JVM reads it
 * from the container's cgroup) is at least twice the measured live set (ZGC collects while the
 * application allocates and needs room meanwhile), and the measured peak RSS fits under the limit.
 * A change to the manifest, to the JVM options or to the table that breaks this fails the build.
 */
class HeapSizingTest {
    private static final Path DOC = ManifestsTest.ROOT.resolve("docs/deploy.md");

    /** One row of a sizing table: | what | limit | heap | CPU request | live set MiB | peak RSS MiB | ... */
    record Row(String what, String limit, String cpu, double liveMiB, double rssMiB) {}

    /** The row of the table under {@code heading} whose first cell contains {@code marker}. */
    static Row row(String heading, String marker) throws Exception {
        List<String> lines = Files.readAllLines(DOC);
        int at = lines.indexOf(heading);
        assertTrue(at >= 0, "docs/deploy.md has no line '" + heading + "'");
        for (int i = at + 1; i < lines.size() && !lines.get(i).startsWith("#"); i++) {
            String line = lines.get(i);
            if (line.startsWith("|") && line.contains(marker)) {
                String[] cells = Arrays.stream(line.split("\\|"))
                        .map(String::strip)
                        .skip(1)
                        .toArray(String[]::new);
                return new Row(cells[0], unquote(cells[1]), unquote(cells[3]), mib(cells[4]), mib(cells[5]));
            }
        }
        throw new AssertionError("docs/deploy.md, under '" + heading + "': no row with '" + marker + "'");
    }

    private static String unquote(String cell) {
        return cell.replace("`", "");
    }

    private static double mib(String cell) {
        Matcher m = Pattern.compile("([0-9.]+) MiB").matcher(cell);
        assertTrue(m.find(), "not a MiB figure: " + cell);
        return Double.parseDouble(m.group(1));
    }

    /** The JVM options of an app's image: its pom's quarkus.jib.jvm-additional-arguments. */
    static List<String> jvmOptions(String app) throws Exception {
        String pom = Files.readString(ManifestsTest.ROOT.resolve(app + "/pom.xml"));
        Matcher m = Pattern.compile(
                        "<quarkus.jib.jvm-additional-arguments>([^<]*)</quarkus.jib.jvm-additional-arguments>")
                .matcher(pom);
        assertTrue(m.find(), app + "/pom.xml sets no quarkus.jib.jvm-additional-arguments");
        return List.of(m.group(1).split(","));
    }

    static double ramPercentage(List<String> options) {
        return options.stream()
                .filter(o -> o.startsWith("-XX:MaxRAMPercentage="))
                .findFirst()
                .map(o -> Double.parseDouble(o.substring(o.indexOf('=') + 1)))
                .orElseThrow(() -> new AssertionError("no -XX:MaxRAMPercentage in " + options));
    }

    /** The resources of the named container of the rendered base. */
    static JsonNode resources(String kind, String container) throws Exception {
        for (ObjectNode o : Kustomization.load(ManifestsTest.BASE).render()) {
            if (o.path("kind").asText().equals(kind)) {
                for (JsonNode c : o.path("spec").path("template").path("spec").path("containers")) {
                    if (c.path("name").asText().equals(container)) {
                        return c.path("resources");
                    }
                }
            }
        }
        throw new AssertionError("no container " + container + " in a " + kind);
    }

    private static void holds(String app, String kind, Row measured) throws Exception {
        JsonNode resources = resources(kind, app);
        String limit = resources.path("limits").path("memory").asText();
        assertEquals(
                measured.limit(),
                limit,
                app + ": the manifest's memory limit is the sizing table's (" + measured.what() + ")");
        assertEquals(
                measured.cpu(),
                resources.path("requests").path("cpu").asText(),
                app + ": the manifest's CPU request is the sizing table's (" + measured.what() + ")");
        List<String> options = jvmOptions(app);
        assertTrue(
                options.contains("-XX:+ExitOnOutOfMemoryError"),
                app + ": the image's JVM must exit on OutOfMemoryError");
        double limitMiB = Quantity.getAmountInBytes(new Quantity(limit)).doubleValue() / (1 << 20);
        double heapMiB = limitMiB * ramPercentage(options) / 100;
        assertTrue(
                heapMiB >= 2 * measured.liveMiB(),
                String.format(
                        "%s: a %s limit at %s gives a %.0f MiB heap, less than twice the live set measured for %s (%.0f MiB)",
                        app, limit, options, heapMiB, measured.what(), measured.liveMiB()));
        assertTrue(
                measured.rssMiB() <= limitMiB,
                String.format(
                        "%s: the peak RSS measured for %s (%.0f MiB) is over the %s limit",
                        app, measured.what(), measured.rssMiB(), limit));
    }

    @Test
    void theControllerGetsTheMemoryMeasuredForTheFleetTheBaseIsSizedFor() throws Exception {
        Row base = row("### Controller", "(the base)");
        assertNotNull(base);
        holds("controller", "Deployment", base);
    }

    @Test
    void theAgentGetsTheMemoryMeasuredForItsDocumentedLoad() throws Exception {
        holds("agent", "DaemonSet", row("### Agent", "(the base)"));
    }
}
