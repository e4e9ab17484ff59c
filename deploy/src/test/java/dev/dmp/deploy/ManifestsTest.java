package dev.dmp.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dmp.agent.config.AgentConfig;
import dev.dmp.agent.lifecycle.PreStop;
import dev.dmp.auth.AuthConfig;
import dev.dmp.controller.ControllerConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.scheduling.v1.PriorityClass;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes rendered and held to the Kubernetes schema and to the apps it deploys: the ports,
 * probe paths, configuration keys and paths below are read from the apps, not repeated here.
 */
class ManifestsTest {
    static final Path ROOT =
            Path.of(System.getProperty("dmp.root", "..")).toAbsolutePath().normalize();
    static final Path BASE = ROOT.resolve("deploy/kubernetes");
    static final String NAMESPACE = "dmp";

    static Manifests base;
    static AppConfig agentApp;
    static AppConfig controllerApp;

    @BeforeAll
    static void render() throws Exception {
        base = Manifests.render(BASE);
        agentApp = AppConfig.of(
                ROOT.resolve("agent/src/main/resources/application.properties"), AgentConfig.class, AuthConfig.class);
        controllerApp = AppConfig.of(
                ROOT.resolve("controller/src/main/resources/application.properties"),
                ControllerConfig.class,
                AuthConfig.class);
    }

    @Test
    void theBaseHoldsExactlyTheseObjectsAllValidKubernetes() {
        assertEquals(
                List.of(
                        "Namespace/dmp",
                        "PriorityClass/dmp-node-critical",
                        "ConfigMap/dmp-agent",
                        "ConfigMap/dmp-nbd",
                        "ConfigMap/dmp-controller",
                        "PersistentVolumeClaim/dmp-controller-data",
                        "Deployment/dmp-controller",
                        "Service/dmp-controller",
                        "DaemonSet/dmp-agent"),
                List.copyOf(base.objects().keySet()));
        for (HasMetadata o : base.objects().values()) {
            if (!(o instanceof Namespace) && !(o instanceof PriorityClass)) {
                assertEquals(
                        NAMESPACE,
                        o.getMetadata().getNamespace(),
                        o.getKind() + "/" + o.getMetadata().getName());
            }
        }
        assertEquals(
                "privileged",
                get(Namespace.class, NAMESPACE).getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"),
                "the agent is privileged: Pod Security Admission must allow it in this namespace");
    }

