package dev.dmp.controller.ops;

import dev.dmp.controller.fleet.Counts;
import dev.dmp.controller.fleet.Fleet;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.Scope;
import io.grpc.Status;
import io.grpc.StatusException;
import java.util.Map;
import java.util.TreeMap;

/** Answers a QueryStatsRequest from the fleet ledger: rows per volume, per host or for the fleet. */
public final class StatsQuery {
    private StatsQuery() {
    }

    public static QueryStatsResponse run(Fleet fleet, QueryStatsRequest request) throws StatusException {
        Scope scope = request.getScope();
        String host = request.getHost();
        String volume = request.getVolume();
        RequestChecks.scope(scope, host, volume, false);
        if (!host.isEmpty() && !fleet.known(host)) {
            throw Status.NOT_FOUND.withDescription("no host '" + host + "' has connected to this controller").asException();
        }
        TreeMap<String, TreeMap<String, Counts>> all = fleet.ledger().snapshot();
        if (!volume.isEmpty() && !all.getOrDefault(host, new TreeMap<>()).containsKey(volume)) {
            throw Status.NOT_FOUND.withDescription("host '" + host + "' has no volume '" + volume + "'").asException();
        }
        QueryStatsResponse.Builder out = QueryStatsResponse.newBuilder();
        Counts fleetTotal = Counts.ZERO;
        for (Map.Entry<String, TreeMap<String, Counts>> h : all.entrySet()) {
            if (!host.isEmpty() && !host.equals(h.getKey())) {
                continue;
            }
            Counts hostTotal = Counts.ZERO;
            for (Map.Entry<String, Counts> v : h.getValue().entrySet()) {
                hostTotal = hostTotal.plus(v.getValue());
                if (scope == Scope.VOLUME && (volume.isEmpty() || volume.equals(v.getKey()))) {
                    out.addRows(v.getValue().toRow(h.getKey(), v.getKey()));
                }
            }
            if (scope == Scope.HOST) {
                out.addRows(hostTotal.toRow(h.getKey(), ""));
            }
            fleetTotal = fleetTotal.plus(hostTotal);
        }
        if (scope == Scope.FLEET) {
            out.addRows(fleetTotal.toRow("", ""));
        }
        return out.build();
    }
}
