#!/usr/bin/env python3
"""eisim when processes share the cores, and sweep throughput (BENCHMARKS.md, "Shared cores" and
"Sweeps"). Wall times of whole `eisim run` processes of the N = 250 problem (bench/run.py's job:
200 E + 50 I, B = 16 trials of 200 ms, euler, p = 0.2, every weight recorded every step):

  alone vs side by side: one process alone, then K = cores processes at once, single-threaded;
    one alone and two at once with OpenMP's default thread count; each as eisim starts (a short
    spin, GOMP_SPINCOUNT=3000), never spinning (OMP_WAIT_POLICY=PASSIVE) and spinning
    (OMP_WAIT_POLICY=ACTIVE, about what eisim did before). The ratio is the
    slowest of the K processes over the median of the alone runs.
  sweep throughput: the same sweep (networks of the N = 250 problem) with --jobs 1 and --jobs 2;
    networks per hour of --jobs 2 over twice those of --jobs 1.
  a 1000-network sweep (--large): N = 100 (80 E + 20 I), 100 ms trials, 50 steps, seeds 1..1000,
    --jobs = cores, timed whole.

  bench/shared_cores.py [--build build] [--steps 20] [--reps 3] [--large] [--out FILE.md]
Medians over --reps repetitions, run in alternating order; every number is measured in this run.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N250 = ["populations.E.size=200", "populations.I.size=50", "task.batch=16", "task.duration_ms=200", "integrator.dt_ms=1",
        "integrator.stepper=euler", "projections.recurrent.p=0.2", "training.record_every=1", "training.activity_trials=0"]


def env_with(policy):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("OMP_NUM_THREADS", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    return env


def runs_at_once(eisim, tmp, k, steps, threads, policy, tag):
    """Wall seconds of each of k `eisim run` processes started together."""
    cmds = []
    for i in range(k):
        cmd = [eisim, "run", "--out", os.path.join(tmp, f"{tag}-{i}.h5"), "--overwrite", "--quiet",
               "--set", f"training.steps={steps}", "--set", f"training.seed={i + 1}"]
        for s in N250:
            cmd += ["--set", s]
        if threads:
            cmd += ["--threads", str(threads)]
        cmds.append(cmd)
    starts, procs = [], []
    for c in cmds:
        starts.append(time.perf_counter())
        procs.append(subprocess.Popen(c, env=env_with(policy), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    times = [0.0] * k
    pending = set(range(k))
    while pending:
        for i in list(pending):
            if procs[i].poll() is not None:
                times[i] = time.perf_counter() - starts[i]
                pending.discard(i)
                if procs[i].returncode != 0:
                    sys.exit(f"shared_cores: {' '.join(cmds[i])} failed: {procs[i].stderr.read().decode()}")
        time.sleep(0.005)
    return times


def sweep_seconds(eisim, tmp, text, jobs, tag):
    path = os.path.join(tmp, f"{tag}.toml")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(tmp, tag)
    t = time.perf_counter()
    r = subprocess.run([eisim, "sweep", "run", path, "--out", out, "--jobs", str(jobs), "--quiet"], env=env_with(None),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"shared_cores: the sweep {tag} failed: {r.stdout[-500:]} {r.stderr[-500:]}")
    return time.perf_counter() - t


def sweep_text(sets, seeds):
    lines = ["[set]"] + [f'"{s.split("=", 1)[0]}" = {toml_value(s.split("=", 1)[1])}' for s in sets]
    lines += ["[grid]", f'"training.seed" = {{ range = [1, {seeds}] }}']
    return "\n".join(lines) + "\n"


def toml_value(v):
    try:
        float(v)
        return v
    except ValueError:
        return f'"{v}"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sweep-runs", type=int, default=8)
    ap.add_argument("--large", action="store_true", help="also the 1000-network sweep of the N = 100 problem")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    eisim = os.path.join(os.path.abspath(a.build), "eisim")
    cores = os.cpu_count() or 1
    tmp = tempfile.mkdtemp(prefix="eisim_shared_")
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    say(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.processor() or platform.machine()}, "
        f"{cores} cores, build `{os.path.relpath(a.build, ROOT) if a.build.startswith(ROOT) else a.build}`, "
        f"{a.steps} learning steps a run, medians of {a.reps} repetitions in alternating order.")
    say()
    say("| policy | threads a process | processes at once | alone (s) | side by side, slowest (s) | ratio | goal |")
    say("|---|---|---|---|---|---|---|")
    for policy, name in ((None, "eisim's (GOMP_SPINCOUNT=3000)"), ("PASSIVE", "OMP_WAIT_POLICY=PASSIVE (never spin)"),
                         ("ACTIVE", "OMP_WAIT_POLICY=ACTIVE (spinning)")):
        for threads, k, goal in ((1, cores, 1.15), (None, 2, 2.3)):
            alone, together = [], []
            for r in range(a.reps):
                order = [0, 1] if r % 2 == 0 else [1, 0]
                for o in order:
                    if o == 0:
                        alone.append(runs_at_once(eisim, tmp, 1, a.steps, threads, policy, "alone")[0])
                    else:
                        together.append(max(runs_at_once(eisim, tmp, k, a.steps, threads, policy, "together")))
            t1, tk = statistics.median(alone), statistics.median(together)
            ratio = tk / t1
            say(f"| {name} | {threads or 'default (' + str(cores) + ')'} | {k} | {t1:.2f} | {tk:.2f} | {ratio:.2f} | "
                f"<= {goal}{(' met' if ratio <= goal else ' not met') if policy is None else ''} |")
    say()

    # Sweep throughput: the same sweep with --jobs 1 and --jobs 2.
    text = sweep_text(N250 + [f"training.steps={a.steps}"], a.sweep_runs)
    one, two = [], []
    for r in range(a.reps):
        for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
            s = sweep_seconds(eisim, tmp, text, jobs, f"sweep-j{jobs}-{r}")
            (one if jobs == 1 else two).append(s)
    r1, r2 = a.sweep_runs / statistics.median(one) * 3600, a.sweep_runs / statistics.median(two) * 3600
    say(f"| sweep of {a.sweep_runs} networks (N = 250, {a.steps} steps) | seconds | networks per hour |")
    say("|---|---|---|")
    say(f"| --jobs 1 | {statistics.median(one):.2f} | {r1:.0f} |")
    say(f"| --jobs 2 | {statistics.median(two):.2f} | {r2:.0f} |")
    say(f"| --jobs 2 / (2 x --jobs 1) | | {r2 / (2 * r1):.2f} (goal >= 0.90{', met' if r2 / (2 * r1) >= 0.9 else ', not met'}) |")
    say()

    if a.large:
        n100 = ["populations.E.size=80", "populations.I.size=20", "task.duration_ms=100", "training.steps=50"]
        t = sweep_seconds(eisim, tmp, sweep_text(n100, 1000), cores, "large")
        say(f"A 1000-network sweep of the N = 100 problem (80 E + 20 I, 100 ms trials, 50 steps, the default task, "
            f"every weight recorded every step), --jobs {cores}: {t:.0f} s ({t / 60:.1f} min), "
            f"{1000 / t * 3600:.0f} networks per hour, {t / 1000 * cores:.2f} s of a core per network.")
    if a.out:
        with open(a.out, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
