package dev.dmp.agent.nbd;

import java.util.List;

/** The exports a server offers, looked up by name at each handshake. */
public interface ExportCatalog {
    /** The export called {@code name}, or null. */
    Export find(String name);

    /** Every export name, for NBD_OPT_LIST. */
    List<String> names();
}
