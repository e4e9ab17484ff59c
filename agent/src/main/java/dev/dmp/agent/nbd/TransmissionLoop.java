package dev.dmp.agent.nbd;

import static dev.dmp.agent.nbd.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.stats.VolumeStats;
import dev.dmp.proto.CounterSet;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import org.jboss.logging.Logger;

/**
 * The transmission phase of one connection. One thread reads requests in order; each request then
 * runs on its own worker and is answered when it completes, so replies may come out of order and a
 * slow request does not hold up the others. Replies are written whole under a lock.
 *
 * <p>Each request is counted when its reply is sent, in this connection's own stats shard: that is
 * where its NBD error and its time from receipt to reply are known.
 */
public final class TransmissionLoop {
    private static final Logger LOG = Logger.getLogger(TransmissionLoop.class);

    /** Requests in flight per connection; the reader waits for a slot before reading a payload. */
    static final int MAX_IN_FLIGHT = 64;
    private static final int HEADER = SimpleReply.SIZE;

    private final ByteChannel ch;
    private final Export export;
    private final Backend backend;
    private final ExecutorService workers;
    private final Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
    private final ReentrantLock replyLock = new ReentrantLock();
    private final BufferPool buffers = new BufferPool(8L << 20);
    private final VolumeStats.Shard stats;

    public TransmissionLoop(ByteChannel ch, Export export, ExecutorService workers) {
        this.ch = ch;
        this.export = export;
        this.backend = export.backend();
        this.workers = workers;
        this.stats = export.stats().openShard();
    }

    /** The stats operation of a command, or -1 for commands that are not counted. */
    static int op(int type) {
        return switch (type) {
            case NBD_CMD_READ -> CounterSet.READ;
            case NBD_CMD_WRITE -> CounterSet.WRITE;
            case NBD_CMD_FLUSH -> CounterSet.FLUSH;
            case NBD_CMD_TRIM -> CounterSet.TRIM;
            case NBD_CMD_WRITE_ZEROES -> CounterSet.WRITE_ZEROES;
            case NBD_CMD_CACHE -> CounterSet.CACHE;
            default -> -1;
        };
    }

    /** Serves requests until NBD_CMD_DISC or the client goes away; waits for every request in flight. */
    public void run() throws IOException, NbdProtocolException {
        ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
        try {
            while (true) {
                header.clear();
                if (!Channels.readFullyOrEof(ch, header)) {
                    return;
                }
                NbdRequest request = NbdRequest.decode(header.flip());
                if (request.type() == NBD_CMD_DISC) {
                    return;
                }
                Received received = new Received(request, System.nanoTime());
                if (op(request.type()) >= 0) {
                    stats.started();
                }
                dispatch(received);
            }
        } finally {
            slots.acquireUninterruptibly(MAX_IN_FLIGHT);
            stats.close();
        }
    }

    private void dispatch(Received r) throws IOException, NbdProtocolException {
        int allowedFlags = switch (r.type()) {
            case NBD_CMD_WRITE -> NBD_CMD_FLAG_FUA;
            default -> 0;
        };
        boolean badFlags = (r.flags() & ~allowedFlags) != 0;
        switch (r.type()) {
            case NBD_CMD_READ -> {
                int error = badFlags ? NBD_EINVAL : checkRange(r, NBD_EINVAL);
                if (error != NBD_OK) {
                    replyError(r, error);
                    return;
                }
                slots.acquireUninterruptibly();
                workers.execute(() -> read(r));
            }
            case NBD_CMD_WRITE -> {
                if (r.length() > Handshake.MAX_BLOCK) {
                    // The payload cannot be skipped without reading it, and is never buffered whole on
                    // the client's say-so: the spec allows closing the connection here.
                    throw new NbdProtocolException("WRITE: length " + r.length() + " is over the maximum of "
                            + Handshake.MAX_BLOCK);
                }
                slots.acquireUninterruptibly();
                ByteBuffer payload = buffers.take((int) r.length());
                try {
                    Channels.readFully(ch, payload);
                } catch (IOException e) {
                    buffers.give(payload);
                    slots.release();
                    throw e;
                }
                payload.flip();
                int error = badFlags ? NBD_EINVAL : checkRange(r, NBD_ENOSPC);
                if (error != NBD_OK) {
                    buffers.give(payload);
                    slots.release();
                    replyError(r, error);
                    return;
                }
                workers.execute(() -> write(r, payload));
            }
            case NBD_CMD_FLUSH -> {
                if (badFlags || r.offset() != 0 || r.length() != 0) {
                    replyError(r, NBD_EINVAL);
                    return;
                }
                slots.acquireUninterruptibly();
                workers.execute(() -> flush(r));
            }
            default -> {
                LOG.debugf("%s: unknown command %d", export.name(), r.type());
                replyError(r, NBD_EINVAL);
            }
        }
    }

