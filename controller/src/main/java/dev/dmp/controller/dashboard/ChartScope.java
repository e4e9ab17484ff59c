package dev.dmp.controller.dashboard;

import dev.dmp.controller.ops.RequestChecks;
import dev.dmp.proto.v1.Scope;
import io.grpc.StatusException;
import java.util.function.Predicate;

/** What a chart or a rate covers: the fleet (no host), one host, or one volume of a host. */
public record ChartScope(String host, String volume) implements Predicate<VolumeKey> {
    public static final ChartScope FLEET = new ChartScope("", "");

    /** The scope named by optional query parameters; a volume needs its host. */
    public static ChartScope of(String host, String volume) throws StatusException {
        host = host == null ? "" : host;
        volume = volume == null ? "" : volume;
        RequestChecks.scope(
                volume.isEmpty() ? host.isEmpty() ? Scope.FLEET : Scope.HOST : Scope.VOLUME, host, volume, false);
        return new ChartScope(host, volume);
    }

    @Override
    public boolean test(VolumeKey v) {
        return (host.isEmpty() || host.equals(v.host())) && (volume.isEmpty() || volume.equals(v.name()));
    }
}
