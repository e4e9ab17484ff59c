package dev.dmp.agent.nbd;

import dev.dmp.agent.protocol.NbdRequest;

/** A request as the transmission loop received it, with when, for the latency counted at its reply. */
record Received(NbdRequest request, long receivedNanos) {
    int flags() {
        return request.flags();
    }

    int type() {
        return request.type();
    }

    long cookie() {
        return request.cookie();
    }

    long offset() {
        return request.offset();
    }

    long length() {
        return request.length();
    }

    String commandName() {
        return request.commandName();
    }
}
