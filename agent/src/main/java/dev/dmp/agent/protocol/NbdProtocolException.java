package dev.dmp.agent.nbd;

/** A peer broke the protocol in a way that ends its connection (bad magic, oversized frame...). */
public class NbdProtocolException extends Exception {
    public NbdProtocolException(String message) {
        super(message);
    }
}
