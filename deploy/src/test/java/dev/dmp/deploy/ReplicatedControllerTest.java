package dev.dmp.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dmp.controller.ControllerConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/replicated, the overlay that runs the controller as three replicas on PostgreSQL (issue 15),
 * rendered and held to the base it patches and to the controller it deploys.
 */
class ReplicatedControllerTest {
    static final Path OVERLAY = ManifestsTest.ROOT.resolve("deploy/replicated");
    private static final String SECRET = "dmp-postgresql";
    private static final String SECRET_DIR = "/var/run/secrets/dmp-postgresql";
    /** Read only by Kubernetes, to expand {@code $(POD_IP)} in the variable after it; no key of the app. */
    private static final String POD_IP = "POD_IP";

    static Manifests base;
    static Manifests overlay;
    static AppConfig controllerApp;

    @BeforeAll
    static void render() throws Exception {
        base = Manifests.render(ManifestsTest.BASE);
        overlay = Manifests.render(OVERLAY);
        controllerApp = AppConfig.of(
                ManifestsTest.ROOT.resolve("controller/src/main/resources/application.properties"),
                ControllerConfig.class,
                dev.dmp.auth.AuthConfig.class);
    }

    private static Deployment deployment() {
        return overlay.get(Deployment.class, "dmp-controller");
    }

    private static PodSpec pod() {
        return deployment().getSpec().getTemplate().getSpec();
    }

    private static Container controller() {
        return Manifests.container(pod(), "controller");
    }

    private static EnvVar envVar(String name) {
        return controller().getEnv().stream()
                .filter(e -> e.getName().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("the controller has no variable " + name));
    }

    @Test
    void theOverlayIsTheBaseWithoutTheClaimAndWithADisruptionBudget() {
        List<String> expected = new ArrayList<>(base.objects().keySet());
        expected.remove("PersistentVolumeClaim/dmp-controller-data");
        expected.add("PodDisruptionBudget/dmp-controller");
        assertEquals(expected, List.copyOf(overlay.objects().keySet()));
        for (HasMetadata o : overlay.objects().values()) {
            if (!Set.of("Namespace", "PriorityClass").contains(o.getKind())) {
                assertEquals(ManifestsTest.NAMESPACE, o.getMetadata().getNamespace(), o.getKind());
            }
        }
        assertEquals(
                base.get(DaemonSet.class, "dmp-agent"),
                overlay.get(DaemonSet.class, "dmp-agent"),
                "the agents are the base's: they dial the Service, which balances each new stream over the replicas");
        assertEquals(base.get(Service.class, "dmp-controller"), overlay.get(Service.class, "dmp-controller"));
    }

    @Test
    void rendersExactlyAsKubectlKustomize() throws Exception {
        ManifestsTest.assertRendersAsKubectl(OVERLAY);
    }

    @Test
    void threeReplicasUpdatedOneAtATime() {
        Deployment d = deployment();
        assertEquals(3, d.getSpec().getReplicas());
        assertEquals("RollingUpdate", d.getSpec().getStrategy().getType());
        assertEquals(
                1,
                d.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal());
        assertEquals(
                0, d.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal());
    }

    @Test
    void theDisruptionBudgetCoversExactlyTheControllerPods() {
        PodDisruptionBudget pdb = overlay.get(PodDisruptionBudget.class, "dmp-controller");
        Map<String, String> selects = pdb.getSpec().getSelector().getMatchLabels();
        assertEquals(deployment().getSpec().getTemplate().getMetadata().getLabels(), selects);
        assertEquals(deployment().getSpec().getSelector().getMatchLabels(), selects);
        assertEquals(List.of(), pdb.getSpec().getSelector().getMatchExpressions());
        Map<String, String> agentLabels = overlay.get(DaemonSet.class, "dmp-agent")
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getLabels();
        assertFalse(agentLabels.entrySet().containsAll(selects.entrySet()), "the agents are not in the budget");
        assertEquals(1, pdb.getSpec().getMaxUnavailable().getIntVal());
        assertNull(pdb.getSpec().getMinAvailable());
        assertEquals("AlwaysAllow", pdb.getSpec().getUnhealthyPodEvictionPolicy());
    }

    @Test
    void theReplicasSpreadOverNodesAsAPreference() {
        List<TopologySpreadConstraint> spread = pod().getTopologySpreadConstraints();
        assertEquals(1, spread.size());
        TopologySpreadConstraint byNode = spread.get(0);
        assertEquals("kubernetes.io/hostname", byNode.getTopologyKey());
        assertEquals(1, byNode.getMaxSkew());
        assertEquals("ScheduleAnyway", byNode.getWhenUnsatisfiable());
        assertEquals(
                deployment().getSpec().getTemplate().getMetadata().getLabels(),
                byNode.getLabelSelector().getMatchLabels());
    }

    @Test
    void nothingIsKeptOnDisk() {
        assertTrue(overlay.objects().values().stream().noneMatch(o -> o instanceof PersistentVolumeClaim));
        assertTrue(pod().getVolumes().stream().allMatch(v -> v.getPersistentVolumeClaim() == null));
        assertEquals(
                List.of("tls", "tmp", "postgresql"),
                pod().getVolumes().stream().map(Volume::getName).toList());
        assertEquals(
                List.of("/tmp", "/etc/dmp/tls", SECRET_DIR),
                controller().getVolumeMounts().stream()
                        .map(VolumeMount::getMountPath)
                        .toList());
        assertFalse(overlay.env(controller()).containsKey("DMP_CONTROLLER_DATA_DIR"));
    }

