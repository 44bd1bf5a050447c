#!/usr/bin/env python3
"""eisim's spiking simulation against Brian2's C++ standalone mode, on Brian2's CUBA example.

  bench/spiking.py [--eisim build/eisim] [--python /usr/bin/python3] [--reps 3]

Two jobs, each simulated by both: the CUBA network of examples/cuba.toml (4000 LIF cells, 80 % E,
p = 0.02, dt = 0.1 ms) for 10 s of biological time, and a 1000-cell variant (p = 0.1) for 1 s. The
Brian2 model is Brian2's examples/CUBA.py with the synaptic delay of one step that eisim's
delays have (so both simulate the same network model; the networks are drawn by each tool's own
random numbers). eisim's time is the whole `eisim simulate` process (drawing the network, the
simulation, writing the run file); Brian2's is the run of its compiled standalone binary (its
network is drawn there too), with the code generation and compilation timed apart. Medians of
--reps runs each, side by side in this one run. Prints a Markdown table for BENCHMARKS.md.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BRIAN2 = textwrap.dedent("""
    import sys, time
    from brian2 import *
    n, p, duration_s, directory = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    set_device('cpp_standalone', directory=directory, build_on_run=False)
    defaultclock.dt = 0.1*ms
    taum, taue, taui = 20*ms, 5*ms, 10*ms
    Vt, Vr, El = -50*mV, -60*mV, -49*mV
    eqs = '''dv/dt = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt'''
    P = NeuronGroup(n, eqs, threshold='v>Vt', reset='v = Vr', refractory=5*ms, method='exact')
    P.v = 'Vr + rand() * (Vt - Vr)'
    P.ge = 0*mV
    P.gi = 0*mV
    we, wi = (60*0.27/10)*mV, (-20*4.5/10)*mV
    ne = int(0.8*n)
    Ce = Synapses(P, P, on_pre='ge += we', delay=0.1*ms)
    Ci = Synapses(P, P, on_pre='gi += wi', delay=0.1*ms)
    Ce.connect('i<ne', p=p)
    Ci.connect('i>=ne', p=p)
    M = SpikeMonitor(P)
    run(duration_s*second)
    t0 = time.perf_counter()
    device.build(directory=directory, compile=True, run=False, debug=False)
    print('compile_s', time.perf_counter() - t0)
""")


def timed(cmd, cwd=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return time.perf_counter() - t0, r.stdout


def spike_count(path, populations):
    import h5py
    with h5py.File(path, "r") as f:
        return sum(len(f["spikes"][p]["timestamps"]) for p in populations)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eisim", default=os.path.join(ROOT, "build", "eisim"))
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    jobs = [("4000 cells, p = 0.02, 10 s", 4000, 0.02, 10.0), ("1000 cells, p = 0.1, 1 s", 1000, 0.1, 1.0)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "cuba_standalone.py")
        with open(script, "w") as f:
            f.write(BRIAN2)
        for label, n, p, seconds in jobs:
            ne = int(0.8*n)
            out = os.path.join(tmp, "run.h5")
            cmd = [a.eisim, "simulate", os.path.join(ROOT, "examples", "cuba.toml"), "--out", out, "--overwrite",
                   "--set", f"populations.E.size={ne}", "--set", f"populations.I.size={n - ne}",
                   "--set", f"projections.recurrent.p={p}", "--set", f"task.duration_ms={seconds*1000}"]
            e_times = [timed(cmd)[0] for _ in range(a.reps)]
            e_spikes = spike_count(out, ["E", "I"])
            d = os.path.join(tmp, f"brian2_{n}")
            gen_s, text = timed([a.python, script, str(n), str(p), str(seconds), d])
            compile_s = float(text.split("compile_s")[1].split()[0])
            b_times = [timed([os.path.join(d, "main")], cwd=d)[0] for _ in range(a.reps)]
            import numpy as np
            b_spikes = len(np.fromfile(os.path.join(d, "results", sorted(
                x for x in os.listdir(os.path.join(d, "results")) if x.startswith("_dynamic_array_spikemonitor_i"))[0]), dtype=np.int32))
            rows.append((label, statistics.median(e_times), e_spikes, statistics.median(b_times), b_spikes, gen_s, compile_s))
    print("| job | eisim simulate (median) | spikes | Brian2 standalone run (median) | spikes | eisim / Brian2 | Brian2 code generation + compilation (apart) |")
    print("|---|---|---|---|---|---|---|")
    for label, e, es, b, bs, gen, comp in rows:
        print(f"| {label} | {e:.3f} s | {es} | {b:.3f} s | {bs} | {e/b:.2f} | {gen:.1f} s (of which compiling {comp:.1f} s) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
