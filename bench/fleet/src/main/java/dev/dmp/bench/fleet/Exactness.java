package dev.dmp.bench.fleet;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.Scope;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * After the agents stop and every delta is acknowledged: does each replica's FLEET row equal what the
 * agents sent (every counter and histogram bucket)? A replica may answer for the whole fleet only
 * some time after the owner's commit (a mirror refreshed from the database), so each is asked again
 * until it matches or {@code settleSeconds} pass. When none matches, the sum of the replicas' rows is
 * compared too: equal means each replica answers for the hosts it holds and only those ("own").
 */
final class Exactness {
    /** yes: this replica's row is the fleet's; part: it is not (see the verdict for the sum). */
    static String check(List<Replica> replicas, CounterSet expected, int settleSeconds, String[] perReplica)
            throws InterruptedException {
        long deadline = System.nanoTime() + settleSeconds * 1_000_000_000L;
        CounterSet[] rows = new CounterSet[replicas.size()];
        boolean all;
        do {
            all = true;
            for (int i = 0; i < replicas.size(); i++) {
                if (rows[i] != null && rows[i].equals(expected)) {
                    continue;
                }
                rows[i] = fleetRow(replicas.get(i));
                all &= rows[i] != null && rows[i].equals(expected);
            }
            if (!all) {
                Thread.sleep(500);
            }
        } while (!all && System.nanoTime() < deadline);
        CounterSet sum = CounterSet.empty();
        for (int i = 0; i < rows.length; i++) {
            perReplica[i] = rows[i] != null && rows[i].equals(expected) ? "yes" : "part";
            if (rows[i] != null) {
                sum.add(rows[i]);
            }
            FleetBench.log(
                    "%s FLEET row: READ reqs %d WRITE reqs %d (expected %d, %d): %s",
                    replicas.get(i).id,
                    rows[i] == null ? -1 : rows[i].requests(CounterSet.READ),
                    rows[i] == null ? -1 : rows[i].requests(CounterSet.WRITE),
                    expected.requests(CounterSet.READ),
                    expected.requests(CounterSet.WRITE),
                    perReplica[i]);
        }
        if (all) {
            return "yes";
        }
        return replicas.size() > 1 && sum.equals(expected) ? "own" : "NO";
    }

    private static CounterSet fleetRow(Replica r) {
        try {
            return CounterSet.fromProto(r.controller()
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .queryStats(
                            QueryStatsRequest.newBuilder().setScope(Scope.FLEET).build())
                    .getRows(0)
                    .getOpsList());
        } catch (RuntimeException e) {
            FleetBench.log("%s: FLEET query failed: %s", r.id, e);
            return null;
        }
    }

    private Exactness() {}
}
