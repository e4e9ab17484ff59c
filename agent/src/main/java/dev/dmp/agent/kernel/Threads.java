package dev.dmp.agent.kernel;

/** Bounded waits for the attachments' platform threads; an interrupt is kept, not swallowed. */
final class Threads {
    private Threads() {}

    static void join(Thread t, long ms) {
        try {
            t.join(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
