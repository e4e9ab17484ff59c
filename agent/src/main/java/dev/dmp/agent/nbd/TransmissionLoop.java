package dev.dmp.agent.nbd;

import static dev.dmp.agent.protocol.NbdProtocol.*;

import dev.dmp.agent.backend.Backend;
import dev.dmp.agent.backend.Extents;
import dev.dmp.agent.protocol.Channels;
import dev.dmp.agent.protocol.NbdProtocolException;
import dev.dmp.agent.protocol.NbdRequest;
import dev.dmp.agent.protocol.ReplyChunks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The transmission phase of one connection. One thread reads requests in order (ahead of need: one
 * read takes in up to {@link #READ_AHEAD} bytes, several small requests at a time); each request then
 * runs on its own worker and is answered when it completes, so replies may come out of order and a
 * slow request does not hold up the others. Replies are written whole by the connection's
 * {@link Replies}, simple or structured as the {@link Session} negotiated; READs are answered by
 * {@link Reads} (holes as holes with structured replies; sendfile where the loop may).
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
    /** The most extents one BLOCK_STATUS reply carries (the spec: not more than 2^20). */
    static final int MAX_EXTENTS = 1 << 16;

    private final InputBuffer in;
    private final Session session;
    private final Backend backend;
    private final RequestCheck checks;
    private final Replies replies;
    private final Reads reads;
    private final ExecutorService workers;
    private final Semaphore slots = new Semaphore(MAX_IN_FLIGHT);
    private final BufferPool buffers;
    /** Told of each request as it is received and answered: the volume's counters. */
    private final RequestObserver observer;

    private final LongSupplier clock;
    private final ByteChannel ch;
    /** Bytes of READ and WRITE payload this connection may have in flight (drawn from the agent's). */
    private final PayloadBudget budget;
    /** Why the loop stops (new requests get NBD_ESHUTDOWN with it), or null while it serves. */
    private volatile String stopping;

    /** A loop with buffers of its own and simple replies (a kernel attachment: the driver negotiates nothing). */
    public TransmissionLoop(ByteChannel ch, Export export, ExecutorService workers) {
        this(ch, Session.simple(export), workers, new BufferPool(8L << 20), false, ownBudget());
    }

    public TransmissionLoop(ByteChannel ch, Export export, ExecutorService workers, BufferPool buffers) {
        this(ch, Session.simple(export), workers, buffers, false, ownBudget());
    }

    TransmissionLoop(ByteChannel ch, Session session, ExecutorService workers, BufferPool buffers, boolean zeroCopy) {
        this(ch, session, workers, buffers, zeroCopy, ownBudget());
    }

    /** A budget of the default size for a loop that shares none (a kernel device: its queue depth bounds it too). */
    private static PayloadBudget ownBudget() {
        return PayloadBudget.agent(NbdLimits.defaults().connectionPayload());
    }

    /**
     * {@code zeroCopy}: {@code ch} is a socket in blocking mode that only platform threads ever touch
     * (a virtual thread would switch its descriptor to non-blocking, where sendfile returns early), so
     * large READs may be sent with {@link Backend#transferTo}.
     */
    TransmissionLoop(
            ByteChannel ch,
            Session session,
            ExecutorService workers,
            BufferPool buffers,
            boolean zeroCopy,
            PayloadBudget budget) {
        Export export = session.export();
        this.ch = ch;
        this.budget = budget;
        this.session = session;
        this.observer = export.observers().get();
        this.clock = observer.clock();
        this.in = new InputBuffer(ch, READ_AHEAD, clock);
        this.buffers = buffers;
        this.backend = export.backend();
        this.checks = new RequestCheck(session);
        this.replies = new Replies(ch, session.structuredReplies(), clock);
        this.reads = new Reads(backend, replies, buffers, zeroCopy && backend.canTransferTo(), TRANSFER_MIN);
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
            // Every request answered; the slots go back, so that a stop waiting for them sees it at once.
            slots.acquireUninterruptibly(MAX_IN_FLIGHT);
            slots.release(MAX_IN_FLIGHT);
            observer.close();
        }
    }

    /**
     * Stops taking work: every request read from now on is answered NBD_ESHUTDOWN with {@code why}
     * (spec: a server that is going away), while those already running go on to their replies.
     */
    public void stop(String why) {
        stopping = why;
    }

    /**
     * Waits up to {@code nanos} until no request runs (every one taken in is answered); true if so.
     * After {@link #stop} nothing new starts running, so true means every reply is out.
     */
    public boolean awaitAnswered(long nanos) {
        try {
            if (!slots.tryAcquire(MAX_IN_FLIGHT, Math.max(0, nanos), TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        slots.release(MAX_IN_FLIGHT);
        return true;
    }

    /** How long the reply being written has blocked (0 when none is): a client not reading its replies. */
    long replyBlockedFor(long now) {
        return replies.blockedFor(now);
    }

    /** The payload a request holds while it runs: a WRITE's data, a READ's reply; other commands carry none. */
    private static int payloadOf(Received r) {
        return (r.type() == NBD_CMD_WRITE || r.type() == NBD_CMD_READ) && r.length() <= Handshake.MAX_BLOCK
                ? (int) r.length()
                : 0;
    }

    /**
     * Takes the request's slot and its payload budget (and a WRITE's payload), then hands them to
     * {@link #serve}, which gives them back. Until that hand-off succeeds they are this method's to give
     * back, whatever throws (an allocation past the direct memory limit, a payload read that fails, a
     * worker pool that refuses the task): a slot lost here would make {@link #run}'s close wait for it
     * forever.
     */
    private void dispatch(Received r) throws IOException, NbdProtocolException {
        if (r.type() == NBD_CMD_WRITE && r.length() > Handshake.MAX_BLOCK) {
            // The payload cannot be skipped without reading it, and is never buffered whole on the
            // client's say-so: the spec allows closing the connection here.
            throw new NbdProtocolException(
                    "WRITE: length " + r.length() + " is over the maximum of " + Handshake.MAX_BLOCK);
        }
        slots.acquireUninterruptibly();
        ByteBuffer payload = null;
        int charged = 0;
        boolean handedOff = false;
        try {
            // A stop refuses everything from now on (NBD_ESHUTDOWN); then the request's own checks.
            String why = stopping;
            Refusal refusal = why != null ? new Refusal(NBD_ESHUTDOWN, why) : checks.check(r);
            int charge = refusal == null ? payloadOf(r) : 0;
            budget.take(charge, ch);
            charged = charge;
            if (r.type() == NBD_CMD_WRITE && refusal == null) {
                payload = buffers.take((int) r.length());
                Channels.readFully(in, payload);
                payload.flip();
            } else if (r.type() == NBD_CMD_WRITE) {
                // Refused whatever it carries: read and dropped a piece at a time, so that a length the
                // client only announced (32 MiB past the end, then nothing) allocates nothing.
                Channels.skip(in, r.length());
            }
            if (refusal != null) {
                replies.error(r, refusal.error(), refusal.message());
                answered(r, refusal.error(), 0);
                return;
            }
            boolean small = r.type() == NBD_CMD_BLOCK_STATUS || r.length() <= INLINE_MAX;
            if (slots.availablePermits() == MAX_IN_FLIGHT - 1 && small) {
                // Nothing else in flight (queue depth 1) and a small request: serving here saves a thread
                // hand-off per request; a request that arrives meanwhile waits for this one only.
                handedOff = true;
                serve(r, payload, charged);
            } else {
                ByteBuffer data = payload;
                int bytes = charged;
                workers.execute(() -> serve(r, data, bytes));
                handedOff = true;
            }
        } finally {
            if (!handedOff) {
                if (payload != null) {
                    buffers.give(payload);
                }
                budget.give(charged);
                slots.release();
            }
        }
    }

    /** Runs one checked request on the backend and replies; always gives back its slot, budget and buffer. */
    private void serve(Received r, ByteBuffer payload, int charged) {
        boolean fua = (r.flags() & NBD_CMD_FLAG_FUA) != 0;
        try {
            switch (r.type()) {
                case NBD_CMD_READ -> {
                    Reads.Sent sent = reads.serve(r);
                    answered(r, sent.error(), sent.holeBytes());
                }
                case NBD_CMD_BLOCK_STATUS -> blockStatus(r);
                default -> {
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
                        int error = Failures.error(e);
                        replies.errorAt(r, error, Failures.message(r, r.offset(), r.length(), e), r.offset());
                        answered(r, error, 0);
                        return;
                    }
                    replies.done(r);
                    answered(r, NBD_OK, 0);
                }
            }
        } catch (IOException e) {
            LOG.debugf("%s: reply to %s lost: %s", session.export().name(), r.commandName(), e);
        } finally {
            if (payload != null) {
                buffers.give(payload);
            }
            budget.give(charged);
            slots.release();
        }
    }

    /**
     * NBD_CMD_BLOCK_STATUS of base:allocation: the backend's extents from the request's offset, one with
     * NBD_CMD_FLAG_REQ_ONE, each at most the request's length; counted as the range queried.
     */
    private void blockStatus(Received r) throws IOException {
        boolean one = (r.flags() & NBD_CMD_FLAG_REQ_ONE) != 0;
        Extents extents = new Extents(r.offset(), r.length(), one ? 1 : MAX_EXTENTS);
        try {
            backend.extents(extents);
            if (extents.count() == 0) {
                throw new IOException("the backend described no extent");
            }
        } catch (IOException | RuntimeException e) {
            int error = Failures.error(e);
            replies.errorAt(r, error, Failures.message(r, r.offset(), r.length(), e), r.offset());
            answered(r, error, 0);
            return;
        }
        int[] descriptors = new int[2 * extents.count()];
        for (int i = 0; i < extents.count(); i++) {
            // Within the request's length, so within 32 bits.
            descriptors[2 * i] = (int) extents.length(i);
            descriptors[2 * i + 1] = extents.flags(i);
        }
        replies.chunks(ReplyChunks.blockStatus(r.cookie(), session.allocationContext(), descriptors, extents.count()));
        answered(r, NBD_OK, 0);
    }

    /** Tells the observer that the request was answered, with its error and its time since receipt. */
    private void answered(Received r, int error, long holeBytes) {
        observer.answered(r.type(), r.length(), holeBytes, error, clock.getAsLong() - r.receivedNanos());
    }
}
