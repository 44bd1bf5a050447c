#!/usr/bin/env python3
"""Runs eisim's benchmark suite and writes BENCHMARKS.md (see bench/README.md).

Every measurement is its own process (eisim_bench or bench/peers/torch_peer.py), so each peak RSS
belongs to one measurement. eisim and its PyTorch peer run the same workload back to back, and
their ratio is formed from medians taken in this one run.
"""
import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# How many timed repetitions each size gets: learning steps of eisim and of the peer, forward passes,
# and repetitions of one floor product. Chosen so that the whole suite stays under 15 minutes on
# 2 cores. The floor's products are short and the first few after allocating their matrices are
# slow: one forward product at N = 4000 measured 29 ms as the median of 4 and 17 ms of 30. eisim's timed runs write no /activity (training.activity_trials = 0), so every learning
# step is a typical one and all of them are timed.
REPS = {
    100: dict(eisim_steps=4, peer_steps=3, forward=3, floor=20),
    250: dict(eisim_steps=16, peer_steps=4, forward=9, floor=100),
    1000: dict(eisim_steps=4, peer_steps=2, forward=2, floor=50),
    4000: dict(eisim_steps=1, peer_steps=1, forward=1, floor=30),
}
# The peer is not run where one of its learning steps takes minutes (rk4 at N = 4000: about 6 min a
# step on 2 cores, extrapolated from N = 1000 by N²); the row says so.
# At N = 4000, p = 1.0 the peer's job is the p = 0.2 row's (its products are dense whatever p is;
# only the recording grows), and running it would take the suite past 15 minutes.
# The peer at N = 4000 with euler, p = 0.2 takes about 6 minutes (one learning step of 4.6 min):
# run only with --peer-4000, since it alone would take the suite past 15 minutes on slower cores.
PEER_SKIPPED = {(4000, "rk4", 0.2): "not run (about 6 min per step)", (4000, "rk4", 1.0): "not run (about 6 min per step)",
                (4000, "euler", 1.0): "not run (dense: the p = 0.2 job)"}
PEER_4000 = (4000, "euler", 0.2)
PEER_4000_SKIPPED = "not run (about 5 min per step; bench/run.sh --peer-4000)"


# The peer and eisim compute the same losses up to round-off (float64, different summation order).
SAME_JOB_TOL = 1e-9
# Exit code when the peer could not run (CTest reports the smoke test as skipped).
SKIPPED = 77


def settings(n, stepper, p, duration_ms, extra=()):
    n_e = int(round(0.8 * n))
    s = [f"populations.E.size={n_e}", f"populations.I.size={n - n_e}", "task.batch=16", f"task.duration_ms={duration_ms}",
         "integrator.dt_ms=1", f"integrator.stepper={stepper}", "training.record_every=1", "training.activity_trials=0"]
    s += [f"projections.recurrent.p={p}"]
    return s + list(extra)


def sets(settings_):
    return [a for s in settings_ for a in ("--set", s)]


