package dev.dmp.agent.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DataRunTest {
    @Test
    void aRememberedRunHoldsFromItsStartToBeforeItsEnd() {
        DataRun run = new DataRun();
        assertEquals(-1, run.endOf(0), "nothing is known at first");
        run.remember(4096, 1 << 20, run.generation());
        assertEquals(-1, run.endOf(4095));
        assertEquals(1 << 20, run.endOf(4096));
        assertEquals(1 << 20, run.endOf((1 << 20) - 1));
        assertEquals(-1, run.endOf(1 << 20), "the hole that ends the run is not in it");
    }

    @Test
    void theLastRunFoundReplacesTheOneBefore() {
        DataRun run = new DataRun();
        run.remember(0, 8192, run.generation());
        run.remember(65536, 131072, run.generation());
        assertEquals(-1, run.endOf(0));
        assertEquals(131072, run.endOf(65536));
    }

    @Test
    void forgettingDropsTheRun() {
        DataRun run = new DataRun();
        run.remember(0, 8192, run.generation());
        run.forget();
        assertEquals(-1, run.endOf(0));
    }

    @Test
    void aQueryThatBeganBeforeAForgetDoesNotStoreWhatItFound() {
        DataRun run = new DataRun();
        long began = run.generation();
        run.forget(); // a hole is punched while the query runs: what it saw may be gone
        run.remember(0, 8192, began);
        assertEquals(-1, run.endOf(0));
        run.remember(0, 8192, run.generation());
        assertEquals(8192, run.endOf(0), "a query that began after it is stored");
    }
}
