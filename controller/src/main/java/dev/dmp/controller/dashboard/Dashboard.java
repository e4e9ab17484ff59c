package dev.dmp.controller.dashboard;

import dev.dmp.controller.ops.FleetOperations;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.StatsRows;
import dev.dmp.proto.v1.Host;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.Scope;
import dev.dmp.proto.v1.StatsRow;
import dev.dmp.proto.v1.Volume;
import io.grpc.Status;
import io.grpc.StatusException;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What the dashboard's API answers: the fleet, its hosts and volumes with their stats and rates. */
@ApplicationScoped
public class Dashboard {
    private final FleetOperations ops;
    private final StatsHistory history;

    public Dashboard(FleetOperations ops, StatsHistory history) {
        this.ops = ops;
        this.history = history;
    }

    public Overview overview(ChartScope scope) throws StatusException {
        requireKnown(scope);
        FleetSnapshot s = history.latest();
        Map<String, StatsRow> hostRows = new HashMap<>();
        rows(Scope.HOST).forEach(r -> hostRows.put(r.getHost(), r));
        Map<VolumeKey, StatsRow> volumeRows = new HashMap<>();
        rows(Scope.VOLUME).forEach(r -> volumeRows.put(new VolumeKey(r.getHost(), r.getVolume()), r));

        List<HostView> hosts = new ArrayList<>();
        for (Host h : ops.listHosts()) {
            hosts.add(new HostView(
                    h, hostRows.getOrDefault(h.getId(), zero(h.getId(), "")), s.rate(new ChartScope(h.getId(), ""))));
        }
        List<VolumeRow> volumes = new ArrayList<>();
        for (Volume v : ops.listVolumes("")) {
            VolumeKey key = new VolumeKey(v.getHost(), v.getName());
            volumes.add(new VolumeRow(
                    v,
                    volumeRows.getOrDefault(key, zero(v.getHost(), v.getName())),
                    s.rates().getOrDefault(key, Rate.ZERO)));
        }
        FleetView fleet = new FleetView(rows(Scope.FLEET).get(0), s.rate(ChartScope.FLEET));
        RatePoint chart =
                history.ring().last(scope).orElse(new RatePoint(s.sample().atMillis(), Rate.ZERO));
        return new Overview(s.sample().atMillis(), fleet, hosts, volumes, chart);
    }

    /** The last {@link StatsHistory#SECONDS} seconds of the scope's rates, one point a second. */
    public List<RatePoint> history(ChartScope scope) throws StatusException {
        requireKnown(scope);
        return history.ring().series(scope);
    }

    /** The stats rows of a scope as QueryStats answers them now. */
    private List<StatsRow> rows(Scope scope) throws StatusException {
        return ops.queryStats(QueryStatsRequest.newBuilder().setScope(scope).build())
                .getRowsList();
    }

    private void requireKnown(ChartScope scope) throws StatusException {
        if (scope.host().isEmpty()) {
            return;
        }
        ops.listVolumes(scope.host()); // NOT_FOUND for a host that never connected
        if (!scope.volume().isEmpty() && !ops.fleet().hasVolume(scope.host(), scope.volume())) {
            throw Status.NOT_FOUND
                    .withDescription("host '" + scope.host() + "' has no volume '" + scope.volume() + "'")
                    .asException();
        }
    }

    private static StatsRow zero(String host, String volume) {
        return StatsRows.row(host, volume, CounterSet.empty()).build();
    }
}
