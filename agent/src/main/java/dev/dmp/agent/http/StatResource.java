package dev.dmp.agent.http;

import dev.dmp.agent.stats.StatsJournal;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeRegistry;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OldView;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * The old module's sysfs file over HTTP: GET prints the counters of every volume (or of
 * {@code ?volume=NAME}); POST, with any body, resets them as {@code echo > .../stat/volumes} did
 * (with the token when one is set: {@link ChangeGuard}).
 */
@Path("/stat/volumes")
public class StatResource {
    private final VolumeRegistry registry;
    private final StatsJournal journal;

    public StatResource(VolumeRegistry registry, StatsJournal journal) {
        this.registry = registry;
        this.journal = journal;
    }

    @GET
    @Produces(MediaType.TEXT_PLAIN)
    public String show(@QueryParam("volume") String name) {
        StringBuilder out = new StringBuilder();
        for (Volume v : select(name)) {
            CounterSet s = v.stats().sinceReset();
            OldView.appendBlock(
                    out,
                    v.name(),
                    s.requests(CounterSet.READ),
                    s.bytes(CounterSet.READ),
                    s.requests(CounterSet.WRITE),
                    s.bytes(CounterSet.WRITE));
        }
        return out.toString();
    }

    @POST
    @Produces(MediaType.TEXT_PLAIN)
    public String reset(@QueryParam("volume") String name) {
        List<String> names = select(name).stream().map(Volume::name).toList();
        int n = journal.reset(names);
        return "reset " + n + " volume" + (n == 1 ? "" : "s") + "\n";
    }

    private List<Volume> select(String name) {
        if (name == null || name.isEmpty()) {
            return registry.list();
        }
        Volume v = registry.get(name);
        if (v == null) {
            // The text goes in the body: NotFoundException(String) only sets the reason phrase.
            throw new NotFoundException(Response.status(Response.Status.NOT_FOUND)
                    .type(MediaType.TEXT_PLAIN)
                    .entity("no volume named '" + name + "'\n")
                    .build());
        }
        return List.of(v);
    }
}
