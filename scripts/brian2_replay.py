#!/usr/bin/env python3
"""Simulate an eisim spiking run file again in Brian2 and compare the rasters.

Builds, from the run file alone, the same LIF/ALIF network in Brian2 (Debian python3-brian):
each network population's parameters from the stored config, every synapse with its weight
(/trajectory/<p>/weight, row 0) and delay, the synaptic currents as one variable per synaptic
time constant, the initial potentials (/activity/initial_v) and the recorded input spikes
(/spikes/<input population>) of one trial, replayed by a SpikeGeneratorGroup. The equations and
update order are those of docs/spiking.md:

    tau_m dv/dt = -(v - E_L) + sum_p I_p + I_e    (unless refractory)
    tau_p dI_p/dt = -I_p,   tau_a da/dt = -a,   spike when v > v_th + beta a,
    reset v = v_reset, a += 1; a spike adds w to I_p of the post cell `delay` steps later.

  brian2_replay.py RUN.h5 [--trial B] [--target numpy|cython|cpp_standalone] [--out SPIKES.npz]
                          [--compare] [--duration-ms T]

--compare prints the first spike where Brian2 and eisim differ (or that they are identical) and
exits 1 when they differ. --out writes Brian2's spikes (steps and network cell indices).
"""
import argparse
import sys
import time
import tomllib

import h5py
import numpy as np


def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def read_run(path, trial):
    with h5py.File(path, "r") as f:
        config = tomllib.loads(text(f.attrs["config"]))
        current = [p["name"] for p in config.get("populations", []) if p.get("model") == "input" and p.get("drive") == "current"]
        if current:  # their drive is a current, not recorded spikes: nothing for a SpikeGeneratorGroup to replay
            print(f"brian2_replay.py: {path}: input population(s) {', '.join(current)} have drive = \"current\"; "
                  "only Poisson-driven circuits (drive = \"poisson\") can be replayed", file=sys.stderr)
            sys.exit(2)
        pops = f["network/populations"]
        populations = [dict(name=text(n), model=text(m), side=text(s), first=int(a), size=int(z), sign=int(g))
                       for n, m, s, a, z, g in zip(pops["name"][()], pops["model"][()], pops["side"][()],
                                                   pops["first"][()], pops["size"][()], pops["sign"][()])]
        keys = {p["name"]: p for p in config["populations"]}
        for p in populations:
            p["keys"] = keys[p["name"]]
        projections = []
        for q in config["projections"]:
            g = f["network"][q["name"]]
            projections.append(dict(name=q["name"], pre_side=text(g.attrs["pre_population"]),
                                    post_side=text(g.attrs["post_population"]), delay=int(g.attrs["delay"]),
                                    tau_syn_ms=float(q.get("tau_syn_ms", 0.0)),
                                    pre=g["pre"][()].astype(np.int64), post=g["post"][()].astype(np.int64),
                                    sign=g["sign"][()].astype(np.int64),
                                    w=f["trajectory"][q["name"]]["weight"][0, :].astype(np.float64)))
        v0 = f["activity/initial_v"][trial, :]
        spikes = {}
        for p in populations:
            if p["side"] == "output" or p["name"] not in f["spikes"]:
                continue
            g = f["spikes"][p["name"]]
            keep = g["trial_ids"][()] == trial
            spikes[p["name"]] = (g["timestamps"][()][keep], g["node_ids"][()][keep].astype(np.int64))
    return config, populations, projections, v0, spikes


