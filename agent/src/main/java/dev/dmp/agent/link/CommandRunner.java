package dev.dmp.agent.link;

import dev.dmp.agent.Agent;
import dev.dmp.agent.volume.Volume;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import io.grpc.Status;
import java.util.List;

/** Carries out the controller's commands on this agent's volumes. */
final class CommandRunner {
    private final Agent agent;

    CommandRunner(Agent agent) {
        this.agent = agent;
    }

    /** Runs the command; the result's last_seq is filled in by the link. */
    CommandResult.Builder run(Command command) {
        CommandResult.Builder result = CommandResult.newBuilder().setId(command.getId());
        try {
            switch (command.getActionCase()) {
                case CREATE -> {
                    Volume v = agent.createVolume(command.getCreate().getName(), command.getCreate().getBackend(),
                            command.getCreate().getKernel());
                    result.setVolume(agent.describe(v));
                }
                case DELETE -> agent.deleteVolume(command.getDelete().getName(), false);
                case RESET -> {
                    List<String> names = command.getReset().getNamesList();
                    if (names.isEmpty()) {
                        names = agent.registry().list().stream().map(Volume::name).toList();
                    } else {
                        for (String name : names) {
                            if (agent.registry().get(name) == null) {
                                throw new VolumeException(Status.Code.NOT_FOUND, "volume '" + name + "' does not exist");
                            }
                        }
                    }
                    result.setVolumesReset(agent.journal().reset(names));
                }
                case ACTION_NOT_SET -> throw new VolumeException(Status.Code.INVALID_ARGUMENT, "empty command");
            }
            result.setCode(Status.Code.OK.value());
        } catch (VolumeException e) {
            result.setCode(e.code().value()).setMessage(e.getMessage());
        } catch (RuntimeException e) {
            result.setCode(Status.Code.INTERNAL.value()).setMessage("agent " + agent.settings().hostId() + ": " + e);
        }
        return result;
    }
}
