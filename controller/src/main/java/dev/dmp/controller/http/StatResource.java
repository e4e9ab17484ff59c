package dev.dmp.controller.http;

import dev.dmp.controller.fleet.Fleet;
import dev.dmp.controller.fleet.VolumeCounts;
import dev.dmp.proto.CounterSet;
import dev.dmp.proto.OldView;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** The old module's view, fleet-wide: one block per volume, headed {@code HOST/VOLUME:}. */
@Path("/stat/volumes")
public class StatResource {
    private final Fleet fleet;

    public StatResource(Fleet fleet) {
        this.fleet = fleet;
    }

    @GET
    @Produces(MediaType.TEXT_PLAIN)
    public String show() {
        StringBuilder out = new StringBuilder();
        for (VolumeCounts v : fleet.ledger().volumeCounts()) {
            CounterSet c = v.sinceReset();
            OldView.appendBlock(
                    out,
                    v.host() + "/" + v.volume(),
                    c.requests(CounterSet.READ),
                    c.bytes(CounterSet.READ),
                    c.requests(CounterSet.WRITE),
                    c.bytes(CounterSet.WRITE));
        }
        return out.toString();
    }
}