    @Test
    void envNamesAreExactlyTheseAndKeysTheControllerReads() {
        Map<String, String> keys = new LinkedHashMap<>();
        for (String name : overlay.envNames(controller())) {
            keys.put(name, name.equals(POD_IP) ? "(none)" : controllerApp.keyOf(name));
        }
        assertEquals(
                Map.of(
                        "DMP_AUTH_TOKEN",
                        "dmp.auth.token",
                        "DMP_CONTROLLER_POSTGRESQL_JDBC_URL",
                        "dmp.controller.postgresql.jdbc-url",
                        "DMP_CONTROLLER_POSTGRESQL_USER",
                        "dmp.controller.postgresql.user",
                        "DMP_CONTROLLER_POSTGRESQL_PASSWORD_FILE",
                        "dmp.controller.postgresql.password-file",
                        "DMP_CONTROLLER_REPLICA_ID",
                        "dmp.controller.replica-id",
                        POD_IP,
                        "(none)",
                        "DMP_CONTROLLER_REPLICA_ADDRESS",
                        "dmp.controller.replica-address",
                        "DMP_CONTROLLER_STORE",
                        "dmp.controller.store",
                        "QUARKUS_HTTP_PORT",
                        "quarkus.http.port"),
                keys,
                "null: a variable that sets no key of the ControllerConfig on the test classpath (with -pl deploy"
                        + " alone that is the jar in ~/.m2, maybe older than the source: add -pl proto,agent,controller)");
        assertEquals("postgresql", overlay.env(controller()).get("DMP_CONTROLLER_STORE"));
    }

    @Test
    void eachReplicaIsNamedAfterItsPodAndReachedAtItsIp() {
        assertEquals(
                "metadata.name",
                envVar("DMP_CONTROLLER_REPLICA_ID").getValueFrom().getFieldRef().getFieldPath());
        assertEquals("status.podIP", envVar(POD_IP).getValueFrom().getFieldRef().getFieldPath());
        assertEquals(
                "$(" + POD_IP + "):" + controllerApp.property("quarkus.http.port"),
                envVar("DMP_CONTROLLER_REPLICA_ADDRESS").getValue(),
                "the other replicas dial the pod's IP on the one gRPC port");
        List<String> names = controller().getEnv().stream().map(EnvVar::getName).toList();
        assertTrue(
                names.indexOf(POD_IP) < names.indexOf("DMP_CONTROLLER_REPLICA_ADDRESS"),
                "Kubernetes expands $(VAR) only from variables defined before: " + names);
    }

    @Test
    void theDatabaseComesFromTheSecretAndThePasswordOnlyAsAReadOnlyFile() {
        assertSecretKey("DMP_CONTROLLER_POSTGRESQL_JDBC_URL", "jdbc-url");
        assertSecretKey("DMP_CONTROLLER_POSTGRESQL_USER", "user");
        assertEquals(
                SECRET_DIR + "/password",
                envVar("DMP_CONTROLLER_POSTGRESQL_PASSWORD_FILE").getValue());
        assertTrue(
                controller().getEnv().stream().noneMatch(e -> e.getName().equals("DMP_CONTROLLER_POSTGRESQL_PASSWORD")),
                "the password is never in the environment");

        VolumeMount mount = controller().getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(SECRET_DIR))
                .findFirst()
                .orElseThrow();
        assertTrue(mount.getReadOnly(), "the Secret is mounted read-only");
        var secret = Manifests.volume(pod(), mount.getName()).getSecret();
        assertEquals(SECRET, secret.getSecretName());
        assertNull(secret.getOptional(), "no replica starts without the database");
        assertEquals(List.of(new KeyToPath("password", null, "password")), secret.getItems());
    }

    private static void assertSecretKey(String variable, String key) {
        SecretKeySelector ref = envVar(variable).getValueFrom().getSecretKeyRef();
        assertEquals(SECRET, ref.getName(), variable);
        assertEquals(key, ref.getKey(), variable);
        assertNull(ref.getOptional(), variable + ": required");
    }

    @Test
    void readinessStaysTheDatabaseAwareCheckOfTheBase() {
        Container baseController = Manifests.container(
                base.get(Deployment.class, "dmp-controller")
                        .getSpec()
                        .getTemplate()
                        .getSpec(),
                "controller");
        assertEquals(
                "/q/health/ready", controller().getReadinessProbe().getHttpGet().getPath());
        assertEquals(baseController.getReadinessProbe(), controller().getReadinessProbe());
        assertEquals(baseController.getLivenessProbe(), controller().getLivenessProbe());
        assertEquals(baseController.getStartupProbe(), controller().getStartupProbe());
    }

    @Test
    void theResourcesSayWhereTheirFiguresComeFrom() throws Exception {
        List<String> patch = Files.readAllLines(OVERLAY.resolve("controller.yaml"));
        int comment = patch.indexOf("# sized from bench/fleet replicated run: see docs/benchmarks.md");
        assertTrue(comment >= 0, "controller.yaml: the resources' comment is missing");
        assertTrue(
                patch.subList(comment, patch.size()).stream()
                        .anyMatch(l -> l.equals("  path: /spec/template/spec/containers/0/resources")),
                "the comment stands above the resources' patch");
        var resources = controller().getResources();
        assertNotNull(resources.getRequests().get("cpu"));
        assertNotNull(resources.getRequests().get("memory"));
        assertNotNull(resources.getLimits().get("memory"));
    }
}
