package dev.dmp.agent.link;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The controllers the link may dial ({@code dmp.agent.controller}), and which one it dials next: each
 * dial takes the next target in the list, so a stream that broke or never opened is followed by a dial
 * of another replica, never the same dead one again; the first dial is at a random place in the list,
 * so a fleet's agents spread over the replicas. With one target every dial is that target, as before.
 *
 * <p>One gRPC channel per target, made at its first dial and shut down with the link, rather than one
 * channel whose name resolver hands gRPC every target's addresses:
 * <ul>
 *   <li>TLS verifies the controller's certificate against the channel's authority, and a channel has
 *       one: with one channel for {@code c1:8080,c2:8080}, c2's certificate would be checked against c1.
 *   <li>The rotation stays ours, plain and tested. gRPC's pick_first keeps the first address that
 *       answers and after a break starts again from the head of its list; making it rotate would take a
 *       resolver of our own, under a made-up scheme, reordering its list at every refresh.
 *   <li>Each target keeps gRPC's DNS resolver: a name with several addresses (a headless Service of
 *       replicas) is served by pick_first within its channel, which tries the next address when one
 *       does not answer; the addresses are shuffled so that agents do not all pick the first.
 * </ul>
 * The channel a rotation leaves is put idle (its connection closed, its name resolved again at its next
 * dial), so an agent holds one connection at a time, not one to every replica.
 */
public final class ControllerChannels implements AutoCloseable {
    /** pick_first over a name's addresses in a random order (gRPC's service config, as JSON would be). */
    private static final Map<String, ?> SHUFFLED_PICK_FIRST =
            Map.of("loadBalancingConfig", List.of(Map.of("pick_first", Map.of("shuffleAddressList", true))));

    private final List<String> targets;
    private final ChannelCredentials credentials;
    /** Each target's channel once dialled, else null. Guarded by this. */
    private final ManagedChannel[] channels;
    /** The index of the target dialled last (before the first dial: the one before the first). Guarded by this. */
    private int current;

    private boolean closed;

    /** One dial: the target, its place in the list (1-based) and its channel. */
    record Dial(String target, int number, int count, ManagedChannel channel) {
        /** How the logs name it: {@code c2:8080 (target 2 of 3)}, or just {@code c2:8080} when it is the only one. */
        @Override
        public String toString() {
            return count == 1 ? target : target + " (target " + number + " of " + count + ")";
        }
    }

    /** {@code first} is the index of the target the first dial takes. */
    ControllerChannels(List<String> targets, ChannelCredentials credentials, int first) {
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("no controller to dial");
        }
        this.targets = List.copyOf(targets);
        this.credentials = credentials;
        this.channels = new ManagedChannel[targets.size()];
        this.current = Math.floorMod(first - 1, targets.size());
    }

    /** The channels to {@code targets}, the first dial at a random one of them. */
    public static ControllerChannels startingAnywhere(List<String> targets, ChannelCredentials credentials) {
        return new ControllerChannels(
                targets, credentials, ThreadLocalRandom.current().nextInt(targets.size()));
    }

    /**
     * The next target in turn, with its channel; the channel of the target left behind is put idle.
     * Null once closed.
     */
    synchronized Dial next() {
        if (closed) {
            return null;
        }
        int previous = current;
        current = (current + 1) % targets.size();
        if (previous != current && channels[previous] != null) {
            channels[previous].enterIdle();
        }
        if (channels[current] == null) {
            channels[current] = open(targets.get(current));
        }
        return new Dial(targets.get(current), current + 1, targets.size(), channels[current]);
    }

    private ManagedChannel open(String target) {
        // Keepalive pings find a link that went silent (a cut cable, a paused peer) without waiting
        // for TCP to give up; the stream then breaks and the link dials again.
        return Grpc.newChannelBuilder(target, credentials)
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .keepAliveWithoutCalls(true)
                .defaultServiceConfig(SHUFFLED_PICK_FIRST)
                .build();
    }

    /** The targets, separated by commas: how the logs name the controller before the first dial. */
    @Override
    public String toString() {
        return String.join(",", targets);
    }

    /** Shuts every channel down, waiting up to 2 s in all for their calls to end. */
    @Override
    public void close() {
        List<ManagedChannel> opened = new ArrayList<>();
        synchronized (this) {
            closed = true;
            for (ManagedChannel channel : channels) {
                if (channel != null) {
                    opened.add(channel.shutdown());
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        try {
            for (ManagedChannel channel : opened) {
                channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