    /** NBD_OK when offset and length lie within the export, else {@code error}. */
    private int checkRange(Received r, int error) {
        long size = backend.size();
        boolean ok = r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
        if (!ok) {
            LOG.debugf("invalid request: %s: offset and count are out of range: offset=%d count=%d size=%d",
                    r.commandName(), r.offset(), r.length(), size);
        }
        return ok ? NBD_OK : error;
    }

    private void read(Received r) {
        ByteBuffer reply = r.length() <= Handshake.MAX_BLOCK ? buffers.take(HEADER + (int) r.length()) : null;
        try {
            if (reply == null) {
                replyError(r, NBD_EINVAL);
                return;
            }
            int error = NBD_OK;
            try {
                backend.read(r.offset(), reply.position(HEADER).slice());
            } catch (IOException | RuntimeException e) {
                error = failed(r, e);
            }
            if (error == NBD_OK) {
                new SimpleReply(NBD_OK, r.cookie()).encode(reply.position(0));
                send(reply.position(0));
                counted(r, NBD_OK);
            } else {
                replyError(r, error);
            }
        } catch (IOException e) {
            LOG.debugf("%s: reply to READ lost: %s", export.name(), e);
        } finally {
            if (reply != null) {
                buffers.give(reply);
            }
            slots.release();
        }
    }

    private void write(Received r, ByteBuffer payload) {
        try {
            int error = NBD_OK;
            try {
                backend.write(r.offset(), payload, (r.flags() & NBD_CMD_FLAG_FUA) != 0);
            } catch (IOException | RuntimeException e) {
                error = failed(r, e);
            }
            replyError(r, error);
        } catch (IOException e) {
            LOG.debugf("%s: reply to WRITE lost: %s", export.name(), e);
        } finally {
            buffers.give(payload);
            slots.release();
        }
    }

    private void flush(Received r) {
        try {
            int error = NBD_OK;
            try {
                backend.flush();
            } catch (IOException | RuntimeException e) {
                error = failed(r, e);
            }
            replyError(r, error);
        } catch (IOException e) {
            LOG.debugf("%s: reply to FLUSH lost: %s", export.name(), e);
        } finally {
            slots.release();
        }
    }

    private int failed(Received r, Exception e) {
        LOG.warnf("%s: %s at offset %d, length %d failed: %s", export.name(), r.commandName(), r.offset(), r.length(), e);
        return NBD_EIO;
    }

    /** A reply with no payload: success for writes and flushes, or an error for anything. */
    private void replyError(Received r, int error) throws IOException {
        ByteBuffer reply = ByteBuffer.allocate(HEADER);
        new SimpleReply(error, r.cookie()).encode(reply);
        send(reply.flip());
        counted(r, error);
    }

    /** Records an answered request in this connection's shard (uncounted commands are skipped). */
    private void counted(Received r, int error) {
        int op = op(r.type());
        if (op >= 0) {
            stats.completed(op, r.length(), error, System.nanoTime() - r.receivedNanos());
        }
    }

    private void send(ByteBuffer reply) throws IOException {
        replyLock.lock();
        try {
            Channels.writeFully(ch, reply);
        } finally {
            replyLock.unlock();
        }
    }
}
