package dev.dmp.bench.fleet;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The controller's heap use, from {@code jcmd PID GC.heap_info}: the sum of the "used" figures of the
 * heap's top-level lines (Serial: DefNew + Tenured; G1: the garbage-first heap line; ZGC: the ZHeap line).
 */
final class HeapProbe {
    /**
     * Top-level lines only ("DefNew total 116224K, used 27671K"; JDK 25's G1: "garbage-first heap total
     * reserved 524288K, committed 293888K, used 221438K"); spaces have no "total".
     */
    private static final Pattern USED = Pattern.compile("total (?:reserved \\d+K, committed )?\\d+K, used (\\d+)K");
    /** ZGC's one line: "ZHeap used 266M, capacity 498M, max capacity 512M". */
    private static final Pattern ZGC_USED = Pattern.compile("ZHeap\\s+used (\\d+)M");

    private final String jcmd;
    private final long pid;

    HeapProbe(String jcmd, long pid) {
        this.jcmd = jcmd;
        this.pid = pid;
    }

    /** Heap used now, in MiB. */
    double usedMiB() throws IOException, InterruptedException {
        String out = run("GC.heap_info");
        Matcher m = USED.matcher(out);
        long kib = 0;
        boolean found = false;
        while (m.find()) {
            kib += Long.parseLong(m.group(1));
            found = true;
        }
        Matcher z = ZGC_USED.matcher(out);
        if (!found && z.find()) {
            kib = Long.parseLong(z.group(1)) * 1024;
            found = true;
        }
        if (!found) {
            throw new IOException("cannot read the heap from jcmd GC.heap_info:\n" + out);
        }
        return kib / 1024.0;
    }

    /** Heap used right after a full collection: the live set, in MiB. */
    double usedAfterGcMiB() throws IOException, InterruptedException {
        run("GC.run");
        return usedMiB();
    }

    private String run(String command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(jcmd, Long.toString(pid), command)
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(jcmd + " " + pid + " " + command + " failed:\n" + out);
        }
        return out;
    }
}
