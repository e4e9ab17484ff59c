package dev.dmp.agent.kernel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What sysfs says about the nbd devices: which exist, and which are in use. The kernel creates
 * {@code /sys/block/nbdN/pid} when a device starts (it names the task that runs NBD_DO_IT) and removes
 * it when the device's configuration is released, so a device without it is free. The root is a
 * parameter so that tests can use a fake tree.
 */
public final class NbdSysfs {
    private static final Pattern NBD = Pattern.compile("nbd(\\d+)");

    private final Path sys;

    public NbdSysfs(Path sys) {
        this.sys = sys;
    }

    /** True when the nbd driver is loaded (or built in). */
    public boolean driverPresent() {
        return Files.isDirectory(sys.resolve("module/nbd")) || !devices().isEmpty();
    }

    /** The device numbers N of every /sys/block/nbdN, ascending. */
    public List<Integer> devices() {
        List<Integer> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(sys.resolve("block"))) {
            s.forEach(p -> {
                Matcher m = NBD.matcher(p.getFileName().toString());
                if (m.matches()) {
                    out.add(Integer.parseInt(m.group(1)));
                }
            });
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    /** True when /sys/block/nbdN/pid is absent: nobody runs the device. */
    public boolean free(int n) {
        return Files.notExists(sys.resolve("block/nbd" + n + "/pid"));
    }

    /** The task id in /sys/block/nbdN/pid, if the device is running. */
    public OptionalLong pid(int n) {
        try {
            return OptionalLong.of(Long.parseLong(
                    Files.readString(sys.resolve("block/nbd" + n + "/pid")).trim()));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * The backend identifier a netlink attach gave the device ({@code /sys/block/nbdN/backend}, present
     * while it is configured with one), if any.
     */
    public Optional<String> backend(int n) {
        try {
            return Optional.of(Files.readString(sys.resolve("block/nbd" + n + "/backend"))
                            .trim())
                    .filter(b -> !b.isEmpty());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The device size in bytes, from /sys/block/nbdN/size (512-byte sectors). */
    public long sizeBytes(int n) {
        try {
            return Long.parseLong(Files.readString(sys.resolve("block/nbd" + n + "/size"))
                            .trim())
                    * 512;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
