package dev.dmp.agent.lifecycle;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The agent pod's preStop hook: {@code java -cp '/home/jboss/app/*' dev.dmp.agent.lifecycle.PreStop}.
 * The agent's image has no shell or curl, but it has java; this asks the agent in the same container
 * to drain ({@code POST /lifecycle/drain}) and prints its answer, which the kubelet records when the
 * hook fails. Only JDK classes: it runs without the app's libraries. Reads the container's own
 * environment: QUARKUS_HTTP_PORT (7070), DMP_AUTH_TOKEN or DMP_AUTH_TOKEN_FILE.
 */
public final class PreStop {
    private PreStop() {}

    public static void main(String[] args) throws InterruptedException {
        Map<String, String> env = System.getenv();
        String port = env.getOrDefault("QUARKUS_HTTP_PORT", "7070");
        HttpRequest.Builder request = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/lifecycle/drain"))
                .timeout(Duration.ofSeconds(50))
                .POST(HttpRequest.BodyPublishers.noBody());
        try {
            String token = token(env);
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> answer =
                    HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
            System.out.print("dmp agent: " + answer.body());
            System.exit(answer.statusCode() == 200 ? 0 : 1);
        } catch (IOException e) {
            System.out.println(
                    "dmp agent: drain failed: " + e + "; SIGTERM will stop it (it detaches and saves counts too)");
            System.exit(1);
        }
    }

    private static String token(Map<String, String> env) throws IOException {
        String token = env.get("DMP_AUTH_TOKEN");
        if (token != null && !token.isBlank()) {
            return token.trim();
        }
        String file = env.get("DMP_AUTH_TOKEN_FILE");
        if (file != null && !file.isBlank()) {
            return Files.readString(Path.of(file.trim()))
                    .lines()
                    .findFirst()
                    .orElse("")
                    .trim();
        }
        return null;
    }
}
