#!/usr/bin/env python3
"""An independent re-implementation of eisim's spiking forward pass and of its spiking credit rules.

eisim computes both rules backwards, with per-cell adjoints and one sum over the presynaptic
spikes (plasticity/spiking_credit.hpp, credit_surrogate_bptt.cpp). This script computes the same
quantities forwards in time, synapse by synapse:
  eprop           the way e-prop is written down (Bellec et al. 2020): an eligibility vector for
                  every synapse, the eligibility traces filtered by each readout's kappa, and the
                  learning signal of every step;
  surrogate_bptt  forward-mode differentiation: the tangent of every state variable with respect
                  to every synaptic weight, carried through the same steps (recurrent spikes,
                  reset, adaptation) with dz = psi (dv - beta da).
It reads everything it needs from a run file: the resolved config (neuron and synapse constants),
the network and its weights at step 0, each trial's initial potentials and input spikes, the
targets and the mask.

Checks, on a circuit of ALIF and LIF cells with two synaptic time constants, a projection whose
tau_syn equals tau_m, delays of 1 to 3 steps, two leaky readouts with different time constants and
the firing-rate regulariser:
  - the rasters of every trial are identical to eisim's;
  - the readouts equal eisim's to 1e-12 and the loss (task + regulariser) to 1e-12 (relative);
  - eisim's first learning step under the rule (euclidean, m' = m - eta g, no momentum) equals
    -eta times this script's gradient: relative difference below 1e-10 over all synapses of every projection.
Exit status 0 when every check holds.

  tests/spiking/credit_reference.py EISIM_EXECUTABLE WORK_DIR eprop|surrogate_bptt [current]

With `current` the input population has drive = "current": no input spikes, but every step each
channel adds x_c(k) = spike_rate_hz [u_c(t_k)]+ dt / 1000 times each synapse's weight to its
current (the Poisson drive's mean); the reference takes x_c(k) from the recorded inputs u.
"""
import subprocess
import sys
import tomllib
from pathlib import Path

import h5py
import numpy as np

CONFIG = """
[network]
spectral_radius = 0.0
[[populations]]
name = "E"
model = "alif"
size = 12
bias_mV = 7.0
tau_a_ms = 100.0
beta_mV = 2.0
t_ref_ms = 2.0
[[populations]]
name = "I"
model = "lif"
size = 4
sign = "inhibitory"
bias_mV = 6.0
tau_m_ms = 10.0
t_ref_ms = 3.0
[[populations]]
name = "in"
model = "input"
size = 3
spike_rate_hz = 300.0
DRIVE
[[populations]]
name = "fast"
model = "readout"
size = 1
tau_out_ms = 10.0
[[populations]]
name = "slow"
model = "readout"
size = 1
tau_out_ms = 30.0
[[projections]]
name = "recurrent"
pre = ["E", "I"]
post = ["E", "I"]
p = 0.5
scale = [[3.0, 2.0], [3.0, 2.0]]
delay = 1
[[projections]]
name = "slow_ee"
pre = "E"
post = "E"
p = 0.3
scale = 1.0
delay = 3
tau_syn_ms = 20.0
[[projections]]
name = "input"
pre = "in"
post = ["E", "I"]
p = 1.0
scale = 5.0
delay = 2
[[projections]]
name = "readout"
pre = ["E", "I"]
post = ["fast", "slow"]
connectivity = "all_to_all"
scale = 0.2
[integrator]
dt_ms = 1.0
[task]
kind = "perceptual_decision"
batch = 6
duration_ms = 200.0
fixation_ms = 50.0
stimulus_ms = 100.0
delay_ms = 0.0
coherence = 0.5
[plasticity]
credit = "RULE"
geometry = "euclidean"
learning_rate = 1e-3
rate_reg = 0.001
rate_target_hz = 10.0
[training]
steps = 1
activity_trials = 6
"""


def gain(h, tau_m, tau_p):
    """The propagator from a current of time constant tau_p to v over one step (docs/spiking.md)."""
    tau_m, tau_p = np.broadcast_arrays(np.asarray(tau_m, float), np.asarray(tau_p, float))
    out = h / tau_m * np.exp(-h / tau_m)
    differ = tau_p != tau_m
    with np.errstate(divide="ignore", invalid="ignore"):
        out[differ] = (tau_p / (tau_p - tau_m) * (np.exp(-h / tau_p) - np.exp(-h / tau_m)))[differ]
    return out


