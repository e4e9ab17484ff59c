package dev.dmp.bench.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/** CPU time of a process (or a process tree) from /proc/PID/stat, and the load average. */
final class ProcCpu {
    private static final long TICKS_PER_SECOND = clockTicks();

    private ProcCpu() {}

    /** utime + stime of the process (all its threads), in seconds. */
    static double seconds(long pid) throws IOException {
        String[] f = fields(pid);
        long utime = Long.parseLong(f[11]), stime = Long.parseLong(f[12]); // fields 14 and 15
        return (double) (utime + stime) / TICKS_PER_SECOND;
    }

    /**
     * CPU of a process and all its descendants, in seconds: PostgreSQL's postmaster and its backends,
     * checkpointer, WAL writer... Each one's utime + stime + cutime + cstime (fields 14-17): a backend
     * that exited was reaped by its parent and is in the parent's cutime/cstime from then on (all of its
     * life, so a connection opened before a window and closed in it counts whole).
     */
    static double treeSeconds(long pid) throws IOException {
        long ticks = withChildren(pid);
        for (ProcessHandle p :
                ProcessHandle.of(pid).map(h -> h.descendants().toList()).orElse(List.of())) {
            try {
                ticks += withChildren(p.pid());
            } catch (NoSuchFileException e) {
                // exited since it was listed: now in its parent's cutime/cstime
            }
        }
        return (double) ticks / TICKS_PER_SECOND;
    }

    private static long withChildren(long pid) throws IOException {
        String[] f = fields(pid);
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
    }

    /** /proc/PID/stat from field 3 on (index 0 is field 3). */
    private static String[] fields(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            return p.waitFor() == 0 ? Long.parseLong(out) : 100;
        } catch (IOException | InterruptedException | NumberFormatException e) {
            return 100;
        }
    }
}
