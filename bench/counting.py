"""The tables and the verdict of bench/counting.sh (see its header).

`counting.py profile WINDOWS < perf-script-output` prints "NAME SAMPLES COUNTING" per line of WINDOWS
("NAME START END", perf's CLOCK_MONOTONIC seconds) (part 2): the samples in that window, and those in
counting's code: a frame in VolumeStats$Shard or TransmissionLoop.counted (kept out of
line for this), or a clock read (vDSO / clock_gettime on top) called from TransmissionLoop.run or
InputBuffer.fill (kept out of line too), which read the clock at receipt (once per read(2)) only for a
counted connection.

`counting.py RAW [COST_NS] [PROFILE]`: the summary, from part 3's raw lines:
workload label on X-socket X-ops X-cpu-ns X-MB/s Y-socket Y-ops Y-cpu-ns Y-MB/s
label: onoff.N or aa.N (the N-th pair); on: the agent (X or Y) whose CPU per op is put over the other's.
A pair's ratio is the geometric mean of its two runs' ratios (the two agents swapped)."""
import math
import random
import re
import statistics
import sys


def samples_of(stream):
    """perf script's samples: lists of lines (the header, then the frames), one per sample."""
    block = []
    for line in stream:
        line = line.strip()
        if line:
            block.append(line)
        elif block:
            yield block
            block = []
    if block:
        yield block


def profile(windows):
    """Per window (NAME START END, CLOCK_MONOTONIC seconds): "NAME SAMPLES COUNTING"."""
    wins = [(n, float(a), float(b)) for n, a, b in (l.split() for l in open(windows) if l.strip())]
    counts = {n: [0, 0] for n, _, _ in wins}
    for lines in samples_of(sys.stdin):
        t = re.search(r"\s(\d+\.\d+):\s", " " + lines[0])
        name = t and next((n for n, a, b in wins if a <= float(t.group(1)) <= b), None)
        if name is None:
            continue
        counts[name][0] += 1
        frames = [l.split(" ", 1)[-1] for l in lines[1:]]
        if any("VolumeStats$Shard." in f or "TransmissionLoop.counted" in f for f in frames):
            counts[name][1] += 1
        else:
            # A clock read on top (the vDSO, or clock_gettime's system call where the clock has no vDSO).
            user = [f for f in frames if "kernel.kallsyms" not in f]
            if user and ("vdso" in user[0] or "clock_gettime" in user[0]):
                ours = [f for f in user[:5] if "TransmissionLoop." in f or "InputBuffer." in f]
                if ours and ("TransmissionLoop.run" in ours[0] or "InputBuffer.fill" in ours[0]):
                    counts[name][1] += 1
    for n, (samples, counting) in counts.items():
        print(n, samples, counting)


if sys.argv[1] == "profile":
    profile(sys.argv[2])
    sys.exit(0)