def tangents(grad, syn, z, psi, x_in, v_hist, act_hist, e_out, reg, W_out, kappa, taus, tau_m, dm, rho, beta, v_reset, adaptive, h):
    """Surrogate BPTT of one trial by forward-mode differentiation: the tangents of v, I, a and z
    with respect to every synaptic weight (one row per synapse), carried through the trial with
    dz = psi (dv - beta da); adds dL/dw (readout and regulariser terms) to grad."""
    T, N = z.shape
    names = [name for name, s in syn.items() if not s["readout"]]
    offset, S = {}, 0
    for name in names:
        offset[name] = S
        S += len(syn[name]["pre"])
    dv, da = np.zeros((S, N)), np.zeros((S, N))
    dI = {t: np.zeros((S, N)) for t in taus}
    dz_hist = np.zeros((T, S, N))
    dy = np.zeros((S, W_out.shape[0]))
    dL = np.zeros(S)
    for k in range(T):
        dx = dm * dv
        for t in taus:
            dx += gain(h, tau_m, t) * dI[t]
            dI[t] *= np.exp(-h / t)
        dvk = np.where(act_hist[k], dx, dv)
        da = rho * da
        dz = psi[k] * (dvk - beta * da)
        for name in names:  # arrivals: through the weights of spikes sent in step k - d, and of w itself
            s = syn[name]
            if k - s["d"] < 0:
                continue
            src = x_in[k - s["d"]] if s["input"] else z[k - s["d"]]
            for t in taus:
                m = s["tau_p"] == t
                if not s["input"]:
                    np.add.at(dI[t], (slice(None), s["post"][m]), dz_hist[k - s["d"]][:, s["pre"][m]] * s["w"][m])
                hit = np.nonzero(m & (src[s["pre"]] > 0))[0]
                np.add.at(dI[t], (offset[name] + hit, s["post"][hit]), src[s["pre"]][hit])
        dv = (1.0 - z[k]) * dvk + (v_reset - v_hist[k]) * dz
        da = da + adaptive * dz
        dz_hist[k] = dz
        dL += dz @ reg
        dy = kappa * dy + dz @ W_out.T  # y(k+1) = kappa y(k) + W_out z(k)
        dL += dy @ e_out[k + 1]
    for name in names:
        grad[name] += dL[offset[name]:offset[name] + len(syn[name]["pre"])]


