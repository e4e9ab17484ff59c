package dev.dmp.agent.nbd;

import java.util.List;

/** The exports a server offers, looked up by name at each handshake. */
public interface ExportCatalog {
    /** The export called {@code name}, or null. */
    Export find(String name);

    /** Every export name, for NBD_OPT_LIST. */
    List<String> names();

    /**
     * The same exports with no observers: a benchmark switch only
     * ({@code dmp.agent.benchmark-uncounted-socket}), to measure what counting costs.
     */
    default ExportCatalog unobserved() {
        ExportCatalog observed = this;
        return new ExportCatalog() {
            @Override
            public Export find(String name) {
                Export e = observed.find(name);
                return e == null ? null : e.unobserved();
            }

            @Override
            public List<String> names() {
                return observed.names();
            }
        };
    }
}
