package dev.dmp.agent.link;

import dev.dmp.agent.Agent;
import dev.dmp.agent.api.HostOperations;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import io.grpc.Status;

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
            HostOperations ops = agent.operations();
            switch (command.getActionCase()) {
                case CREATE -> result.setVolume(agent.describe(
                        ops.create(command.getCreate().getName(), command.getCreate().getBackend(),
                                command.getCreate().getReadOnly(), command.getCreate().getKernel(),
                                Integer.toUnsignedLong(command.getCreate().getKernelTimeoutSeconds()))));
                case DELETE -> ops.delete(command.getDelete().getName());
                case RESET -> result.setVolumesReset(ops.reset(command.getReset().getNamesList()));
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
