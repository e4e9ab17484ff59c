package dev.dmp.bench.fleet;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** What the simulated agents count together. */
final class Stats {
    final LongAdder deltasSent = new LongAdder();
    /** From writing a delta to reading its Ack (the controller's apply + commit + fsync). */
    final Samples ackLatency = new Samples();

    final AtomicInteger streamErrors = new AtomicInteger();
    final AtomicInteger resetsDone = new AtomicInteger();
}
