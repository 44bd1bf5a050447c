#!/usr/bin/env python3
"""eisim's LIF/ALIF circuits against Brian2 (Debian python3-brian), from eisim's run files alone.

  (a) 1000 feedforward-only cells (800 LIF, 200 ALIF) driven by the same Poisson input spikes
      (recorded by eisim, replayed in Brian2) give identical rasters over 1 s;
  (b) a recurrent CUBA network (Brian2's example, 1000 cells, 80 % E, p = 0.08: the in-degree of
      the 4000-cell, p = 0.02 original) matches spike for spike until the first divergence, which
      is reported, and statistically over 10 s: the population rates within 2 %, the per-neuron
      rates and the CVs of the inter-spike intervals not told apart by a two-sample KS test at
      p = 0.01.
Also checks the SONATA spike layout of the run file (sorted by time, units, sorting).

  brian2_rasters.py --eisim BUILD/eisim --source SOURCE_DIR --work DIR
Exit 0 when every check passes, 1 when one fails, 77 when Brian2 cannot be imported.
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eisim", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    try:
        import brian2  # noqa: F401
        import h5py
        from scipy.stats import ks_2samp
    except ImportError as e:
        print(f"skipped: {e} (apt-get install python3-brian python3-scipy)")
        return 77
    sys.path.insert(0, os.path.join(a.source, "scripts"))
    import brian2_replay as replay

    os.makedirs(a.work, exist_ok=True)
    failures = []

    def check(ok, what):
        print(("ok:   " if ok else "FAIL: ") + what)
        if not ok:
            failures.append(what)

    def simulate(name, toml):
        cfg, out = os.path.join(a.work, name + ".toml"), os.path.join(a.work, name + ".h5")
        with open(cfg, "w") as f:
            f.write(toml)
        subprocess.run([a.eisim, "simulate", cfg, "--out", out, "--overwrite"], check=True, stdout=subprocess.DEVNULL)
        return out

    # (a) feedforward: identical rasters over 1 s.
    ff = simulate("feedforward", """
[network]
spectral_radius = 0.0
[task]
batch = 1
duration_ms = 1000.0
[training]
activity_trials = 1
[integrator]
dt_ms = 0.1
[input]
kind = "ou"
mean = 0.5
sigma = 0.5
[[populations]]
name = "E"
model = "lif"
size = 800
v_rest_mV = -52.0
[[populations]]
name = "A"
model = "alif"
size = 200
v_rest_mV = -49.0
beta_mV = 1.0
tau_a_ms = 200.0
[[populations]]
name = "in"
model = "input"
size = 20
spike_rate_hz = 20.0
[[projections]]
name = "input"
pre = "in"
post = ["E", "A"]
p = 0.2
weights = "lognormal"
median = 1.5
delay = 3
""")
    config, pops, projs, v0, spikes = replay.read_run(ff, 0)
    step, cell, _ = replay.simulate(config, pops, projs, v0, spikes, "numpy")
    es, ec = replay.eisim_spikes(ff, pops, 0, 0.1)
    check(len(es) > 2000 and np.any(ec >= 800), f"(a) the feedforward cells fire ({len(es)} spikes, {np.sum(ec >= 800)} of ALIF cells)")
    check(len(es) == len(step) and np.array_equal(es, step) and np.array_equal(ec, cell),
          f"(a) identical rasters over 1 s: eisim {len(es)} spikes, Brian2 {len(step)}")
    with h5py.File(ff, "r") as f:
        t = f["spikes/E/timestamps"][()]
        check(np.all(np.diff(t) >= 0) and f["spikes/E"].attrs["sorting"] in (b"by_time", "by_time")
              and f["spikes/E/timestamps"].attrs["units"] in (b"ms", "ms") and f["spikes/E/node_ids"].dtype == np.uint64,
              "SONATA spike layout: timestamps sorted (ms), node_ids uint64, sorting = by_time")
        check(len(f["spikes/in/timestamps"]) > 0, "the input spikes are recorded (a run can be replayed)")

    # (b) recurrent CUBA, 10 s.
    toml = open(os.path.join(a.source, "examples", "cuba.toml")).read()
    toml = toml.replace("size = 3200", "size = 800").replace("size = 800\nsign", "size = 200\nsign")
    toml = toml.replace("p = 0.02", "p = 0.08").replace("duration_ms = 1000.0", "duration_ms = 10000.0")
    rec = simulate("cuba1000", toml)
    config, pops, projs, v0, spikes = replay.read_run(rec, 0)
    step, cell, _ = replay.simulate(config, pops, projs, v0, spikes, "numpy")
    es, ec = replay.eisim_spikes(rec, pops, 0, 0.1)
    n = min(len(es), len(step))
    differ = np.nonzero((es[:n] != step[:n]) | (ec[:n] != cell[:n]))[0]
    if len(differ) == 0 and len(es) == len(step):
        print(f"(b) spike for spike identical over 10 s: {len(es)} spikes")
    else:
        k = differ[0] if len(differ) else n
        print(f"(b) the first divergence: spike {k} of {n}, t = {min(es[k], step[k])*0.1:g} ms")
    T = 10.0
    for name, lo, hi in (("E", 0, 800), ("I", 800, 1000)):
        re = np.sum((ec >= lo) & (ec < hi))/((hi - lo)*T)
        rb = np.sum((cell >= lo) & (cell < hi))/((hi - lo)*T)
        check(re > 1.0 and abs(re - rb) <= 0.02*rb, f"(b) population {name}: eisim {re:.3f} Hz, Brian2 {rb:.3f} Hz (within 2 %)")

    def per_neuron(s, c):
        rates = np.bincount(c, minlength=1000)/T
        cvs = []
        for i in range(1000):
            isi = np.diff(s[c == i])
            if len(isi) >= 3:
                cvs.append(np.std(isi)/np.mean(isi))
        return rates, np.array(cvs)

    (r1, cv1), (r2, cv2) = per_neuron(es, ec), per_neuron(step, cell)
    p_rate, p_cv = ks_2samp(r1, r2).pvalue, ks_2samp(cv1, cv2).pvalue
    check(p_rate > 0.01, f"(b) per-neuron rates: KS p = {p_rate:.3g} > 0.01")
    check(p_cv > 0.01, f"(b) per-neuron CV of the ISIs ({len(cv1)} and {len(cv2)} cells): KS p = {p_cv:.3g} > 0.01")
    print("all checks passed" if not failures else f"{len(failures)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