def simulate(config, populations, projections, v0, spikes, target, duration_ms=None):
    import brian2 as b2
    from brian2 import mV, ms

    dt = float(config["integrator"]["dt_ms"])
    duration = float(duration_ms if duration_ms is not None else config["task"]["duration_ms"])
    if target == "cpp_standalone":
        b2.set_device("cpp_standalone", build_on_run=False)
    else:
        b2.prefs.codegen.target = target
    b2.defaultclock.dt = dt*ms
    network = [p for p in populations if p["side"] == "network"]
    inputs = [p for p in populations if p["side"] == "input"]
    N = sum(p["size"] for p in network)
    n_in = sum(p["size"] for p in inputs)

    # Per cell: its population's keys.
    def per_cell(key, default=0.0, models=None):
        out = np.zeros(N)
        for p in network:
            use = models is None or p["model"] in models
            out[p["first"]:p["first"] + p["size"]] = float(p["keys"][key]) if use else default
        return out

    # The ports: distinct synaptic time constants, as eisim numbers them (first use).
    taus = []
    port_of_synapse = []
    cell_pop = np.empty(N, dtype=object)
    for p in network:
        cell_pop[p["first"]:p["first"] + p["size"]] = [p] * p["size"]
    for q in projections:
        if q["post_side"] != "network":
            port_of_synapse.append(None)
            continue
        ports = np.empty(len(q["w"]), dtype=np.int64)
        for s in range(len(q["w"])):
            X = cell_pop[q["post"][s]]["keys"]
            tau = q["tau_syn_ms"] if q["tau_syn_ms"] > 0 else float(X["tau_syn_e_ms"] if q["sign"][s] > 0 else X["tau_syn_i_ms"])
            if tau not in taus:
                taus.append(tau)
            ports[s] = taus.index(tau)
        port_of_synapse.append(ports)
    currents = " + ".join(f"I{p}" for p in range(len(taus))) or "0*mV"
    eqs = f"""dv/dt = (v_inf - v + {currents})/tau_m : volt (unless refractory)
da/dt = -a/tau_a : 1
tau_m : second (constant)
tau_a : second (constant)
v_inf : volt (constant)
v_th : volt (constant)
v_reset : volt (constant)
beta : volt (constant)
t_ref : second (constant)
"""
    for p, tau in enumerate(taus):
        eqs += f"dI{p}/dt = -I{p}/({tau}*ms) : volt\n"
    G = b2.NeuronGroup(N, eqs, threshold="v > v_th + beta*a", reset="v = v_reset; a += 1", refractory="t_ref",
                       method="exact", name="network")
    G.tau_m = per_cell("tau_m_ms")*ms
    G.tau_a = per_cell("tau_a_ms", 1e9, models={"alif"})*ms
    G.v_inf = (per_cell("v_rest_mV") + per_cell("bias_mV"))*mV
    G.v_th = per_cell("v_th_mV")*mV
    G.v_reset = per_cell("v_reset_mV")*mV
    G.beta = per_cell("beta_mV", 0.0, models={"alif"})*mV
    G.t_ref = per_cell("t_ref_ms")*ms
    G.v = v0*mV
    objects = [G]
    source = {"network": G}
    if n_in > 0:
        idx, times = [], []
        for p in inputs:
            t, node = spikes.get(p["name"], (np.zeros(0), np.zeros(0, dtype=np.int64)))
            idx.append(node + p["first"])
            times.append(t)
        idx = np.concatenate(idx) if idx else np.zeros(0, dtype=np.int64)
        times = np.concatenate(times) if times else np.zeros(0)
        order = np.lexsort((idx, times))
        source["input"] = b2.SpikeGeneratorGroup(n_in, idx[order], times[order]*ms, name="inputs")
        objects.append(source["input"])
    for q, ports in zip(projections, port_of_synapse):
        if ports is None:
            continue
        for p in range(len(taus)):
            keep = ports == p
            if not keep.any():
                continue
            S = b2.Synapses(source[q["pre_side"]], G, "w : volt", on_pre=f"I{p}_post += w", name=f"{q['name']}_{p}")
            S.connect(i=q["pre"][keep], j=q["post"][keep])
            S.w = q["w"][keep]*mV
            S.delay = q["delay"]*dt*ms
            objects.append(S)
    M = b2.SpikeMonitor(G)
    objects.append(M)
    net = b2.Network(*objects)
    t0 = time.perf_counter()
    net.run(duration*ms)
    if target == "cpp_standalone":
        b2.device.build(directory=None, compile=True, run=True, debug=False)
    seconds = time.perf_counter() - t0
    step = np.rint(np.asarray(M.t/ms)/dt).astype(np.int64)
    cell = np.asarray(M.i).astype(np.int64)
    order = np.lexsort((cell, step))
    return step[order], cell[order], seconds


def eisim_spikes(path, populations, trial, dt):
    steps, cells = [], []
    with h5py.File(path, "r") as f:
        for p in populations:
            if p["side"] != "network":
                continue
            g = f["spikes"][p["name"]]
            keep = g["trial_ids"][()] == trial
            steps.append(np.rint(g["timestamps"][()][keep]/dt).astype(np.int64))
            cells.append(g["node_ids"][()][keep].astype(np.int64) + p["first"])
    step, cell = np.concatenate(steps), np.concatenate(cells)
    order = np.lexsort((cell, step))
    return step[order], cell[order]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--trial", type=int, default=0)
    ap.add_argument("--target", default="numpy", choices=["numpy", "cython", "cpp_standalone"])
    ap.add_argument("--duration-ms", type=float, default=None)
    ap.add_argument("--out")
    ap.add_argument("--compare", action="store_true")
    a = ap.parse_args()
    config, populations, projections, v0, spikes = read_run(a.run, a.trial)
    step, cell, seconds = simulate(config, populations, projections, v0, spikes, a.target, a.duration_ms)
    dt = float(config["integrator"]["dt_ms"])
    print(f"brian2 ({a.target}): {len(step)} spikes in {seconds:.3f} s")
    if a.out:
        np.savez(a.out, step=step, cell=cell, seconds=seconds)
    if a.compare:
        es, ec = eisim_spikes(a.run, populations, a.trial, dt)
        n = min(len(es), len(step))
        differ = np.nonzero((es[:n] != step[:n]) | (ec[:n] != cell[:n]))[0]
        if len(differ) == 0 and len(es) == len(step):
            print(f"identical: {len(es)} spikes")
            return 0
        k = differ[0] if len(differ) else n
        when = min(es[k] if k < len(es) else np.inf, step[k] if k < len(step) else np.inf)*dt
        print(f"differ: eisim {len(es)} spikes, brian2 {len(step)}; first difference at spike {k}, t = {when:g} ms")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
