package dev.dmp.agent.protocol;

/** A peer broke the protocol in a way that ends its connection (bad magic, oversized frame...). */
public class NbdProtocolException extends Exception {
    public NbdProtocolException(String message) {
        super(message);
    }
}
