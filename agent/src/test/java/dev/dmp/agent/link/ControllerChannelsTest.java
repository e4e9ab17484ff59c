package dev.dmp.agent.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.InsecureChannelCredentials;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which controller each dial takes, and the channels behind them (none of them connects here). */
class ControllerChannelsTest {
    private static final List<String> THREE = List.of("c1:8080", "c2:8080", "c3:8080");

    private static ControllerChannels channels(List<String> targets, int first) {
        return new ControllerChannels(targets, InsecureChannelCredentials.create(), first);
    }

    @Test
    void eachDialTakesTheNextTargetFromTheFirstOneAndWrapsAround() {
        List<ControllerChannels.Dial> dials = new ArrayList<>();
        try (ControllerChannels channels = channels(THREE, 1)) {
            for (int i = 0; i < 5; i++) {
                dials.add(channels.next());
            }
        }
        assertEquals(
                List.of(
                        "c2:8080 (target 2 of 3)",
                        "c3:8080 (target 3 of 3)",
                        "c1:8080 (target 1 of 3)",
                        "c2:8080 (target 2 of 3)",
                        "c3:8080 (target 3 of 3)"),
                dials.stream().map(ControllerChannels.Dial::toString).toList());
        assertSame(dials.get(0).channel(), dials.get(3).channel(), "one channel per target, made once");
        assertSame(dials.get(1).channel(), dials.get(4).channel());
        assertEquals(3, dials.stream().map(d -> d.channel()).distinct().count());
        assertTrue(dials.stream().allMatch(d -> d.channel().isShutdown()), "closing shuts every channel down");
    }

    @Test
    void aSingleTargetIsEveryDialNamedAsBefore() {
        try (ControllerChannels channels = channels(List.of("ctl.dmp.svc:8080"), 0)) {
            ControllerChannels.Dial first = channels.next();
            ControllerChannels.Dial second = channels.next();
            assertEquals("ctl.dmp.svc:8080", first.toString());
            assertEquals(new ControllerChannels.Dial("ctl.dmp.svc:8080", 1, 1, first.channel()), second);
        }
    }

    @Test
    void noDialOnceClosed() {
        ControllerChannels channels = channels(THREE, 0);
        channels.close();
        assertNull(channels.next());
    }

    @Test
    void aFleetStartsAllOverTheList() {
        // 200 agents: the chance that one of three targets is nobody's first is 3 x (2/3)^200, about 1e-35.
        Set<Integer> firsts = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            try (ControllerChannels channels =
                    ControllerChannels.startingAnywhere(THREE, InsecureChannelCredentials.create())) {
                firsts.add(channels.next().number());
            }
        }
        assertEquals(Set.of(1, 2, 3), firsts);
    }
}