cost_ns = float(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None
runs = {}  # (workload, kind, pair) -> list of (ratio of CPU per op, ratio of ops, X/Y CPU per op)
off_ns = {}  # workload -> the uncounted side's CPU per op (ns) in each on/off run
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    w, label, on, xs, xo, xc, xm, ys, yo, yc, ym = line.split()
    kind, pair = label.split(".")
    x, y = float(xc) / float(xo), float(yc) / float(yo)
    cpu = x / y if on == "X" else y / x
    ops = float(xo) / float(yo) if on == "X" else float(yo) / float(xo)
    runs.setdefault((w, kind, pair), []).append((cpu, ops, x / y))
    if kind == "onoff":
        off_ns.setdefault(w, []).append(y if on == "X" else x)

workloads = list(dict.fromkeys(w for w, _, _ in runs))


def pairs(w, kind, i):
    """One figure per complete pair: the geometric mean of its runs' ratios (element i)."""
    return [math.exp(sum(math.log(r[i]) for r in v) / len(v))
            for (w_, k, _), v in runs.items() if w_ == w and k == kind and len(v) == 2]


def ci(groups, n=10000, seed=1):
    """Median of all values and a bootstrap 95% interval of it, resampling within each group."""
    rnd = random.Random(seed)
    allv = [x for g in groups for x in g]
    meds = sorted(statistics.median([x for g in groups for x in rnd.choices(g, k=len(g))]) for _ in range(n))
    return statistics.median(allv), meds[int(0.025 * n)], meds[int(0.975 * n) - 1]


def verdict(lo, hi, pairs=2):
    if pairs < 2:
        return "not shown (fewer than 2 pairs per workload)"
    if 0.97 <= lo and hi <= 1.03:
        return "yes"
    if lo > 1.03:
        return "no: counting costs more than 3%"
    if hi < 0.97:
        return "not shown (interval below 0.97: noise)"
    return "not shown (interval wider than 0.97-1.03)"


print("Per workload, one ratio per pair of runs (agents swapped): median [bootstrap 95% interval of the median].")
print("CPU per op: the counted side's over the uncounted side's (A/A: both counted, one side over the other).")
print("bound: 1 + counting's own cost per request (CountingCost, ns) / the agent's CPU per op uncounted: what")
print("counting would add if it cost nothing beyond its clock reads and shard updates.")
print("ops: completed ops of that side over the other's in the same run (both ran at once); nbdcopy copies a fixed size.")
print()
print("| workload | pairs | on/off CPU per op | on/off min-max | on/off ops | A/A CPU per op | A/A min-max | X/Y bias (A/A runs) | agent CPU per op, off | bound | within 3% |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
all_on, all_aa = [], []
for w in workloads:
    on, aa, ops = pairs(w, "onoff", 0), pairs(w, "aa", 0), pairs(w, "onoff", 1)
    if not on or not aa:
        continue
    all_on.append(on)
    all_aa.append(aa)
    m, lo, hi = ci([on])
    am, alo, ahi = ci([aa])
    bias = statistics.median(r[2] for (w_, k, _), v in runs.items() if w_ == w and k == "aa" for r in v)
    opsf = "" if w.startswith("nbdcopy") else f"{statistics.median(ops):.3f}"
    per_op = statistics.median(off_ns[w])
    bound = "" if cost_ns is None else f"{1 + cost_ns / per_op:.4f}"
    print(f"| {w} | {len(on)} | {m:.3f} [{lo:.3f}-{hi:.3f}] | {min(on):.3f}-{max(on):.3f} | {opsf} | "
          f"{am:.3f} [{alo:.3f}-{ahi:.3f}] | {min(aa):.3f}-{max(aa):.3f} | {bias:.3f} | {per_op / 1000:.1f} us | {bound} | {verdict(lo, hi, len(on))} |")
if not all_on:
    sys.exit("no complete pairs")
m, lo, hi = ci(all_on)
am, alo, ahi = ci(all_aa)
n = sum(map(len, all_on))
fewest = min(map(len, all_on))
print(f"| all workloads pooled | {n} | {m:.3f} [{lo:.3f}-{hi:.3f}] | | | {am:.3f} [{alo:.3f}-{ahi:.3f}] | | | | | {verdict(lo, hi, fewest)} |")
prof = {}
if len(sys.argv) > 3 and sys.argv[3]:
    for line in open(sys.argv[3]):
        name, n_, k_ = line.split()
        prof[name] = (int(n_), int(k_))
if prof:
    print()
    print("Profile (part 2): counting's share of the agent's CPU samples, with a 95% interval (Poisson), and the")
    print("on/off ratio of CPU per op it makes: 1 / (1 - share).")
    print()
    print("| workload | samples | in counting | share | 95% interval | on/off ratio (upper) | within 3% |")
    print("|---|---|---|---|---|---|---|")
    worst_hi = 0.0
    for name, (n_, k_) in prof.items():
        if name.endswith("-uncounted"):
            print(f"| {name} (control: counting off) | {n_} | {k_} | {k_ / max(n_, 1) * 100:.2f}% | | | |")
            continue
        share = k_ / n_ if n_ else 0.0
        phi = (k_ + 1.96 * math.sqrt(k_) + 1.92) / n_ if n_ else 1.0  # Poisson upper bound (k = 0 safe)
        plo = max(0.0, (k_ - 1.96 * math.sqrt(k_)) / n_) if n_ else 0.0
        worst_hi = max(worst_hi, phi)
        print(f"| {name} | {n_} | {k_} | {share * 100:.2f}% | {plo * 100:.2f}-{phi * 100:.2f}% | "
              f"{1 / (1 - share):.4f} ({1 / (1 - phi):.4f}) | {'yes' if 1 / (1 - phi) <= 1.03 else 'not shown'} |")
print()
if cost_ns is not None:
    worst = max(off_ns, key=lambda w: cost_ns / statistics.median(off_ns[w]))
    print(f"bound: counting's own cost {cost_ns:.0f} ns per request; at most {cost_ns / statistics.median(off_ns[worst]) * 100:.2f}% "
          f"of the agent's CPU per op ({worst}, {statistics.median(off_ns[worst]) / 1000:.1f} us)")
print(f"end to end, A/A (the method's own noise, both sides counted): CPU per op ratio {am:.3f} (95% CI {alo:.3f}-{ahi:.3f})")
print(f"end to end, counting on/off: CPU per op ratio {m:.3f} (95% CI {lo:.3f}-{hi:.3f}) over {n} pairs -> within 3%: {verdict(lo, hi, fewest)}")
e2e = verdict(lo, hi, fewest)
if prof:
    pv = "yes" if 1 / (1 - worst_hi) <= 1.03 else "not shown"
    print(f"profile, counting's share of agent CPU: at most {worst_hi * 100:.2f}% (upper 95% bound, worst workload) "
          f"-> on/off ratio at most {1 / (1 - worst_hi):.4f} -> within 3%: {pv}")
    if pv == "yes" and e2e == "yes":
        final = "yes (profile and end to end)"
    elif pv == "yes" and not e2e.startswith("no:"):
        final = "yes by the profile; the end-to-end interval is not above 1.03 but too wide to show 3% by itself"
    elif e2e.startswith("no:"):
        final = "no: the end-to-end interval lies above 1.03"
    else:
        final = "not shown"
    print(f"counting on/off: CPU per op ratio at most {1 / (1 - worst_hi):.3f} by the profile; end to end {m:.3f} "
          f"(95% CI {lo:.3f}-{hi:.3f}) -> within 3%: {final}")
else:
    print(f"counting on/off: CPU per op ratio {m:.3f} (95% CI {lo:.3f}-{hi:.3f}) -> within 3%: {e2e}")
