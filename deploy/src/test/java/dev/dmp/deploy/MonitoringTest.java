package dev.dmp.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * deploy/monitoring, the optional Kustomize component: the PrometheusRule holds exactly the groups of
 * the plain rules file, the component's files exist, and the Grafana dashboard is well formed. That the
 * rules fire as meant is promtool's job (tests/test-alerts.sh); that every metric the dashboard and the
 * rules name is one the apps export, tests/test-prometheus.sh checks against the running apps.
 */
class MonitoringTest {
    static final Path DIR = ManifestsTest.ROOT.resolve("deploy/monitoring");

    private static JsonNode yaml(String file) throws Exception {
        return Kustomization.YAML.readTree(DIR.resolve(file).toFile());
    }

    @Test
    void thePrometheusRuleHoldsExactlyTheRulesFile() throws Exception {
        JsonNode rule = yaml("prometheusrule.yaml");
        assertEquals("monitoring.coreos.com/v1", rule.path("apiVersion").asText());
        assertEquals("PrometheusRule", rule.path("kind").asText());
        assertEquals(
                yaml("dmp-alerts.rules.yaml").path("groups"),
                rule.path("spec").path("groups"),
                "prometheusrule.yaml's spec.groups must equal dmp-alerts.rules.yaml's groups: copy the rules file's groups over");
        List<String> alerts = new ArrayList<>();
        rule.path("spec")
                .path("groups")
                .forEach(g ->
                        g.path("rules").forEach(r -> alerts.add(r.path("alert").asText())));
        assertEquals(
                List.of(
                        "DmpAgentOffline",
                        "DmpVolumeErrors",
                        "DmpHostLatencyHigh",
                        "DmpKernelDeviceFailed",
                        "DmpControllerAckLag"),
                alerts);
    }

    @Test
    void everyAlertHasAUnitTestThatFiresIt() throws Exception {
        Set<String> fired = new HashSet<>();
        yaml("dmp-alerts.test.yaml")
                .path("tests")
                .forEach(t -> t.path("alert_rule_test").forEach(a -> {
                    if (!a.path("exp_alerts").isEmpty()) {
                        fired.add(a.path("alertname").asText());
                    }
                }));
        yaml("dmp-alerts.rules.yaml")
                .path("groups")
                .forEach(g -> g.path("rules")
                        .forEach(r -> assertTrue(
                                fired.contains(r.path("alert").asText()),
                                r.path("alert").asText() + " has no test that fires it")));
    }

    @Test
    void theComponentNamesFilesThatExist() throws Exception {
        JsonNode k = yaml("kustomization.yaml");
        assertEquals("Component", k.path("kind").asText());
        k.path("resources").forEach(r -> assertTrue(Files.isRegularFile(DIR.resolve(r.asText())), r.asText()));
        JsonNode generator = k.path("configMapGenerator").get(0);
        assertEquals("dmp-grafana-dashboard", generator.path("name").asText());
        assertEquals(
                "1",
                generator
                        .path("options")
                        .path("labels")
                        .path("grafana_dashboard")
                        .asText());
        generator.path("files").forEach(f -> assertTrue(Files.isRegularFile(DIR.resolve(f.asText())), f.asText()));
        JsonNode overlay = Kustomization.YAML.readTree(ManifestsTest.ROOT
                .resolve("deploy/with-monitoring/kustomization.yaml")
                .toFile());
        assertEquals("[\"../kubernetes\"]", overlay.path("resources").toString());
        assertEquals("[\"../monitoring\"]", overlay.path("components").toString());
        assertEquals(ManifestsTest.NAMESPACE, overlay.path("namespace").asText());
    }

    @Test
    void theDashboardIsWellFormed() throws Exception {
        JsonNode d =
                new ObjectMapper().readTree(DIR.resolve("dmp-dashboard.json").toFile());
        assertEquals("dmp-fleet", d.path("uid").asText());
        Set<Integer> ids = new HashSet<>();
        int queries = 0;
        for (JsonNode p : d.path("panels")) {
            assertTrue(ids.add(p.path("id").asInt()), "panel ids are unique: " + p.path("id"));
            if (p.path("type").asText().equals("row")) {
                continue;
            }
            assertEquals(
                    "${datasource}",
                    p.path("datasource").path("uid").asText(),
                    p.path("title").asText());
            assertFalse(p.path("targets").isEmpty(), p.path("title") + " has no query");
            for (JsonNode t : p.path("targets")) {
                assertFalse(t.path("expr").asText().isBlank(), p.path("title").asText());
                queries++;
            }
        }
        assertTrue(queries >= 20, "queries: " + queries);
        List<String> variables = new ArrayList<>();
        d.path("templating")
                .path("list")
                .forEach(v -> variables.add(v.path("name").asText()));
        assertEquals(List.of("datasource", "host", "volume", "op"), variables);
    }
}
