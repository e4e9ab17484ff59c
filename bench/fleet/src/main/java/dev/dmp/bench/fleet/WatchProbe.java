package dev.dmp.bench.fleet;

import dev.dmp.proto.CounterSet;
import dev.dmp.proto.v1.ControllerGrpc;
import dev.dmp.proto.v1.QueryStatsRequest;
import dev.dmp.proto.v1.QueryStatsResponse;
import dev.dmp.proto.v1.Scope;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * WatchStats (FLEET) update delay: a probe delta with one FLUSH is sent (only probes send flushes),
 * and the delay is the time from sending it to the first fleet update whose FLUSH count includes it.
 * The controller's watch ticks once a second, so about 0.5 s of the delay is that period.
 */
final class WatchProbe {
    private final Samples delay = new Samples();
    private final List<Long> sentNanos = new ArrayList<>();
    private int seen;
    private Context.CancellableContext context;

    Samples delay() {
        return delay;
    }

    void start(Channel channel) {
        delay.recording(true);
        context = Context.current().withCancellation();
        context.run(() -> ControllerGrpc.newStub(channel)
                .watchStats(QueryStatsRequest.newBuilder().setScope(Scope.FLEET).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(QueryStatsResponse r) {
                        updated(CounterSet.fromProto(r.getRows(0).getOpsList()).requests(CounterSet.FLUSH));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {}
                }));
    }

    /** Call just before the probe delta is sent. */
    synchronized void sending() {
        sentNanos.add(System.nanoTime());
    }

    private synchronized void updated(long flushes) {
        long now = System.nanoTime();
        while (seen < flushes && seen < sentNanos.size()) {
            delay.add(now - sentNanos.get(seen++));
        }
    }

    void stop() {
        context.cancel(null);
    }
}
