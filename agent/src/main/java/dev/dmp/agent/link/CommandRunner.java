package dev.dmp.agent.link;

import dev.dmp.agent.host.HostOperations;
import dev.dmp.agent.host.VolumeDescriber;
import dev.dmp.agent.volume.VolumeException;
import dev.dmp.proto.v1.Command;
import dev.dmp.proto.v1.CommandResult;
import io.grpc.Status;

/** Carries out the controller's commands on this agent's volumes. */
public final class CommandRunner {
    private final HostOperations operations;
    private final VolumeDescriber describer;

    public CommandRunner(HostOperations operations, VolumeDescriber describer) {
        this.operations = operations;
        this.describer = describer;
    }

    /** Runs the command; the result's last_seq is filled in by the link. */
    CommandResult.Builder run(Command command) {
        CommandResult.Builder result = CommandResult.newBuilder().setId(command.getId());
        try {
            switch (command.getActionCase()) {
                case CREATE ->
                    result.setVolume(describer.describe(operations.create(
                            command.getCreate().getName(),
                            command.getCreate().getBackend(),
                            command.getCreate().getReadOnly(),
                            command.getCreate().getKernel(),
                            Integer.toUnsignedLong(command.getCreate().getKernelTimeoutSeconds()))));
                case DELETE -> operations.delete(command.getDelete().getName());
                case RESET ->
                    result.setVolumesReset(operations.reset(command.getReset().getNamesList()));
                case ACTION_NOT_SET -> throw new VolumeException(Status.Code.INVALID_ARGUMENT, "empty command");
            }
            result.setCode(Status.Code.OK.value());
        } catch (VolumeException e) {
            result.setCode(e.code().value()).setMessage(e.getMessage());
        } catch (RuntimeException e) {
            result.setCode(Status.Code.INTERNAL.value()).setMessage("agent " + operations.hostId() + ": " + e);
        }
        return result;
    }
}
