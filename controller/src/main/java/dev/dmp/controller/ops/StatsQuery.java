package dev.dmp.controller.ops;

import dev.dmp.controller.fleet.Fleet;
import dev.dmp.controller.fleet.FleetLedger;
import dev.dmp.controller.fleet.VolumeCounts;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.Scope;
import dev.dmp.proto.v1.StatsRow;
import io.grpc.Status;
import io.grpc.StatusException;
import java.time.Instant;
import java.util.List;

/** Answers a QueryStatsRequest from the fleet ledger: rows per volume, per host or for the fleet. */
public final class StatsQuery {
    private StatsQuery() {}

    /** Sums of volumes, as one row. */
    private static final class Sum {
        final CounterSet counts = CounterSet.empty();
        long inFlight;
        boolean stale;
        Instant lastSeen;

        void add(VolumeCounts v) {
            counts.add(v.sinceReset());
            inFlight += v.inFlight();
            stale |= v.stale();
            lastSeen = lastSeen == null || v.lastSeen().isBefore(lastSeen) ? v.lastSeen() : lastSeen;
        }

        StatsRow row(String host) {
            StatsRow.Builder r =
                    StatsRows.row(host, "", counts).setInFlight(inFlight).setStale(stale);
            if (lastSeen != null) {
                r.setLastSeen(StatsRows.timestamp(lastSeen));
            }
            return r.build();
        }
    }

    public static QueryStatsResponse run(Fleet fleet, QueryStatsRequest request) throws StatusException {
        Scope scope = request.getScope();
        String host = request.getHost();
        String volume = request.getVolume();
        RequestChecks.scope(scope, host, volume, false);
        if (!host.isEmpty() && !fleet.known(host)) {
            throw Status.NOT_FOUND
                    .withDescription("no host '" + host + "' has connected to this controller")
                    .asException();
        }
        if (!volume.isEmpty() && !fleet.hasVolume(host, volume)) {
            throw Status.NOT_FOUND
                    .withDescription("host '" + host + "' has no volume '" + volume + "'")
                    .asException();
        }
        QueryStatsResponse.Builder out = QueryStatsResponse.newBuilder();
        if (scope == Scope.FLEET) {
            // Summed inside the ledger: copying every volume to add them up cost more than the sum.
            FleetLedger.Total t = fleet.ledger().total();
            StatsRow.Builder r =
                    StatsRows.row("", "", t.counts()).setInFlight(t.inFlight()).setStale(t.stale());
            if (t.lastSeen() != null) {
                r.setLastSeen(StatsRows.timestamp(t.lastSeen()));
            }
            return out.addRows(r).build();
        }
        List<VolumeCounts> volumes = fleet.ledger().volumeCounts(host);
        Sum hostSum = null;
        String current = null;
        for (VolumeCounts v : volumes) {
            if (!host.isEmpty() && !host.equals(v.host())) {
                continue;
            }
            if (scope == Scope.HOST && !v.host().equals(current)) {
                if (hostSum != null) {
                    out.addRows(hostSum.row(current));
                }
                current = v.host();
                hostSum = new Sum();
            }
            if (hostSum != null) {
                hostSum.add(v);
            }
            if (scope == Scope.VOLUME && (volume.isEmpty() || volume.equals(v.volume()))) {
                out.addRows(StatsRows.row(v.host(), v.volume(), v.sinceReset())
                        .setInFlight(v.inFlight())
                        .setGeneration(v.generation())
                        .setStale(v.stale())
                        .setLastSeen(StatsRows.timestamp(v.lastSeen())));
            }
        }
        if (scope == Scope.HOST) {
            if (hostSum != null) {
                out.addRows(hostSum.row(current));
            }
            addEmptyHosts(fleet, host, out);
        }
        return out.build();
    }

    /** Hosts with no volumes still get their (zero) row, in host order. */
    private static void addEmptyHosts(Fleet fleet, String host, QueryStatsResponse.Builder out) {
        List<StatsRow> rows = new java.util.ArrayList<>(out.getRowsList());
        java.util.Set<String> present = new java.util.HashSet<>();
        rows.forEach(r -> present.add(r.getHost()));
        for (var h : fleet.hosts()) {
            if (!present.contains(h.getId()) && (host.isEmpty() || host.equals(h.getId()))) {
                rows.add(StatsRows.row(h.getId(), "", CounterSet.empty())
                        .setStale(!h.getOnline())
                        .setLastSeen(h.getLastSeen())
                        .build());
            }
        }
        rows.sort(java.util.Comparator.comparing(StatsRow::getHost));
        out.clearRows().addAllRows(rows);
    }
}
