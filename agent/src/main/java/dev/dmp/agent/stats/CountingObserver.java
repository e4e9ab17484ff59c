package dev.dmp.agent.stats;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.nbd.RequestObserver;
import dev.dmp.proto.CounterSet;

/**
 * A volume's counters as one connection's {@link RequestObserver}: each request the connection takes
 * in is in flight until its reply, which is then counted under its operation in the connection's own
 * {@link VolumeStats.Shard}. Commands without counters of their own (none today but NBD_CMD_DISC, which
 * the loop never reports) are left out.
 */
final class CountingObserver implements RequestObserver {
    private final VolumeStats.Shard shard;

    CountingObserver(VolumeStats.Shard shard) {
        this.shard = shard;
    }

    /** The counters' operation of an NBD command, or -1 for a command that is not counted. */
    static int op(int command) {
        return switch (command) {
            case NBD_CMD_READ -> CounterSet.READ;
            case NBD_CMD_WRITE -> CounterSet.WRITE;
            case NBD_CMD_FLUSH -> CounterSet.FLUSH;
            case NBD_CMD_TRIM -> CounterSet.TRIM;
            case NBD_CMD_WRITE_ZEROES -> CounterSet.WRITE_ZEROES;
            case NBD_CMD_CACHE -> CounterSet.CACHE;
            case NBD_CMD_BLOCK_STATUS -> CounterSet.BLOCK_STATUS;
            default -> -1;
        };
    }

    @Override
    public void received(int command) {
        if (op(command) >= 0) {
            shard.started();
        }
    }

    @Override
    public void answered(int command, long length, long holeBytes, int nbdError, long latencyNanos) {
        int op = op(command);
        if (op >= 0) {
            shard.completed(op, length, holeBytes, nbdError, latencyNanos);
        }
    }

    @Override
    public void close() {
        shard.close();
    }
}
