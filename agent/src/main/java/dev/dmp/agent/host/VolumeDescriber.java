package dev.dmp.agent.host;

import dev.dmp.agent.kernel.KernelAttacher;
import dev.dmp.agent.volume.Volume;
import java.nio.file.Path;

/**
 * A volume as the API, ListVolumes and the controller show it ({@code dmp.v1.Volume}): its host, spec,
 * size and NBD URI, and its kernel device with the attachment's state when it asked for one.
 */
public final class VolumeDescriber {
    private final String hostId;
    private final Path nbdSocket;
    private final KernelAttacher kernel;

    public VolumeDescriber(String hostId, Path nbdSocket, KernelAttacher kernel) {
        this.hostId = hostId;
        this.nbdSocket = nbdSocket;
        this.kernel = kernel;
    }

    public dev.dmp.proto.v1.Volume describe(Volume volume) {
        var b = dev.dmp.proto.v1.Volume.newBuilder()
                .setHost(hostId)
                .setName(volume.name())
                .setBackend(volume.spec())
                .setSizeBytes(volume.size())
                .setNbdUri("nbd+unix:///" + volume.name() + "?socket=" + nbdSocket)
                .setReadOnly(volume.readOnly());
        kernel.describe(volume.name(), b);
        return b.build();
    }
}
