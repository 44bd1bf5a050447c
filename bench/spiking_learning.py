#!/usr/bin/env python3
"""A spiking learning step, eisim against a PyTorch peer (issue 16): e-prop and surrogate BPTT.

  python3 bench/spiking_learning.py [--eisim build/eisim] [--bench build/eisim_bench]
                                    [--python /usr/bin/python3] [--sizes 250,1000] [--threads 1,2]
                                    [--blas DIR|system] [--reference-blas] [--json OUT.json]

The job (config() below, every key one a user sets): N spiking cells, 40 % ALIF and 40 % LIF
excitatory, 20 % LIF inhibitory, recurrent connection probability p = 0.1 (in-degree 25 at N = 250,
100 at N = 1000), three Poisson input channels, two leaky readouts of every cell; the
perceptual_decision task, B = 16 trials of 400 ms at dt = 1 ms; credit eprop or surrogate_bptt,
exponentiated-gradient step (plasticity.geometry = "eg", learning rate 0.5), every weight
recorded at every step.

For each size, rule and thread count, side by side in this one run:
  eisim   `eisim_bench learn --config CFG` (bench/bench.cpp): the real learning loop; the median
          of its learning steps (forward pass, credit, EG step, recording every weight; new
          trials and Poisson spikes each step), training.activity_trials = 0;
  PyTorch bench/peers/torch_spiking_peer.py on the run file of `eisim run CFG` with
          training.steps = 1 and every trial's activity: it first checks that its loss equals
          eisim's /trajectory/loss[0] and its EG step eisim's first step (relative 1e-10, the same
          spike count), then times --peer-steps learning steps (median). For eprop the goal's peer
          writes the forward eligibility traces per synapse and trial (Bellec et al. 2020); a
          second peer (`--eprop-form adjoint`, left out with --no-adjoint-peer) computes the same
          gradient in eisim's own backward form with one product per projection: it shows how
          much of eisim's lead is the algorithm.
Threads: OMP_NUM_THREADS = t and --threads t for eisim; torch.set_num_threads(t),
OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = t for the peer; OMP_WAIT_POLICY = PASSIVE for both
(--wait-policy): on a machine shared with other jobs, OpenMP threads that spin at their barriers
wait for descheduled partners, and 2-thread peer steps took 20 to 30 times their 1-thread time. Each
measurement is its own process.

BLAS. Debian's python3-torch does its float64 products in the system's libblas.so.3, which is
the reference BLAS of libblas3 unless an optimised one is installed (10 times slower products on
the machine of BENCHMARKS.md). The peer is timed with OpenBLAS when it can be found: --blas DIR
(a folder with libblas.so.3, put first on the peer's LD_LIBRARY_PATH), by default $EISIM_BENCH_OPENBLAS,
/usr/lib/x86_64-linux-gnu/openblas-openmp (Debian's libopenblas0-openmp) or openblas-pthread;
`--blas system` times what `apt-get install python3-torch` alone gives. --reference-blas adds,
for surrogate_bptt at one thread, the peer on the reference BLAS too (libblas3's, which is
single-threaded).

Prints a Markdown table and the goal lines; --json writes every measurement. Exit 0 when every
peer did the same job as eisim (the goal's PASS or FAIL does not change the exit status).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "peers", "torch_spiking_peer.py")
# OpenBLAS's OpenMP build first: it shares torch's OpenMP threads (the pthread build adds its own pool).
OPENBLAS_DIRS = ["/usr/lib/x86_64-linux-gnu/openblas-openmp", "/usr/lib/x86_64-linux-gnu/openblas-pthread"]
REFERENCE_BLAS = "/usr/lib/x86_64-linux-gnu/blas"  # Debian's libblas3 (the reference BLAS)


def config(n, rule, batch=16, duration_ms=400.0, p=0.1):
    n_ad, n_e = int(0.4 * n), int(0.4 * n)
    n_i = n - n_ad - n_e
    return f"""# bench/spiking_learning.py: N = {n}, {rule}
