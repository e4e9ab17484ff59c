package dev.dmp.agent.volume;

import dev.dmp.agent.nbd.Export;
import dev.dmp.agent.nbd.ExportCatalog;
import java.util.List;

/** Every volume of the registry is an NBD export of the same name. */
public final class VolumeExports implements ExportCatalog {
    private final VolumeRegistry registry;

    public VolumeExports(VolumeRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Export find(String name) {
        Volume volume = registry.get(name);
        return volume == null ? null : volume.export();
    }

    @Override
    public List<String> names() {
        return registry.list().stream().map(Volume::name).toList();
    }
}
