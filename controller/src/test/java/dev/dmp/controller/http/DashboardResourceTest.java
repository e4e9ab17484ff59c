package dev.dmp.controller.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The dashboard's wiring in a running controller without agents: page, assets, API answers and errors. */
@QuarkusTest
@TestProfile(DashboardResourceTest.FreshLedger.class)
class DashboardResourceTest {

    /** A controller of its own: the hosts other test classes connected must not show here. */
    public static class FreshLedger implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "dmp.controller.data-dir",
                    System.getProperty("java.io.tmpdir") + "/dmp-dashboard-test-" + java.util.UUID.randomUUID());
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestHTTPResource("/")
    URI base;

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(base.resolve(path));
        if (body != null) {
            r.header("content-type", "application/json");
        }
        r.method(
                method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void expectError(HttpResponse<String> r, int status, String code, String message) throws Exception {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode e = JSON.readTree(r.body());
        assertEquals(code, e.get("code").asText());
        assertEquals(message, e.get("message").asText());
    }

    @Test
    void pageAndItsAssetsAreServed() throws Exception {
        HttpResponse<String> page = send("GET", "/", null);
        assertEquals(200, page.statusCode());
        assertTrue(
                page.body().contains("/webjars/uplot/1.6.30/dist/uPlot.iife.min.js"),
                "page loads uPlot from the webjar");
        for (String asset : new String[] {
            "/webjars/uplot/1.6.30/dist/uPlot.iife.min.js",
            "/webjars/uplot/1.6.30/dist/uPlot.min.css",
            "/dashboard.js",
            "/dashboard.css"
        }) {
            assertEquals(200, send("GET", asset, null).statusCode(), asset);
        }
    }

    @Test
    void anEmptyFleetHasZeroTotals() throws Exception {
        HttpResponse<String> r = send("GET", "/api/overview", null);
        assertEquals(200, r.statusCode());
        JsonNode o = JSON.readTree(r.body());
        assertEquals("0", o.at("/fleet/stats/total/requests").asText());
        assertEquals("0", o.at("/fleet/stats/total/avgSize").asText());
        assertEquals(0.0, o.at("/fleet/rate/readBytes").asDouble());
        assertEquals(0, o.get("hosts").size());
        assertEquals(0, o.get("volumes").size());
        assertTrue(o.get("time").asLong() > 0);
    }

    @Test
    void badRequestsGetTheOperationsMessagesAndHttpCodes() throws Exception {
        expectError(
                send("GET", "/api/history?volume=dmp1", null),
                400,
                "INVALID_ARGUMENT",
                "scope VOLUME with a volume name needs the host too");
        expectError(
                send("GET", "/api/overview?host=node-x", null),
                404,
                "NOT_FOUND",
                "no host 'node-x' has connected to this controller; ListHosts shows the known hosts");
        expectError(
                send(
                        "POST",
                        "/api/volumes",
                        "{\"host\":\"node-x\",\"name\":\"dmp1\",\"zero\":{\"sizeBytes\":\"4096\"}}"),
                404,
                "NOT_FOUND",
                "no host 'node-x' has connected to this controller; ListHosts shows the known hosts");
        expectError(
                send("POST", "/api/volumes", "{\"host\":\"node-a\",\"name\":\"dmp1\"}"),
                400,
                "INVALID_ARGUMENT",
                "a backend is required: \"zero\":{\"sizeBytes\":\"...\"}, \"file\":{\"path\":\"...\"}, "
                        + "\"memory\":{\"sizeBytes\":\"...\"} or \"nbd\":{\"uri\":\"nbd+unix:///EXPORT?socket=...\"}");
        expectError(
                send("POST", "/api/volumes", "{\"hst\":1}"),
                400,
                "INVALID_ARGUMENT",
                "bad JSON: Cannot find field: hst in message dmp.v1.CreateVolumeRequest");
        expectError(
                send("POST", "/api/reset", "{}"), 400, "INVALID_ARGUMENT", "scope is required: VOLUME, HOST or FLEET");
        expectError(
                send("DELETE", "/api/volumes/node-x/dmp1", null),
                404,
                "NOT_FOUND",
                "no host 'node-x' has connected to this controller; ListHosts shows the known hosts");
    }

    @Test
    void aFleetResetWithNoHostsResetsNothing() throws Exception {
        HttpResponse<String> r = send("POST", "/api/reset", "{\"scope\":\"FLEET\"}");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(0, JSON.readTree(r.body()).get("volumesReset").asInt());
    }
}
