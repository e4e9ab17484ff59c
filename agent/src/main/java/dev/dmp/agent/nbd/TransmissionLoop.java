package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.BackendException;
import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.SimpleReply;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The transmission phase of one connection. One thread reads requests in order (ahead of need: one
 * read takes in up to {@link #READ_AHEAD} bytes, several small requests at a time); each request then
 * runs on its own worker and is answered when it completes, so replies may come out of order and a
 * slow request does not hold up the others. Replies are written whole under a lock; where the loop
 * may, a large READ from a backend that can goes out with sendfile (the header, then the bytes
 * straight from the page cache, under the same lock).
 *
 * <p>The chain a request runs through is the export's: this loop, then the connection's
 * {@link RequestObserver} (the volume's counters), then the {@link Backend}. The observer hears of each
 * request when it is taken in and when its reply is sent: that is where its NBD error and its time
 * from receipt to reply are known.
 */
public final class TransmissionLoop {
    private static final Logger LOG = Logger.getLogger(TransmissionLoop.class);

    /** Requests in flight per connection; the reader waits for a slot before reading a payload. */
    static final int MAX_IN_FLIGHT = 64;

    private static final int HEADER = SimpleReply.SIZE;
    /**
     * The largest request the reader serves itself when nothing else is in flight. Above it, copying
     * the data costs more than a hand-off to a worker, and serving inline would stop the reader from
     * taking in the next request (of a sequential writer at depth 8, say) while it copies.
     */
    static final int INLINE_MAX = 64 << 10;

    /** Read-ahead per connection: about 16 small WRITEs (4 KiB and their headers) per read(2). */
    static final int READ_AHEAD = 64 << 10;
    /** The smallest READ sent with sendfile where the loop may (a copy is cheaper below). */
    static final int TRANSFER_MIN = 64 << 10;

    private final ByteChannel ch;
    private final InputBuffer in;
    /** READs of at least {@link #TRANSFER_MIN} go from the backend straight into the socket. */
    private final boolean zeroCopy;

    private final Export export;
    private final Backend backend;
    private final boolean readOnly;
    private final ExecutorService workers;
    private final Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
    private final ReentrantLock replyLock = new ReentrantLock();
    /** The header of a sendfile READ's reply: one per connection, used only under {@link #replyLock}. */
    private final ByteBuffer transferHeader = ByteBuffer.allocate(HEADER);

    private final BufferPool buffers;
    /** Told of each request as it is received and answered: the volume's counters. */
    private final RequestObserver observer;

    private final LongSupplier clock;

    /** A loop with buffers of its own (a kernel attachment: one connection, not one of a listener's). */
    public TransmissionLoop(ByteChannel ch, Export export, ExecutorService workers) {
        this(ch, export, workers, new BufferPool(8L << 20));
    }

    public TransmissionLoop(ByteChannel ch, Export export, ExecutorService workers, BufferPool buffers) {
        this(ch, export, workers, buffers, false);
    }

    /**
     * {@code zeroCopy}: {@code ch} is a socket in blocking mode that only platform threads ever touch
     * (a virtual thread would switch its descriptor to non-blocking, where sendfile returns early), so
     * large READs may be sent with {@link Backend#transferTo}.
     */
    TransmissionLoop(ByteChannel ch, Export export, ExecutorService workers, BufferPool buffers, boolean zeroCopy) {
        this.observer = export.observers().get();
        this.clock = observer.clock();
        this.in = new InputBuffer(ch, READ_AHEAD, clock);
        this.zeroCopy = zeroCopy && export.backend().canTransferTo();
        this.buffers = buffers;
        this.ch = ch;
        this.export = export;
        this.backend = export.backend();
        this.readOnly = export.refusesWrites();
        this.workers = workers;
    }

    /** Serves requests until NBD_CMD_DISC or the client goes away; waits for every request in flight. */
    public void run() throws IOException, NbdProtocolException {
        ByteBuffer header = ByteBuffer.allocate(NbdRequest.SIZE);
        try {
            while (true) {
                header.clear();
                if (!Channels.readFullyOrEof(in, header)) {
                    return;
                }
                NbdRequest request = NbdRequest.decode(header.flip());
                if (request.type() == NBD_CMD_DISC) {
                    return;
                }
                Received received = new Received(request, in.filledNanos());
                observer.received(request.type());
                dispatch(received);
            }
        } finally {
            slots.acquireUninterruptibly(MAX_IN_FLIGHT);
            observer.close();
        }
    }

    private void dispatch(Received r) throws IOException, NbdProtocolException {
        ByteBuffer payload = null;
        if (r.type() == NBD_CMD_WRITE) {
            if (r.length() > Handshake.MAX_BLOCK) {
                // The payload cannot be skipped without reading it, and is never buffered whole on
                // the client's say-so: the spec allows closing the connection here.
                throw new NbdProtocolException(
                        "WRITE: length " + r.length() + " is over the maximum of " + Handshake.MAX_BLOCK);
            }
            slots.acquireUninterruptibly();
            payload = buffers.take((int) r.length());
            try {
                Channels.readFully(in, payload);
            } catch (IOException e) {
                buffers.give(payload);
                slots.release();
                throw e;
            }
            payload.flip();
        }
        int error = check(r);
        if (error != NBD_OK) {
            if (payload != null) {
                buffers.give(payload);
                slots.release();
            }
            replyError(r, error);
            return;
        }
        if (payload == null) {
            slots.acquireUninterruptibly();
        }
        if (slots.availablePermits() == MAX_IN_FLIGHT - 1 && r.length() <= INLINE_MAX) {
            // Nothing else in flight (queue depth 1) and a small request: serving here saves a thread
            // hand-off per request; a request that arrives meanwhile waits for this one only.
            serve(r, payload);
        } else {
            ByteBuffer data = payload;
            workers.execute(() -> serve(r, data));
        }
    }

    /** NBD_OK when the request may go to the backend, else the error the spec gives for it. */
    private int check(Received r) {
        int allowedFlags = switch (r.type()) {
            // FUA is valid on every command once NBD_FLAG_SEND_FUA is advertised (spec, command flags).
            case NBD_CMD_READ, NBD_CMD_WRITE, NBD_CMD_FLUSH, NBD_CMD_TRIM, NBD_CMD_CACHE -> NBD_CMD_FLAG_FUA;
            case NBD_CMD_WRITE_ZEROES -> NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO;
            default -> -1;
        };
        if (allowedFlags < 0) {
            return invalid(r, NBD_EINVAL, "unknown command");
        }
        if ((r.flags() & ~allowedFlags) != 0) {
            return invalid(
                    r,
                    NBD_EINVAL,
                    String.format("flags 0x%x are not valid for this command", r.flags() & ~allowedFlags));
        }
        boolean writes = r.type() == NBD_CMD_WRITE || r.type() == NBD_CMD_TRIM || r.type() == NBD_CMD_WRITE_ZEROES;
        if (writes && readOnly) {
            return invalid(r, NBD_EPERM, "the export is read-only");
        }
        return switch (r.type()) {
            case NBD_CMD_FLUSH ->
                r.offset() != 0 || r.length() != 0 ? invalid(r, NBD_EINVAL, "offset and length must be 0") : NBD_OK;
            case NBD_CMD_READ ->
                r.length() > Handshake.MAX_BLOCK
                        ? invalid(
                                r,
                                NBD_EINVAL,
                                "length " + r.length() + " is over the maximum of " + Handshake.MAX_BLOCK)
                        : checkRange(r, NBD_EINVAL);
            // Writing past the end is "no space"; reading, trimming or caching there is invalid (spec, errors).
            case NBD_CMD_WRITE, NBD_CMD_WRITE_ZEROES -> checkRange(r, NBD_ENOSPC);
            default -> checkRange(r, NBD_EINVAL);
        };
    }

    /** NBD_OK when offset and length lie within the export, else {@code error}. */
    private int checkRange(Received r, int error) {
        long size = backend.size();
        boolean ok = r.offset() >= 0 && r.offset() <= size && r.length() <= size - r.offset();
        return ok
                ? NBD_OK
                : invalid(
                        r,
                        error,
                        "offset and count are out of range: offset=" + Long.toUnsignedString(r.offset()) + " count="
                                + r.length() + " size=" + size);
    }

    private int invalid(Received r, int error, String why) {
        LOG.debugf("%s: invalid request: %s: %s", export.name(), r.commandName(), why);
        return error;
    }

    /** Runs one checked request on the backend and replies; always gives back its slot and buffer. */
    private void serve(Received r, ByteBuffer payload) {
        boolean fua = (r.flags() & NBD_CMD_FLAG_FUA) != 0;
        try {
            if (r.type() == NBD_CMD_READ) {
                read(r);
                return;
            }
            int error = NBD_OK;
            try {
                switch (r.type()) {
                    case NBD_CMD_WRITE -> backend.write(r.offset(), payload, fua);
                    case NBD_CMD_FLUSH -> backend.flush();
                    case NBD_CMD_TRIM -> backend.trim(r.offset(), r.length(), fua);
                    case NBD_CMD_WRITE_ZEROES ->
                        backend.zero(
                                r.offset(),
                                r.length(),
                                (r.flags() & NBD_CMD_FLAG_NO_HOLE) == 0,
                                (r.flags() & NBD_CMD_FLAG_FAST_ZERO) != 0,
                                fua);
                    case NBD_CMD_CACHE -> backend.cache(r.offset(), r.length());
                    default -> throw new IllegalStateException("unchecked command " + r.type());
                }
            } catch (IOException | RuntimeException e) {
                error = failed(r, e);
            }
            replyError(r, error);
        } catch (IOException e) {
            LOG.debugf("%s: reply to %s lost: %s", export.name(), r.commandName(), e);
        } finally {
            if (payload != null) {
                buffers.give(payload);
            }
            slots.release();
        }
    }

    private void read(Received r) throws IOException {
        if (zeroCopy && r.length() >= TRANSFER_MIN) {
            transfer(r);
            return;
        }
        ByteBuffer reply = buffers.take(HEADER + (int) r.length());
        try {
            int error = NBD_OK;
            try {
                backend.read(r.offset(), reply.position(HEADER).slice());
            } catch (IOException | RuntimeException e) {
                error = failed(r, e);
            }
            if (error == NBD_OK) {
                new SimpleReply(NBD_OK, r.cookie()).encode(reply.position(0));
                send(reply.position(0));
                answered(r, NBD_OK);
            } else {
                replyError(r, error);
            }
        } finally {
            buffers.give(reply);
        }
    }

    /** A READ answered with sendfile: the header, then the file's bytes straight into the socket. */
    private void transfer(Received r) throws IOException {
        replyLock.lock();
        try {
            ByteBuffer header = transferHeader.clear();
            new SimpleReply(NBD_OK, r.cookie()).encode(header);
            Channels.writeFully(ch, header.flip());
            backend.transferTo(r.offset(), r.length(), ch);
        } catch (IOException | RuntimeException e) {
            // The header is out and part of the data may be: the stream can no longer be framed.
            LOG.infof(
                    "%s: %s at offset %d, length %d failed after its reply began, closing the connection: %s",
                    export.name(), r.commandName(), r.offset(), r.length(), e);
            ch.close();
            throw e instanceof IOException io ? io : new IOException(e);
        } finally {
            replyLock.unlock();
        }
        answered(r, NBD_OK);
    }

    /**
     * The NBD error for a failed request: the backend's own (a full disk is NBD_ENOSPC, told by the
     * file backend from its errno), else NBD_EIO.
     */
    private int failed(Received r, Exception e) {
        if (e instanceof BackendException be) {
            LOG.debugf(
                    "%s: %s at offset %d, length %d: error %d: %s",
                    export.name(), r.commandName(), r.offset(), r.length(), be.nbdError(), be.getMessage());
            return be.nbdError();
        }
        LOG.warnf(
                "%s: %s at offset %d, length %d failed: %s", export.name(), r.commandName(), r.offset(), r.length(), e);
        return NBD_EIO;
    }

    /** A reply with no payload: success for writes and flushes, or an error for anything. */
    private void replyError(Received r, int error) throws IOException {
        ByteBuffer reply = ByteBuffer.allocate(HEADER);
        new SimpleReply(error, r.cookie()).encode(reply);
        send(reply.flip());
        answered(r, error);
    }

    /** Tells the observer that the request was answered, with its error and its time since receipt. */
    private void answered(Received r, int error) {
        observer.answered(r.type(), r.length(), error, clock.getAsLong() - r.receivedNanos());
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