[network]
spectral_radius = 0.0
[[populations]]
name = "E_ad"
model = "alif"
size = {n_ad}
bias_mV = 8.0
tau_a_ms = 200.0
[[populations]]
name = "E"
model = "lif"
size = {n_e}
bias_mV = 8.0
[[populations]]
name = "I"
model = "lif"
size = {n_i}
sign = "inhibitory"
bias_mV = 8.0
[[populations]]
name = "in"
model = "input"
size = 3
spike_rate_hz = 400.0
[[populations]]
name = "out"
model = "readout"
size = 2
tau_out_ms = 20.0
[[projections]]
name = "recurrent"
pre = ["E_ad", "E", "I"]
post = ["E_ad", "E", "I"]
p = {p}
scale = 2.0
delay = 1
[[projections]]
name = "input"
pre = "in"
post = ["E_ad", "E", "I"]
p = 1.0
scale = 6.0
delay = 1
[[projections]]
name = "readout"
pre = ["E_ad", "E", "I"]
post = "out"
connectivity = "all_to_all"
scale = 1.0
[integrator]
dt_ms = 1.0
[task]
kind = "perceptual_decision"
batch = {batch}
fresh_trials = true
duration_ms = {duration_ms}
fixation_ms = 100.0
stimulus_ms = {duration_ms - 200.0}
delay_ms = 0.0
coherence = 1.0
[plasticity]
credit = "{rule}"
geometry = "eg"
learning_rate = 0.5
[training]
steps = 10
record_every = 1
activity_trials = 0
"""


def run_json(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    wall = time.perf_counter() - t0
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if not lines:
        sys.exit(f"spiking_learning: no result from {' '.join(cmd)} (exit {r.returncode})\n{r.stderr[-3000:]}")
    d = json.loads(lines[-1])
    d["exit"], d["process_s"], d["load_1min"] = r.returncode, wall, os.getloadavg()[0]
    return d


def thread_env(t, blas=None, wait_policy="passive"):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[k] = str(t)
    if wait_policy != "default":
        env["OMP_WAIT_POLICY"] = wait_policy.upper()
    if blas:
        env["LD_LIBRARY_PATH"] = blas + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def find_blas(choice):
    if choice == "system":
        return None
    if choice != "auto":
        if not os.path.exists(os.path.join(choice, "libblas.so.3")):
            sys.exit(f"spiking_learning: no libblas.so.3 in {choice}")
        return choice
    for d in [os.environ.get("EISIM_BENCH_OPENBLAS", "")] + OPENBLAS_DIRS:
        if d and os.path.exists(os.path.join(d, "libblas.so.3")):
            return d
    return None


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 ** 2
    return f"{model}, {os.cpu_count()} logical cores, {mem:.0f} GiB memory, Linux {platform.release()}"


def fmt(x, digits=3):
    if x is None:
        return "n/a"
    return f"{x:.{digits}g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eisim", default=os.path.join(ROOT, "build", "eisim"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "eisim_bench"))
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with Debian's python3-torch and h5py")
    ap.add_argument("--sizes", default="250,1000")
    ap.add_argument("--rules", default="eprop,surrogate_bptt")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--duration-ms", type=float, default=400.0)
    ap.add_argument("--p", type=float, default=0.1, help="recurrent connection probability")
    ap.add_argument("--eisim-steps", type=int, default=10, help="learning steps of each eisim measurement")
    ap.add_argument("--peer-steps", type=int, default=3, help="timed learning steps of each peer measurement")
    ap.add_argument("--blas", default="auto", help="folder of the peer's libblas.so.3, or 'system' (default: OpenBLAS if found)")
    ap.add_argument("--reference-blas", action="store_true", help="also the peer on the reference BLAS (surrogate_bptt, 1 thread)")
    ap.add_argument("--wait-policy", choices=("passive", "active", "default"), default="passive",
                    help="OMP_WAIT_POLICY of both programs (passive: idle threads sleep; spinning threads on a shared "
                         "machine measure the other jobs)")
    ap.add_argument("--no-adjoint-peer", action="store_true", help="leave out the e-prop peer in eisim's adjoint form")
    ap.add_argument("--json", default="", help="write every measurement here")
    ap.add_argument("--work", default="", help="folder for configs and run files (default: a temporary one)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rules = args.rules.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    for exe in (args.eisim, args.bench):
        if not os.access(exe, os.X_OK):
            sys.exit(f"spiking_learning: {exe} not found (cmake --build build --target eisim eisim_bench)")
    have_torch = subprocess.run([args.python, "-c", "import torch, h5py"], capture_output=True).returncode == 0
    if not have_torch:
        print(f"spiking_learning: {args.python} has no torch (apt-get install python3-torch): eisim alone", file=sys.stderr)
    blas = find_blas(args.blas)
    work = args.work or tempfile.mkdtemp(prefix="eisim_spiking_learning_")
    os.makedirs(work, exist_ok=True)
    started = time.time()
    rows, loads = [], [os.getloadavg()[0]]
    for n in sizes:
        for rule in rules:
            cfg = os.path.join(work, f"n{n}_{rule}.toml")
            with open(cfg, "w") as f:
                f.write(config(n, rule, args.batch, args.duration_ms, args.p))
            ref = os.path.join(work, f"n{n}_{rule}.h5")
            if have_torch:  # the run file the peer starts from and checks its first step against
                subprocess.run([args.eisim, "run", cfg, "--out", ref, "--overwrite", "--quiet", "--set", "training.steps=1",
                                "--set", f"training.activity_trials={args.batch}"], check=True, stdout=subprocess.DEVNULL)
            for t in threads:
                row = dict(N=n, rule=rule, threads=t)
                row["eisim"] = run_json([args.bench, "learn", "--config", cfg, "--threads", str(t), "--out",
                                         os.path.join(work, "bench_learn.h5"), "--set", f"training.steps={args.eisim_steps}"],
                                        env=thread_env(t, None, args.wait_policy))
                loads.append(row["eisim"]["load_1min"])
                if have_torch:
                    peer = [args.python, PEER, "--run", ref, "--steps", str(args.peer_steps), "--threads", str(t),
                            "--record", os.path.join(work, "peer_record.h5")]
                    row["torch"] = run_json(peer, env=thread_env(t, blas, args.wait_policy))
                    loads.append(row["torch"]["load_1min"])
                    if rule == "eprop" and not args.no_adjoint_peer:
                        row["torch_adjoint"] = run_json(peer + ["--eprop-form", "adjoint"], env=thread_env(t, blas, args.wait_policy))
                        loads.append(row["torch_adjoint"]["load_1min"])
                    if args.reference_blas and rule == "surrogate_bptt" and t == 1 and blas:
                        row["torch_reference_blas"] = run_json(peer[:4] + ["--steps", "2"] + peer[6:], env=thread_env(t, REFERENCE_BLAS, args.wait_policy))
                rows.append(row)
                e, p = row["eisim"], row.get("torch")
                print(f"N={n} {rule} threads={t}: eisim {fmt(e['step_median_s'])} s"
                      + (f", torch {fmt(p['step_median_s'])} s, same job {p['same_job']}" if p else ""), file=sys.stderr)
    minutes = (time.time() - started) / 60
    loads.append(os.getloadavg()[0])
    same = all(r[k]["same_job"] for r in rows for k in ("torch", "torch_adjoint", "torch_reference_blas") if k in r)

    # The report.
    peer0 = next((r["torch"] for r in rows if "torch" in r), None)
    out = []
    out.append(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))} in {minutes:.1f} minutes, "
               f"load average (1 min) {min(loads):.1f} to {max(loads):.1f} during the run.")
    out.append("")
    out.append(f"- Machine: {machine()}")
    out.append(f"- eisim: `{os.path.relpath(args.bench, ROOT)}` (`eisim_bench learn --config`), median of "
               f"{args.eisim_steps} learning steps per process")
    if peer0:
        out.append(f"- PyTorch {peer0['torch']} (Debian python3-torch), float64, BLAS: {peer0['blas']}; median of "
                   f"{args.peer_steps} learning steps after the checked first one")
    out.append(f"- Threads: as in the table, OMP_WAIT_POLICY = {args.wait_policy}")
    out.append(f"- Job: N cells (40 % ALIF, 40 % LIF E, 20 % LIF I), recurrent p = {args.p}, 3 Poisson inputs, 2 leaky "
               f"readouts; perceptual_decision, B = {args.batch} trials of {args.duration_ms:g} ms, dt = 1 ms; EG step, "
               f"every weight recorded")
    out.append("")
    extra = [(k, title) for k, title in (("torch_adjoint", "PyTorch e-prop, eisim's adjoint form (s)"),
                                          ("torch_reference_blas", "PyTorch, reference BLAS (s)"))
             if any(k in r for r in rows)]
    head = "| N | rule | threads | eisim step (s) | PyTorch step (s) | ratio |"
    for _, title in extra:
        head += f" {title} | ratio |"
    head += " spikes in the batch (first step) | peak RSS eisim / PyTorch (MB) | same job: loss, step (rel. diff) |"
    out.append(head)
    out.append("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        e, p = r["eisim"], r.get("torch")
        ratio = p["step_median_s"] / e["step_median_s"] if p and p["step_median_s"] else None
        r["ratio"] = ratio
        line = f"| {r['N']} | {r['rule']} | {r['threads']} | {fmt(e['step_median_s'])} | {fmt(p['step_median_s']) if p else 'n/a'} | {fmt(ratio)} |"
        for k, _ in extra:
            s = r.get(k)
            if s and s["step_median_s"]:
                r[k + "_ratio"] = s["step_median_s"] / e["step_median_s"]
                line += f" {fmt(s['step_median_s'])} | {fmt(r[k + '_ratio'])} |"
            else:
                line += " | |"
        if p:
            checks = [p] + [r[k] for k, _ in extra if k in r]
            same_txt = (f"{max(c['loss_rel_diff'] for c in checks):.1e}, {max(max(c['step_rel_diff'].values()) for c in checks):.1e}"
                        + ("" if all(c["same_job"] for c in checks) else " NOT THE SAME"))
            line += f" {p['spikes']} | {e['peak_rss_mb']:.0f} / {p['peak_rss_mb']:.0f} | {same_txt} |"
        else:
            line += f" | {e['peak_rss_mb']:.0f} / n/a | n/a |"
        out.append(line)
    out.append("")
    for rule in rules:
        for n in sizes:
            rs = [r for r in rows if r["rule"] == rule and r["N"] == n and r.get("ratio")]
            if not rs:
                continue
            ok = all(r["ratio"] >= 10 for r in rs)
            out.append(f"- {'PASS' if ok else 'FAIL'}: {rule} learning step >= 10x the PyTorch peer at N = {n}: "
                       + ", ".join(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}: {r['ratio']:.1f}x" for r in rs))
    for n in sizes:
        rs = [r for r in rows if r["rule"] == "eprop" and r["N"] == n and r.get("torch_adjoint_ratio")]
        if rs:
            out.append(f"- (not the goal's peer) eprop against PyTorch in eisim's adjoint form at N = {n}: "
                       + ", ".join(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}: {r['torch_adjoint_ratio']:.1f}x" for r in rs))
    print("\n".join(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(rows=rows, minutes=minutes, loads=loads, machine=machine(), blas=blas), f, indent=1)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
