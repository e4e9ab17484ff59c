package dev.dmp.agent.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The payload bytes in flight: a connection's budget, drawn in turn from the agent's. A take past
 * either waits until bytes are given back, and ends when its connection closes meanwhile.
 */
class PayloadBudgetTest {
    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final int MIB = 1 << 20;

    /** A connection that is open until the test closes it. */
    private static final class Open implements Channel {
        final AtomicBoolean open = new AtomicBoolean(true);

        @Override
        public boolean isOpen() {
            return open.get();
        }

        @Override
        public void close() {
            open.set(false);
        }
    }

    private static CompletableFuture<Void> takeAsync(PayloadBudget budget, int n, Channel ch) {
        return CompletableFuture.runAsync(() -> {
            try {
                budget.take(n, ch);
            } catch (IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
    }

    private static void waitFor(CompletableFuture<?> f) {
        assertTimeoutPreemptively(BOUND, () -> {
            while (!f.isDone()) {
                Thread.onSpinWait();
            }
        });
    }

    @Test
    void aTakePastTheConnectionsBudgetWaitsForBytesGivenBack() {
        PayloadBudget connection = PayloadBudget.agent(256 * MIB).connection(64 * MIB);
        Open ch = new Open();
        assertTimeoutPreemptively(BOUND, () -> connection.take(48 * MIB, ch));
        CompletableFuture<Void> second = takeAsync(connection, 32 * MIB, ch);
        assertEquals(16 * MIB, connection.available());
        assertEquals(false, second.isDone());

        connection.give(48 * MIB);
        waitFor(second);
        assertEquals(32 * MIB, connection.available());
    }

    @Test
    void oneConnectionsTakesCountAgainstTheAgentsSoAnotherWaits() {
        PayloadBudget agent = PayloadBudget.agent(64 * MIB);
        PayloadBudget a = agent.connection(64 * MIB), b = agent.connection(64 * MIB);
        Open ch = new Open();
        assertTimeoutPreemptively(BOUND, () -> a.take(40 * MIB, ch));
        CompletableFuture<Void> fromB = takeAsync(b, 32 * MIB, ch);
        assertEquals(24 * MIB, agent.available());
        assertEquals(false, fromB.isDone());
        // b's own budget holds nothing while it waits for the agent's.
        a.give(40 * MIB);
        waitFor(fromB);
        assertEquals(32 * MIB, agent.available());
        assertEquals(32 * MIB, b.available());
    }

    @Test
    void aWaitingTakeEndsWhenItsConnectionClosesAndHoldsNothing() {
        PayloadBudget agent = PayloadBudget.agent(64 * MIB);
        PayloadBudget a = agent.connection(64 * MIB), b = agent.connection(64 * MIB);
        Open chA = new Open(), chB = new Open();
        assertTimeoutPreemptively(BOUND, () -> a.take(64 * MIB, chA));
        CompletableFuture<Void> fromB = takeAsync(b, MIB, chB);
        chB.close();
        waitFor(fromB);
        var e = assertThrows(java.util.concurrent.CompletionException.class, fromB::join);
        assertEquals(ClosedChannelException.class, e.getCause().getClass());
        assertEquals(64 * MIB, b.available());
        a.give(64 * MIB);
        assertEquals(64 * MIB, agent.available());
    }
}