def run_json(cmd, log):
    log.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
    log.flush()
    r = subprocess.run(cmd, capture_output=True, text=True)
    log.write(r.stdout + r.stderr)
    if r.returncode != 0:
        sys.exit(f"bench: command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def h5_losses(path, count):
    import h5py
    with h5py.File(path, "r") as f:
        return [float(v) for v in f["training/loss"][:count].ravel()]


class Bench:
    def __init__(self, args, tmp, log):
        self.a, self.tmp, self.log = args, tmp, log
        self.exe = os.path.join(args.build, "eisim")
        self.bench = os.path.join(args.build, "eisim_bench")
        self.thr = ["--threads", str(args.threads)]

    def eisim_learn(self, st, steps, name="learn"):
        out = os.path.join(self.tmp, name + ".h5")
        r = run_json([self.bench, "learn", *self.thr, *sets(st + [f"training.steps={steps}"]), "--out", out], self.log)
        r["losses"] = h5_losses(out, steps)
        os.remove(out)
        return r

    def eisim_forward(self, st, reps):
        return run_json([self.bench, "forward", *self.thr, *sets(st), "--reps", str(reps)], self.log)

    def floor(self, st, reps):
        return run_json([self.bench, "floor", *self.thr, *sets(st), "--reps", str(reps)], self.log)

    def peer(self, st, steps, forward_reps):
        if not self.a.torch:
            return None
        start = os.path.join(self.tmp, "start.h5")
        cmd = [self.exe, *self.thr, "run", "-q", "--overwrite", *sets(st + ["training.steps=0", "training.activity_trials=16"]),
               "--out", start]
        self.log.write("$ " + " ".join(cmd) + "\n")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"bench: command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
        r = run_json([self.a.python, os.path.join(ROOT, "bench/peers/torch_peer.py"), "--run", start, "--steps", str(steps),
                      "--forward-reps", str(forward_reps), "--threads", str(self.a.threads),
                      "--record", os.path.join(self.tmp, "peer_record.h5")], self.log)
        os.remove(start)
        return r


def fit_exponent(xs, ys):
    """Least-squares slope of log y against log x: y ∝ x^slope."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1048576:.0f} GiB"
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, {mem} memory, {platform.system()} {platform.release()}"


def fmt(x, digits=3):
    if x is None:
        return "n/a"
    return f"{x:.{digits}g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder with eisim and eisim_bench")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"), help="the report to write")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="N = 250 and 1000, euler, p = 0.2 only (a few minutes)")
    ap.add_argument("--smoke", action="store_true", help="a tiny network only: checks that the suite runs (tests)")
    ap.add_argument("--python", default=sys.executable, help="the interpreter for the PyTorch peer")
    ap.add_argument("--peer-4000", action="store_true", help="also run the peer at N = 4000 (euler, p = 0.2; about 6 min more)")
    args = ap.parse_args()
    if not args.peer_4000:
        PEER_SKIPPED[PEER_4000] = PEER_4000_SKIPPED
    # Asked of a child: importing torch here would make this process large for no use.
    args.torch = subprocess.run([args.python, "-c", "import torch"], capture_output=True).returncode == 0
    if not args.torch:
        print("bench: PyTorch is not installed (Debian: apt-get install python3-torch); the peer is left out",
              file=sys.stderr)

    if args.smoke:
        sizes, steppers, probs, duration = [100], ["euler"], [0.2], 50
    elif args.quick:
        sizes, steppers, probs, duration = [250, 1000], ["euler"], [0.2], 200
    else:
        sizes, steppers, probs, duration = [250, 1000, 4000], ["euler", "rk4"], [0.2, 1.0], 200
    started = time.time()
    tmp = tempfile.mkdtemp(prefix="eisim_bench_")
    log_path = os.path.join(tmp, "bench.log")
    log = open(log_path, "w")
    b = Bench(args, tmp, log)
    rows, floors = [], {}

    def say(msg):
        print(f"[{time.time() - started:6.0f} s] {msg}", file=sys.stderr, flush=True)

    # The fixed cost of the process: the same job on a 10-cell network, whose data take a few kB; what
    # remains is code, shared libraries, HDF5 and thread stacks, the same for every N.
    say("fixed cost: the job on 10 cells")
    fixed_mb = b.eisim_learn(settings(10, "euler", 0.2, duration), 2, name="fixed")["peak_rss_mb"]

    for n in sizes:
        rep = REPS[n]
        for stepper in steppers:
            floor_st = settings(n, stepper, 1.0, duration)
            say(f"floor N={n} {stepper}")
            floors[(n, stepper)] = b.floor(floor_st, rep["floor"])
            for p in probs:
                st = settings(n, stepper, p, duration)
                say(f"N={n} {stepper} p={p}: eisim")
                learn = b.eisim_learn(st, rep["eisim_steps"])
                fwd = b.eisim_forward(st, rep["forward"])
                say(f"N={n} {stepper} p={p}: PyTorch peer")
                peer = None
                if (n, stepper, p) not in PEER_SKIPPED:
                    peer_steps = rep["peer_steps"] if stepper == "euler" else max(1, rep["peer_steps"] // 2)
                    # One forward pass where one takes over 10 s (0: time the warm-up pass itself).
                    peer = b.peer(st, peer_steps, rep["forward"] if n < 1000 or (n == 1000 and stepper == "euler") else 0)
                rows.append(dict(n=n, stepper=stepper, p=p, learn=learn, fwd=fwd, peer=peer, floor=floors[(n, stepper)]))

    # Recording overhead: every weight at every step against snapshots only at the first and last
    # step, in pairs whose order alternates (A B, B A, A B) so that drifts of a shared machine hit
    # both alike; the overhead is the median over the pairs of their ratio.
    rec_n = 1000 if not args.smoke else 100
    rec_st = settings(rec_n, "euler", 0.2, duration)
    rec_steps = 8 if not args.smoke else 3
    rec_pairs = 3 if not args.smoke else 1
    rec_ends = [s for s in rec_st if not s.startswith("training.record_every")] + [f"training.record_every={rec_steps + 1}"]
    every, ends = [], []
    for i in range(rec_pairs):
        say(f"recording overhead N={rec_n}, pair {i + 1} of {rec_pairs}")
        for st in ((rec_st, rec_ends) if i % 2 == 0 else (rec_ends, rec_st)):
            (every if st is rec_st else ends).append(b.eisim_learn(st, rec_steps)["step_median_s"])
    ratios = sorted(a / e for a, e in zip(every, ends))
    rec_overhead = ratios[len(ratios) // 2] - 1

    # Growth with the trial length (N = 1000, euler, p = 0.2).
    growth_n = 1000 if not args.smoke else 100
    lengths = [100, 200, 400] if not args.smoke else [25, 50]
    by_length = []
    for d in lengths:
        say(f"trial length {d} ms")
        by_length.append(b.eisim_learn(settings(growth_n, "euler", 0.2, d), 3)["step_median_s"])
    # Sparse against dense recurrent products (integrator.products), the measurement behind
    # integrator.sparse_below: forward pass and learning step at N = 1000, euler.
    cross_n = 1000 if not args.smoke else 100
    cross_p = [0.05, 0.1, 0.2] if not args.smoke else [0.1]
    crossover = []
    for p in cross_p:
        say(f"sparse against dense products, p = {p}")
        t = {}
        for products in ("dense", "sparse"):
            st = settings(cross_n, "euler", p, duration, [f"integrator.products={products}"])
            t[products] = (b.eisim_forward(st, 3)["forward_median_s"], b.eisim_learn(st, 3)["step_median_s"])
        crossover.append((p, t))
    elapsed = time.time() - started
    log.close()
    write_report(args, rows, (rec_overhead, every, ends, rec_n, rec_steps), (growth_n, lengths, by_length), (cross_n, crossover),
                 elapsed, duration, fixed_mb)
    say(f"wrote {args.out} (log: {log_path})")
    # A ratio between different jobs means nothing: the peer must have learned what eisim learned.
    bad = [r for r in rows if r["same"] is not None and not r["same"] <= SAME_JOB_TOL]
    if bad:
        sys.exit(f"bench: the PyTorch peer's losses differ from eisim's by more than {SAME_JOB_TOL:g} "
                 f"(N = {bad[0]['n']}, {bad[0]['stepper']}, p = {bad[0]['p']}: {bad[0]['same']:.3g}); see {log_path}")
    if not args.torch:
        sys.exit(SKIPPED)


def write_report(args, rows, rec, growth, crossover, elapsed, duration, fixed_mb):
    L = []
    w = L.append
    w("# eisim benchmarks")
    w("")
    now = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M"], capture_output=True, text=True).stdout.strip()
    w(f"Written by `bash bench/run.sh{' --quick' if args.quick else ''}{' --smoke' if args.smoke else ''}` on "
      f"{now} UTC in {elapsed / 60:.1f} minutes.")
    w("")
    w(f"- Machine: {machine()}")
    native = False
    try:
        with open(os.path.join(args.build, "CMakeCache.txt")) as f:
            native = any(line.strip() == "EISIM_NATIVE:BOOL=ON" for line in f)
    except OSError:
        pass
    w(f"- eisim: `{os.path.relpath(args.build, ROOT)}/`, Release, "
      + ("`-DEISIM_NATIVE=ON` (-march=native, this machine's vector units)" if native else "portable (no -march)"))
    w(f"- Threads: {args.threads} for eisim (OpenMP) and for PyTorch (intra-op)")
    if rows and rows[0]["peer"]:
        w(f"- PyTorch {rows[0]['peer']['torch']} (Debian python3-torch), float64, autograd through every step")
    w(f"- Job: teacher–student, B = 16 trials of {duration} ms (dt = 1 ms), 80 % E, connection probability p for all "
      "four E/I blocks, exact gradient, EG step, every weight recorded at every step")
    w("")
    w("Times are medians of repeated runs in seconds per learning step (forward + exact gradient + EG step + recording "
      "+ checkpoint) or per forward pass of the batch. *ratio* = PyTorch / eisim, both measured in this run; "
      "*floor* = the dense products the step cannot avoid, timed with Eigen in eisim's process (bench/bench.cpp); "
      "*x floor* = eisim / floor (the floor is timed in its own process on random matrices of the same shapes, so a ratio "
      "slightly below 1 is timing noise, not a program faster than its products). *same job*: the peer starts from eisim's run file and its losses over the timed "
      "steps equal eisim's (largest relative difference shown).")
    w("")
    w("| N | stepper | p | eisim step | PyTorch step | ratio | step floor | x floor | eisim forward | PyTorch forward | "
      "forward floor | x floor | peak RSS eisim / PyTorch (MB) | (RSS − fixed) / (weights + trajectory) | same job |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lrn, fwd, peer, fl = r["learn"], r["fwd"], r["peer"], r["floor"]
        n, T = r["n"], lrn["steps_per_trial"]
        need_mb = 8 * (n * n + n * 20 + 2 * n + n * 16 * (T + 1)) / 1048576
        ratio = peer["step_median_s"] / lrn["step_median_s"] if peer else None
        fratio = peer["forward_median_s"] / fwd["forward_median_s"] if peer and peer["forward_median_s"] else None
        same = None
        if peer:
            k = min(len(peer["losses"]), len(lrn["losses"]))
            same = max(abs(a - b) / abs(b) for a, b in zip(peer["losses"][:k], lrn["losses"][:k]))
        mem = (lrn["peak_rss_mb"] - fixed_mb) / need_mb
        r.update(ratio=ratio, fratio=fratio, need_mb=need_mb, same=same, mem=mem)
        missing = PEER_SKIPPED.get((n, r["stepper"], r["p"]), "n/a")
        w(f"| {n} | {r['stepper']} | {r['p']} | {fmt(lrn['step_median_s'])} | {fmt(peer['step_median_s']) if peer else missing} | "
          f"{fmt(ratio)} | {fmt(fl['floor_step_s'])} | {fmt(lrn['step_median_s'] / fl['floor_step_s'])} | "
          f"{fmt(fwd['forward_median_s'])} | {fmt(peer['forward_median_s'] if peer else None)} | {fmt(fl['floor_forward_s'])} | "
          f"{fmt(fwd['forward_median_s'] / fl['floor_forward_s'])} | {lrn['peak_rss_mb']:.0f} / "
          f"{fmt(peer['peak_rss_mb'] if peer else None, 4)} | {mem:.2f} | {fmt(same, 2)} |")
    w("")
    w("*weights + trajectory*: the dense float64 W_rec, W_in, W_out (what the products use) plus the one stored "
      "forward trajectory the gradient needs, N × B × (T + 1) doubles. *fixed*: the peak RSS of the same job on a "
      f"10-cell network, {fixed_mb:.1f} MB here (code, shared libraries, HDF5, thread stacks: the same for every N); "
      "the peak RSS itself is in the table.")
    w("")

    w("## Goals")
    w("")

    def goal(text, ok, detail):
        w(f"- {'PASS' if ok else 'FAIL'}: {text} — {detail}")

    def pick(pred):
        return [r for r in rows if pred(r)]

    for n, need in ((250, 10.0), (1000, 5.0)):
        sel = pick(lambda r: r["n"] == n and r["ratio"] is not None)
        if sel:
            worst = min(r["ratio"] for r in sel)
            goal(f"learning step ≥ {need:g}× faster than the PyTorch peer at N = {n}", worst >= need,
                 "ratios " + ", ".join(f"{r['stepper']} p={r['p']}: {r['ratio']:.1f}×" for r in sel))
    sel = pick(lambda r: r["n"] >= 1000)
    if sel:
        worst = max(r["fwd"]["forward_median_s"] / r["floor"]["floor_forward_s"] for r in sel)
        goal("forward integration within 1.5× of the floor at N ≥ 1000", worst <= 1.5,
             "eisim / floor " + ", ".join(f"N={r['n']} {r['stepper']} p={r['p']}: "
                                          f"{r['fwd']['forward_median_s'] / r['floor']['floor_forward_s']:.2f}" for r in sel))
    overhead, every, ends, rec_n, rec_steps = rec
    goal(f"recording every weight at every step adds ≤ 10 % at N = {rec_n}, p = 0.2", overhead <= 0.10,
         f"{100 * overhead:+.1f} % (median over {len(every)} pairs of runs of {rec_steps} learning steps, in alternating "
         f"order, of the ratio of their step medians; recording every step: "
         + ", ".join(f"{t:.3g}" for t in every) + " s; recording only the first and last snapshot: "
         + ", ".join(f"{t:.3g}" for t in ends) + " s)")
    # Judged on the memory above the process's fixed cost, at N ≥ 1000 where the network dominates
    # (at N = 1000 the fixed cost is half the data); every peak RSS is in the table.
    sel = pick(lambda r: r["n"] >= 1000) or rows
    for p in sorted({r["p"] for r in sel}):
        sp = [r for r in sel if r["p"] == p]
        worst = max(r["mem"] for r in sp)
        goal(f"peak memory above the fixed {fixed_mb:.0f} MB ≤ 2× the weights plus the one stored forward trajectory "
             f"(N ≥ {sp[0]['n']}, p = {p})", worst <= 2.0,
             "ratios " + ", ".join(f"N={r['n']} {r['stepper']}: {r['learn']['peak_rss_mb']:.0f} MB → {r['mem']:.2f}×" for r in sp))
    w("")

    w("## Growth")
    w("")
    for stepper in ("euler", "rk4"):
        for p in (0.2, 1.0):
            sel = pick(lambda r: r["stepper"] == stepper and r["p"] == p)
            if len(sel) >= 2:
                e = fit_exponent([r["n"] for r in sel], [r["learn"]["step_median_s"] for r in sel])
                ef = fit_exponent([r["n"] for r in sel], [r["fwd"]["forward_median_s"] for r in sel])
                w(f"- With N ({stepper}, p = {p}; N = {', '.join(str(r['n']) for r in sel)}): learning step ∝ N^{e:.2f}, "
                  f"forward ∝ N^{ef:.2f} (least squares on log–log; dense products are N² per state column, the "
                  "gradient's accumulation N² per trial and time step)")
    gn, lengths, by_length = growth
    if len(lengths) >= 2:
        e = fit_exponent(lengths, by_length)
        w(f"- With trial length (N = {gn}, euler, p = 0.2; {', '.join(f'{d} ms: {t:.3g} s' for d, t in zip(lengths, by_length))}): "
          f"learning step ∝ T^{e:.2f}")
    w("")
    cross_n, cross = crossover
    w("## Sparse or dense recurrent products")
    w("")
    w(f"`integrator.products = auto` uses compressed-row products when at most `integrator.sparse_below` (default 0.1) "
      f"of the N² entries are synapses. Measured here at N = {cross_n}, euler (seconds; speed-up = dense / sparse):")
    w("")
    w("| p | forward dense | forward sparse | speed-up | learning step dense | learning step sparse | speed-up |")
    w("|---|---|---|---|---|---|---|")
    for p, t in cross:
        (fd, ld), (fs, ls) = t["dense"], t["sparse"]
        w(f"| {p} | {fmt(fd)} | {fmt(fs)} | {fd / fs:.2f} | {fmt(ld)} | {fmt(ls)} | {ld / ls:.2f} |")
    w("")
    if all(t["dense"][1] / t["sparse"][1] < t["dense"][0] / t["sparse"][0] for _, t in cross):
        w("The learning step gains less than the forward pass: its gradient accumulation stays a dense N×N product.")
        w("")
    # The sections other scripts measure are kept from the file being replaced: the before/after
    # section (bench/ab.sh), the spiking ones (bench/spiking.py, bench/spiking_learning.py) and the
    # Python binding's (bench/python_binding.py), the held-out set's (bench/heldout.py) and the
    # page faults' (bench/observe_ab.py).
    kept = ""
    if os.path.exists(args.out):
        with open(args.out) as f:
            old = f.read()
        for section in old.split("\n## ")[1:]:
            if section.startswith(("Before and after", "Spiking", "Python binding", "Held-out set", "Observe and run")):
                kept += "## " + section.rstrip() + "\n\n"
    with open(args.out, "w") as f:
        f.write("\n".join(L).rstrip() + "\n" + ("\n" + kept.rstrip() + "\n" if kept else ""))


if __name__ == "__main__":
    main()