def main(exe, work, rule, drive="poisson"):
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    cfg_path, run = work / f"{rule}_{drive}_reference.toml", work / f"{rule}_{drive}_reference.h5"
    cfg_path.write_text(CONFIG.replace("RULE", rule).replace("DRIVE", f'drive = "{drive}"'))
    subprocess.run([exe, "run", str(cfg_path), "--out", str(run), "--overwrite", "--quiet"], check=True)
    f = h5py.File(run, "r")
    cfg = tomllib.loads(f.attrs["config"].decode() if isinstance(f.attrs["config"], bytes) else f.attrs["config"])
    h = cfg["integrator"]["dt_ms"]
    pops = {p["name"]: p for p in cfg["populations"]}
    netp = f["network/populations"]
    names = [n.decode() if isinstance(n, bytes) else n for n in netp["name"][:]]
    first = dict(zip(names, netp["first"][:].astype(int)))
    size = dict(zip(names, netp["size"][:].astype(int)))
    net_pops = [n for n in names if pops[n]["model"] in ("lif", "alif")]
    out_pops = [n for n in names if pops[n]["model"] == "readout"]
    N = sum(size[n] for n in net_pops)
    n_out = sum(size[n] for n in out_pops)

    # Per-cell constants.
    def cell(key, fill=0.0, only=None):
        a = np.full(N, fill)
        for n in net_pops:
            if only is None or pops[n]["model"] == only:
                a[first[n]:first[n] + size[n]] = pops[n][key]
        return a
    tau_m, v_rest, v_th = cell("tau_m_ms"), cell("v_rest_mV"), cell("v_th_mV")
    v_reset, bias = cell("v_reset_mV"), cell("bias_mV")
    beta = cell("beta_mV", 0.0, "alif")
    tau_a = cell("tau_a_ms", np.inf, "alif")
    n_ref = np.maximum(np.round(cell("t_ref_ms") / h), 1).astype(int)
    dm, rho = np.exp(-h / tau_m), np.exp(-h / tau_a)
    v_inf, delta = v_rest + bias, v_th - v_reset
    gamma = cfg["plasticity"]["surrogate_gamma"]
    kappa = np.zeros(n_out)
    for n in out_pops:
        kappa[first[n]:first[n] + size[n]] = np.exp(-h / pops[n]["tau_out_ms"])
    pop_of = np.empty(N, dtype=object)
    for n in net_pops:
        pop_of[first[n]:first[n] + size[n]] = n
    adaptive = np.array([pops[p]["model"] == "alif" for p in pop_of], dtype=float)

    # Synapses: (projection, id) -> pre, post, sign, w, delay, tau_syn; readout apart.
    projs = [p["name"] for p in cfg["projections"]]
    syn = {}
    W_out = np.zeros((n_out, N))
    for pd in cfg["projections"]:
        name = pd["name"]
        g = f["network"][name]
        pre, post, sign = g["pre"][:].astype(int), g["post"][:].astype(int), g["sign"][:].astype(float)
        w = f["trajectory"][name]["weight"][0, :]
        pre_pops = pd["pre"] if isinstance(pd["pre"], list) else [pd["pre"]]
        if pops[pre_pops[0]]["model"] == "input" or pops[(pd["post"] if isinstance(pd["post"], list) else [pd["post"]])[0]]["model"] != "readout":
            if pd.get("tau_syn_ms", 0.0) > 0:
                tau_p = np.full(len(pre), pd["tau_syn_ms"])
            else:
                tau_p = np.array([pops[pop_of[j]]["tau_syn_e_ms" if s > 0 else "tau_syn_i_ms"] for j, s in zip(post, sign)])
            syn[name] = dict(pre=pre, post=post, sign=sign, w=w, d=int(pd["delay"]), input=pops[pre_pops[0]]["model"] == "input",
                             tau_p=tau_p, dp=np.exp(-h / tau_p), gain=gain(h, tau_m[post], tau_p), readout=False)
        else:
            np.add.at(W_out, (post, pre), w)
            syn[name] = dict(pre=pre, post=post, sign=sign, w=w, readout=True)
    taus = sorted({t for s in syn.values() if not s["readout"] for t in s["tau_p"]})

    act = f["activity/step_0"]
    B = act["initial_v"].shape[0]
    T = act["time"].shape[0] - 1
    mask, target = act["mask"][:], act["target"][:]  # [T+1], [B, T+1, n_out]
    n_in = act["input"].shape[2]

    def spikes(pop):
        s = act["spikes"][pop]
        return s["timestamps"][:], s["node_ids"][:].astype(int), s["trial_ids"][:].astype(int)

    # Forward pass of each trial, with every synapse's eligibility vectors (e-prop, online).
    norm = n_out * B * mask.sum()
    y_all = np.zeros((B, T + 1, n_out))
    z_all = np.zeros((B, T, N))
    rasters_equal = True
    in_pop = [n for n in names if pops[n]["model"] == "input"][0]
    in_t, in_c, in_b = spikes(in_pop)
    current = pops[in_pop].get("drive", "poisson") == "current"
    if current:
        assert len(in_t) == 0, "a current-driven input records no spikes"
    per_trial = []
    for b in range(B):
        x_in = np.zeros((T, n_in))
        if current:  # the expected spikes of each step: spike_rate_hz [u]+ dt / 1000
            x_in[:] = pops[in_pop]["spike_rate_hz"] * np.maximum(act["input"][b, :T, :], 0.0) * h * 1e-3
        else:
            sel = in_b == b
            x_in[np.round(in_t[sel] / h).astype(int), in_c[sel]] = 1.0
        v = act["initial_v"][b, :].copy()
        a = np.zeros(N)
        I = {t: np.zeros(N) for t in taus}
        ready = np.full(N, -10**9)
        z = np.zeros((T, N))
        psi = np.zeros((T, N))
        v_hist, act_hist = np.zeros((T, N)), np.zeros((T, N), dtype=bool)
        A_hist = np.zeros((T, N))
        for k in range(T):
            x = v_inf + (v - v_inf) * dm
            for t in taus:
                x += gain(h, tau_m, t) * I[t]
                I[t] *= np.exp(-h / t)
            active = k >= ready
            v = np.where(active, x, v)
            a = a * rho
            A = v_th + beta * a
            fire = active & (v > A)
            psi[k] = np.where(active, gamma / delta * np.maximum(0.0, 1.0 - np.abs(v - A) / delta), 0.0)
            v_hist[k], act_hist[k] = v, active
            for s in syn.values():  # arrivals: spikes sent in step k - d
                if s["readout"] or k - s["d"] < 0:
                    continue
                src = x_in[k - s["d"]] if s["input"] else z[k - s["d"]]
                hit = src[s["pre"]] > 0
                for t in taus:
                    m = hit & (s["tau_p"] == t)
                    np.add.at(I[t], s["post"][m], s["w"][m] * src[s["pre"]][m])
            v = np.where(fire, v_reset, v)
            a = a + fire
            ready = np.where(fire, k + n_ref, ready)
            z[k] = fire
        # eisim's raster of this trial
        zc = np.zeros((T, N))
        for n in net_pops:
            t_, c_, b_ = spikes(n)
            sel = b_ == b
            zc[np.round(t_[sel] / h).astype(int), first[n] + c_[sel]] = 1.0
        rasters_equal &= bool(np.array_equal(z, zc))
        y = np.zeros((T + 1, n_out))
        for k in range(1, T + 1):
            y[k] = kappa * y[k - 1] + W_out @ z[k - 1]
        y_all[b], z_all[b] = y, z
        per_trial.append((z, psi, x_in, v_hist, act_hist))

    spikes_per_cell = z_all.sum(axis=(0, 1))
    per_spike = 1000.0 / (B * T * h)
    rate = spikes_per_cell * per_spike
    c_reg, f0 = cfg["plasticity"]["rate_reg"], cfg["plasticity"]["rate_target_hz"]
    reg = c_reg * (rate - f0) * per_spike
    task_loss = float((mask[None, :, None] * (y_all - target) ** 2).sum() / norm)
    loss = task_loss + 0.5 * c_reg * float(((rate - f0) ** 2).sum())
    e_out = 2.0 * mask[None, :, None] * (y_all - target) / norm  # [B, T+1, n_out]
    feedback = W_out.T  # symmetric e-prop: B = W_out transposed

    grad = {name: np.zeros(len(s["pre"])) for name, s in syn.items()}
    for b, (z, psi, x_in, v_hist, act_hist) in enumerate(per_trial):
        for name, s in syn.items():
            j, i = s["post"], s["pre"]
            if s["readout"]:  # exact: sum_k e_o(k) zbar_j(k)
                zbar = np.zeros(len(i))
                for k in range(1, T + 1):
                    zbar = kappa[j] * zbar + z[k - 1, i]
                    grad[name] += e_out[b, k, j] * zbar
        if rule == "surrogate_bptt":
            tangents(grad, syn, z, psi, x_in, v_hist, act_hist, e_out[b], reg, W_out, kappa, taus, tau_m, dm, rho, beta, v_reset,
                     adaptive, h)
            continue
        for name, s in syn.items():
            j, i = s["post"], s["pre"]
            if s["readout"]:
                continue
            eI, ev, ea = np.zeros(len(i)), np.zeros(len(i)), np.zeros(len(i))
            F = np.zeros((n_out, len(i)))  # kappa-filtered eligibility traces, one per readout unit
            e_prev = np.zeros(len(i))
            for k in range(T + 1):
                if k > 0:
                    F = kappa[:, None] * F + e_prev[None, :]
                    grad[name] += sum(feedback[j, o] * e_out[b, k, o] * F[o] for o in range(n_out))
                if k == T:
                    break
                if k > 0:
                    ea_new = rho[j] * (1.0 - beta[j] * psi[k - 1, j]) * ea + rho[j] * psi[k - 1, j] * ev
                    ev = dm[j] * ev + s["gain"] * eI
                    ea = ea_new
                src = x_in if s["input"] else z
                eI = s["dp"] * eI + (src[k - s["d"], i] if k - s["d"] >= 0 else 0.0)
                e_now = psi[k, j] * (ev - beta[j] * ea)
                grad[name] += reg[j] * e_now
                e_prev = e_now
    ok = True
    print(f"rasters identical in all {B} trials: {rasters_equal}")
    ok &= rasters_equal
    y_c = act["output"][:]
    dy = np.abs(y_c - y_all).max() / max(np.abs(y_all).max(), 1e-300)
    print(f"readouts: max relative difference {dy:.2e} (limit 1e-12)")
    ok &= dy < 1e-12
    loss_c = float(np.ravel(f["trajectory/loss"][:])[0])
    dl = abs(loss_c - loss) / abs(loss)
    print(f"loss: eisim {loss_c:.15g}, reference {loss:.15g} (task {task_loss:.6g}); relative difference {dl:.2e} (limit 1e-12)")
    ok &= dl < 1e-12
    eta = cfg["plasticity"]["learning_rate"]
    for name, s in syn.items():
        m0 = np.abs(f["trajectory"][name]["weight"][0, :])
        m1 = np.abs(f["trajectory"][name]["weight"][1, :])
        g_m = s["sign"] * grad[name]
        expect = -eta * g_m
        step = m1 - m0
        rel = np.linalg.norm(step - expect) / np.linalg.norm(expect)
        clipped = int((m0 - eta * g_m <= cfg["plasticity"]["min_magnitude"]).sum())
        print(f"{name}: {len(m0)} synapses, |eta g| = {np.linalg.norm(expect):.3e}, relative difference of the step {rel:.2e} "
              f"(limit 1e-10), at the bound {clipped}")
        ok &= rel < 1e-10 and clipped == 0 and np.linalg.norm(expect) > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