    @Test
    void theStrictReaderRefusesAnUnknownFieldAndAWrongType() throws Exception {
        ObjectNode typo = (ObjectNode) Kustomization.YAML.readTree("""
                apiVersion: v1
                kind: Service
                metadata: {name: s}
                spec: {ports: [{port: 80, tragetPort: 8080}]}
                """);
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> StrictModel.read(typo));
        assertTrue(e.getMessage().contains("tragetPort"), e.getMessage());
        ObjectNode quoted = (ObjectNode) Kustomization.YAML.readTree("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: d}
                spec: {replicas: "1"}
                """);
        e = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> StrictModel.read(quoted));
        assertTrue(e.getMessage().contains("does not read back as written"), e.getMessage());
    }

    /** The renderer is only trusted because it agrees with the real kustomize where one is installed. */
    @Test
    void rendersExactlyAsKubectlKustomize() throws Exception {
        assertRendersAsKubectl(BASE);
    }

    /** {@code dir} rendered by {@link Kustomization} equals {@code kubectl kustomize dir}, object by object. */
    static void assertRendersAsKubectl(Path dir) throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed: the comparison with real kustomize is skipped");
        Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize timed out");
        assertEquals(0, p.exitValue(), out);
        Map<String, JsonNode> theirs = new TreeMap<>();
        try (var docs = Kustomization.YAML.readerFor(JsonNode.class).<JsonNode>readValues(out)) {
            while (docs.hasNext()) {
                JsonNode d = docs.next();
                theirs.put(id(d), d);
            }
        }
        Map<String, JsonNode> ours = new TreeMap<>();
        Kustomization.load(dir).render().forEach(d -> ours.put(id(d), d));
        assertEquals(theirs, ours);
    }

    @Test
    void theAgentRunsOnEveryNodePrivilegedWithTheHostMountsItNeeds() {
        DaemonSet ds = get(DaemonSet.class, "dmp-agent");
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        Container agent = container(pod, "agent");
        Map<String, String> env = env(agent);

        assertEquals(1, pod.getTolerations().size());
        assertEquals("Exists", pod.getTolerations().get(0).getOperator());
        assertNull(pod.getTolerations().get(0).getKey(), "a toleration without a key tolerates every taint");
        assertTrue(agent.getSecurityContext().getPrivileged(), "ioctl on /dev/nbd* needs a privileged container");
        assertEquals(0L, agent.getSecurityContext().getRunAsUser());
        assertFalse(
                Boolean.TRUE.equals(pod.getHostNetwork())
                        || Boolean.TRUE.equals(pod.getHostPID())
                        || Boolean.TRUE.equals(pod.getHostIPC()),
                "the agent needs no host namespace");
        PriorityClass priority = get(PriorityClass.class, pod.getPriorityClassName());
        assertEquals(1_000_000_000, priority.getValue(), "the highest priority a class outside system-* may have");
        assertEquals(
                "OnDelete",
                ds.getSpec().getUpdateStrategy().getType(),
                "an image change must not restart agents (and detach devices) by itself");
        assertTrue(pod.getTerminationGracePeriodSeconds() >= 30, "time to detach on SIGTERM");

        // Same path on the host and in the container: clients on the node use the socket path the
        // agent reports in nbd_uri, and the state must outlive the pod.
        Path socket = Path.of(env.get("DMP_AGENT_NBD_SOCKET"));
        assertHostMount(pod, agent, "/dev");
        assertHostMount(pod, agent, "/sys");
        assertHostMount(pod, agent, env.get("DMP_AGENT_STATE_DIR"));
        assertHostMount(pod, agent, socket.getParent().toString());
        assertEquals("/var/lib/dmp", env.get("DMP_AGENT_STATE_DIR"));
        assertEquals(
                5,
                agent.getVolumeMounts().size(),
                "only the mounts above and the TLS Secret: " + agent.getVolumeMounts());

        assertEquals(
                "spec.nodeName",
                agent.getEnv().stream()
                        .filter(e -> e.getName().equals("DMP_AGENT_HOST_ID"))
                        .findFirst()
                        .orElseThrow()
                        .getValueFrom()
                        .getFieldRef()
                        .getFieldPath(),
                "the host id is the node name");
    }

    @Test
    void theInitContainerLoadsNbdWithAConfigurableDeviceCount() {
        PodSpec pod = get(DaemonSet.class, "dmp-agent").getSpec().getTemplate().getSpec();
        Container init = pod.getInitContainers().get(0);
        assertEquals(1, pod.getInitContainers().size());
        String script = String.join(" ", init.getCommand());
        assertTrue(script.contains("modprobe nbd nbds_max=\"$NBDS_MAX\""), script);
        assertTrue(
                script.contains("nsenter --mount=/host/proc/1/ns/mnt"),
                "the host's own modprobe and modules: " + script);
        int nbdsMax = Integer.parseInt(env(init).get("NBDS_MAX"));
        assertTrue(nbdsMax > 0 && nbdsMax <= 65536, "NBDS_MAX " + nbdsMax);
        assertTrue(init.getSecurityContext().getPrivileged(), "loading a module needs CAP_SYS_MODULE");
        assertHostMount(pod, init, "/proc", "/host/proc");
    }

    @Test
    void envNamesAreKeysTheAppsRead() {
        Container agent = container(
                get(DaemonSet.class, "dmp-agent").getSpec().getTemplate().getSpec(), "agent");
        Container controller = container(
                get(Deployment.class, "dmp-controller").getSpec().getTemplate().getSpec(), "controller");
        assertEquals(
                Map.of(
                        "DMP_AGENT_HOST_ID",
                        "dmp.agent.host-id",
                        "DMP_AGENT_CONTROLLER",
                        "dmp.agent.controller",
                        "DMP_AGENT_STATE_DIR",
                        "dmp.agent.state-dir",
                        "DMP_AGENT_NBD_SOCKET",
                        "dmp.agent.nbd-socket",
                        "QUARKUS_HTTP_PORT",
                        "quarkus.http.port",
                        "DMP_AUTH_TOKEN",
                        "dmp.auth.token"),
                keysOf(agent, agentApp));
        assertEquals(
                Map.of(
                        "DMP_CONTROLLER_DATA_DIR",
                        "dmp.controller.data-dir",
                        "QUARKUS_HTTP_PORT",
                        "quarkus.http.port",
                        "DMP_AUTH_TOKEN",
                        "dmp.auth.token"),
                keysOf(controller, controllerApp));
    }

    @Test
    void theTokenAndTlsComeFromOptionalSecrets() {
        for (PodSpec pod : List.of(
                get(DaemonSet.class, "dmp-agent").getSpec().getTemplate().getSpec(),
                get(Deployment.class, "dmp-controller").getSpec().getTemplate().getSpec())) {
            Container c = pod.getContainers().get(0);
            var token = c.getEnv().stream()
                    .filter(e -> e.getName().equals("DMP_AUTH_TOKEN"))
                    .findFirst()
                    .orElseThrow()
                    .getValueFrom()
                    .getSecretKeyRef();
            assertEquals("dmp-auth", token.getName());
            assertEquals("token", token.getKey());
            assertTrue(token.getOptional(), c.getName() + ": without the Secret the app starts (and warns)");
            var tls = pod.getVolumes().stream()
                    .filter(v -> v.getName().equals("tls"))
                    .findFirst()
                    .orElseThrow()
                    .getSecret();
            assertEquals("dmp-tls", tls.getSecretName());
            assertTrue(tls.getOptional(), c.getName() + ": TLS is optional");
            assertTrue(
                    c.getVolumeMounts().stream()
                            .anyMatch(m -> m.getName().equals("tls")
                                    && m.getMountPath().equals("/etc/dmp/tls")
                                    && m.getReadOnly()),
                    c.getName() + ": the certificates at /etc/dmp/tls, read-only");
        }
    }

    @Test
    void thePreStopHookDrainsTheAgentWithinTheGracePeriod() throws Exception {
        PodSpec pod = get(DaemonSet.class, "dmp-agent").getSpec().getTemplate().getSpec();
        List<String> command =
                container(pod, "agent").getLifecycle().getPreStop().getExec().getCommand();
        assertEquals(
                List.of("java", "-cp", "/home/jboss/app/*", PreStop.class.getName()),
                command,
                "the image has java but no shell; the class is in the agent's own jar");
        assertTrue(Modifier.isStatic(
                PreStop.class.getMethod("main", String[].class).getModifiers()));
        // The drain waits up to 20 s for the controller; SIGTERM's shutdown needs time after it.
        assertTrue(
                pod.getTerminationGracePeriodSeconds() >= 20 + 30, "grace " + pod.getTerminationGracePeriodSeconds());
    }

    @Test
    void portsAndProbesAreTheAppsOwn() {
        checkPortsAndProbes(get(DaemonSet.class, "dmp-agent").getSpec().getTemplate(), "agent", agentApp, "agent");
        checkPortsAndProbes(
                get(Deployment.class, "dmp-controller").getSpec().getTemplate(),
                "controller",
                controllerApp,
                "controller");
    }

    @Test
    void agentsReachTheControllerThroughItsService() {
        Service svc = get(Service.class, "dmp-controller");
        PodTemplateSpec pod = get(Deployment.class, "dmp-controller").getSpec().getTemplate();
        Container controller = container(pod.getSpec(), "controller");
        ServicePort port = svc.getSpec().getPorts().get(0);
        assertEquals(1, svc.getSpec().getPorts().size(), "gRPC and HTTP share one port");
        assertEquals(
                pod.getMetadata().getLabels(), svc.getSpec().getSelector(), "the Service selects the controller pod");
        assertEquals(Integer.valueOf(controllerApp.property("quarkus.http.port")), port.getPort());
        assertEquals(
                controller.getPorts().get(0).getName(), port.getTargetPort().getStrVal());
        String controllerAddress = env(container(
                        get(DaemonSet.class, "dmp-agent")
                                .getSpec()
                                .getTemplate()
                                .getSpec(),
                        "agent"))
                .get("DMP_AGENT_CONTROLLER");
        assertEquals(svc.getMetadata().getName() + "." + NAMESPACE + ".svc:" + port.getPort(), controllerAddress);
    }

    @Test
    void theControllerIsOneUnprivilegedReplicaWithItsDataOnAClaim() {
        Deployment d = get(Deployment.class, "dmp-controller");
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        Container c = container(pod, "controller");
        assertEquals(1, d.getSpec().getReplicas());
        assertEquals(
                "Recreate", d.getSpec().getStrategy().getType(), "a ReadWriteOnce claim cannot be mounted by two pods");
        assertTrue(pod.getSecurityContext().getRunAsNonRoot());
        assertEquals(185L, pod.getSecurityContext().getFsGroup(), "the data volume writable by the image's user");
        assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation());
        assertNull(c.getSecurityContext().getPrivileged());
        assertEquals(List.of("ALL"), c.getSecurityContext().getCapabilities().getDrop());

        String dataDir = env(c).get("DMP_CONTROLLER_DATA_DIR");
        VolumeMount mount = c.getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(dataDir))
                .findFirst()
                .orElseThrow();
        Volume volume = volume(pod, mount.getName());
        PersistentVolumeClaim claim = get(
                PersistentVolumeClaim.class, volume.getPersistentVolumeClaim().getClaimName());
        assertEquals(List.of("ReadWriteOnce"), claim.getSpec().getAccessModes());
    }

    @Test
    void everyContainerHasRequestsAndAMemoryLimitAndTheBuildsImage() {
        String version = System.getProperty("dmp.version");
        assertNotNull(version, "run through Maven: the image tag is the project version");
        for (var entry : Map.of(
                        "agent",
                        get(DaemonSet.class, "dmp-agent")
                                .getSpec()
                                .getTemplate()
                                .getSpec(),
                        "controller",
                        get(Deployment.class, "dmp-controller")
                                .getSpec()
                                .getTemplate()
                                .getSpec())
                .entrySet()) {
            PodSpec pod = entry.getValue();
            assertFalse(pod.getAutomountServiceAccountToken(), "neither app talks to the Kubernetes API");
            assertEquals(
                    "dmp/" + entry.getKey() + ":" + version,
                    container(pod, entry.getKey()).getImage());
            List<Container> all = new ArrayList<>(pod.getContainers());
            all.addAll(pod.getInitContainers());
            for (Container c : all) {
                assertNotNull(c.getResources().getRequests().get("cpu"), c.getName());
                assertNotNull(c.getResources().getRequests().get("memory"), c.getName());
                assertNotNull(c.getResources().getLimits().get("memory"), c.getName());
            }
        }
    }

    private static void checkPortsAndProbes(PodTemplateSpec template, String name, AppConfig app, String module) {
        Container c = container(template.getSpec(), name);
        String port = app.property("quarkus.http.port");
        assertEquals(1, c.getPorts().size());
        assertEquals(
                Integer.valueOf(port),
                c.getPorts().get(0).getContainerPort(),
                name + " containerPort = quarkus.http.port");
        assertEquals(port, env(c).get("QUARKUS_HTTP_PORT"), name + ": the port is set explicitly, to the same value");
        String portName = c.getPorts().get(0).getName();
        // The health paths are SmallRye Health's under Quarkus' non-application root /q, which the app
        // must not move; tests/test-probes.sh calls them on the running apps.
        assertNull(app.properties().getProperty("quarkus.http.non-application-root-path"));
        assertNull(app.properties().getProperty("quarkus.smallrye-health.root-path"));
        assertTrue(pomDeclares(module, "quarkus-smallrye-health"), module + " must depend on quarkus-smallrye-health");
        assertProbe(c.getLivenessProbe(), "/q/health/live", portName);
        assertProbe(c.getReadinessProbe(), "/q/health/ready", portName);
        assertProbe(c.getStartupProbe(), "/q/health/started", portName);

        Map<String, String> scrape = template.getMetadata().getAnnotations();
        assertEquals("true", scrape.get("prometheus.io/scrape"));
        assertEquals(port, scrape.get("prometheus.io/port"));
        assertEquals("/q/metrics", scrape.get("prometheus.io/path"));
        assertTrue(pomDeclares(module, "quarkus-micrometer-registry-prometheus"), module + " serves /q/metrics");
    }

    private static void assertProbe(Probe probe, String path, String portName) {
        assertNotNull(probe, path);
        assertEquals(path, probe.getHttpGet().getPath());
        assertEquals(portName, probe.getHttpGet().getPort().getStrVal());
    }

    private static boolean pomDeclares(String module, String artifactId) {
        try {
            return Files.readString(ROOT.resolve(module).resolve("pom.xml"))
                    .contains("<artifactId>" + artifactId + "</artifactId>");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Every environment variable of the container (literal, field or ConfigMap) mapped to the key it sets. */
    private static Map<String, String> keysOf(Container c, AppConfig app) {
        Map<String, String> keys = new TreeMap<>();
        for (String name : envNames(c)) {
            String key = app.keyOf(name);
            assertNotNull(
                    key,
                    c.getName() + ": environment variable " + name + " sets no key the app reads (" + app.keys() + ")");
            keys.put(name, key);
        }
        return keys;
    }

    private static List<String> envNames(Container c) {
        return base.envNames(c);
    }

    private static Map<String, String> env(Container c) {
        return base.env(c);
    }

    private static void assertHostMount(PodSpec pod, Container c, String path) {
        assertHostMount(pod, c, path, path);
    }

    private static void assertHostMount(PodSpec pod, Container c, String hostPath, String mountPath) {
        assertNotNull(mountPath, c.getName() + ": the setting that names this mount is missing");
        VolumeMount mount = c.getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(mountPath))
                .findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " does not mount " + mountPath));
        Volume v = volume(pod, mount.getName());
        assertNotNull(v.getHostPath(), mountPath + " is a host directory");
        assertEquals(hostPath, v.getHostPath().getPath());
    }

    private static Volume volume(PodSpec pod, String name) {
        return Manifests.volume(pod, name);
    }

    private static Container container(PodSpec pod, String name) {
        return Manifests.container(pod, name);
    }

    private static <T extends HasMetadata> T get(Class<T> type, String name) {
        return base.get(type, name);
    }

    private static String id(JsonNode d) {
        return d.path("kind").asText() + "/"
                + d.path("metadata").path("namespace").asText() + "/"
                + d.path("metadata").path("name").asText();
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
