package dev.dmp.agent.nbd;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A fixed catalog of exports for handshake tests. */
final class Catalog implements ExportCatalog {
    private final Map<String, Export> exports = new LinkedHashMap<>();

    Catalog(Export... exports) {
        for (Export e : exports) {
            this.exports.put(e.name(), e);
        }
    }

    @Override
    public Export find(String name) {
        return exports.get(name);
    }

    @Override
    public List<String> names() {
        return List.copyOf(exports.keySet());
    }
}
