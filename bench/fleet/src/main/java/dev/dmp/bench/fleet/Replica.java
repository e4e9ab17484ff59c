package dev.dmp.bench.fleet;

import dev.dmp.proto.v1.ControllerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One controller under test (a replica of a set, or the single MVStore process): its address and
 * process, the channels of the simulated agents that dial it, and what the window measured of it.
 * Replica i is named {@code ri}, as bench/fleet/run.sh names it in {@code dmp.controller.replica-id}.
 */
final class Replica {
    final String id;
    final String target;
    final long pid;
    final HeapProbe heap;
    /** For QueryStats and WatchStats; the agents' streams have channels of their own. */
    final ManagedChannel queries;

    final List<ManagedChannel> agentChannels = new ArrayList<>();
    final Samples fleetLatency = new Samples();
    final Samples hostLatency = new Samples();
    final AtomicInteger queryFailures = new AtomicInteger();
    /** Simulated agents that dial this replica. */
    int hosts;

    private double cpuAtStart;
    double cpuPercent;
    double heapMiB;
    double heapAfterGcMiB;

    Replica(int index, String target, long pid, String jcmd) {
        this.id = "r" + index;
        this.target = target;
        this.pid = pid;
        this.heap = new HeapProbe(jcmd, pid);
        this.queries = channel();
    }

    ManagedChannel channel() {
        return NettyChannelBuilder.forTarget(target).usePlaintext().build();
    }

    ControllerGrpc.ControllerBlockingStub controller() {
        return ControllerGrpc.newBlockingStub(queries);
    }

    void startWindow() throws IOException {
        fleetLatency.recording(true);
        hostLatency.recording(true);
        cpuAtStart = ProcCpu.seconds(pid);
    }

    void endWindow(double seconds) throws IOException {
        cpuPercent = (ProcCpu.seconds(pid) - cpuAtStart) / seconds * 100;
    }

    void close() {
        agentChannels.forEach(ManagedChannel::shutdownNow);
        queries.shutdownNow();
    }
}
