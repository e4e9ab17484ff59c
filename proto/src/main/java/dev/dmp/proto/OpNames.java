package dev.dmp.proto;

/** Lower-case operation names, as metrics labels and logs show them. */
public final class OpNames {
    private static final String[] NAMES = {"read", "write", "flush", "trim", "write_zeroes", "cache", "block_status"};

    private OpNames() {}

    /** The name of a {@link CounterSet} operation index. */
    public static String of(int op) {
        return NAMES[op];
    }
}
