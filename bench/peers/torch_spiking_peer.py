#!/usr/bin/env python3
"""The PyTorch peer of a spiking learning step: eisim's job written the way a PyTorch user would.

It starts from an eisim run file of the same config written with `training.steps = 1` and
`training.activity_trials = task.batch`: the resolved config (neuron, synapse and readout
constants, credit rule, learning rate), the network (/network/<proj>/pre, post, sign), the weights
before and after eisim's first learning step (/trajectory/<proj>/weight rows 0 and 1), and each
trial's initial potentials, input spikes, targets and mask (/activity/step_0). The reading code
and the equations are those of tests/spiking/credit_reference.py (docs/spiking.md).

The job, in float64 on batched tensors [B, N] with `--threads` intra-op threads, a loop over the
T time steps of dt (the exact propagator, the update order of docs/spiking.md: integrate,
threshold, arrivals, reset), leaky readouts, loss = masked mean squared error + the firing-rate
regulariser, then
  surrogate_bptt  autograd through every step (snnTorch style): dense W = S * M per projection and
                  synaptic port (S: fixed signs, M: magnitudes, requires_grad), the spike a custom
                  autograd Function (forward Heaviside, backward the piecewise-linear
                  pseudo-derivative psi of height gamma), L.backward();
  eprop           e-prop written out forwards in time as Bellec et al. (2020) write it, online in
                  the same loop as the forward pass (no autograd): for every synapse and trial the
                  eligibility vectors eps^I, eps^v, eps^a ([B, S] tensors, vectorised over the
                  synapses of each projection), the eligibility trace psi_j (eps^v - beta eps^a),
                  its kappa-filtered trace, and the gradient sum_k L_j(k) ebar_s(k) with the
                  learning signal L = W_out^T e(k); the readout's gradient exact, sum_k e(k) zbar(k);
then the exponentiated-gradient step M <- M exp(-lr dL/dM) (eisim's plasticity.geometry = "eg"),
and every synaptic weight appended to an HDF5 dataset, one row per learning step, as eisim records.

Before timing, the first learning step is checked against eisim's: the loss equals
/trajectory/loss[0] and the EG step equals eisim's (rows 0 -> 1 of every projection), both to a
relative 1e-10 (--tol); the script exits 3 otherwise. The timed steps then repeat the learning step
on the same trials (eisim draws new Poisson inputs each step: a few random numbers per channel and
step, a negligible part of either program's step). Prints one JSON object.

  /usr/bin/python3 bench/peers/torch_spiking_peer.py --run RUN.h5 [--steps 3] [--threads 1]
"""
import argparse
import json
import os
import statistics
import sys
import time
import tomllib

import h5py
import numpy as np
import torch


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def blas_library():
    """The BLAS this process loaded (Debian's torch calls the system's libblas.so.3: the reference
    BLAS of libblas3 unless an optimised one is installed or put first on LD_LIBRARY_PATH)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted(libs)) or "none found"


def gain(h, tau_m, tau_p):
    """The propagator from a current of time constant tau_p to v over one step (docs/spiking.md)."""
    tau_m, tau_p = np.broadcast_arrays(np.asarray(tau_m, float), np.asarray(tau_p, float))
    out = h / tau_m * np.exp(-h / tau_m)
    differ = tau_p != tau_m
    with np.errstate(divide="ignore", invalid="ignore"):
        out[differ] = (tau_p / (tau_p - tau_m) * (np.exp(-h / tau_p) - np.exp(-h / tau_m)))[differ]
    return out


def text(a):
    return a.decode() if isinstance(a, bytes) else a


def load(path):
    """Everything the job needs from the run file, as numpy arrays (credit_reference.py's reading)."""
    f = h5py.File(path, "r")
    cfg = tomllib.loads(text(f.attrs["config"]))
    h = cfg["integrator"]["dt_ms"]
    pops = {p["name"]: p for p in cfg["populations"]}
    netp = f["network/populations"]
    names = [text(n) for n in netp["name"][:]]
    first = dict(zip(names, netp["first"][:].astype(int)))
    size = dict(zip(names, netp["size"][:].astype(int)))
    net_pops = [n for n in names if pops[n]["model"] in ("lif", "alif")]
    out_pops = [n for n in names if pops[n]["model"] == "readout"]
    if not net_pops:
        sys.exit("torch_spiking_peer: not a spiking circuit")
    N = sum(size[n] for n in net_pops)
    n_out = sum(size[n] for n in out_pops)

    def cell(key, fill=0.0, only=None):
        a = np.full(N, fill)
        for n in net_pops:
            if only is None or pops[n]["model"] == only:
                a[first[n]:first[n] + size[n]] = pops[n][key]
        return a
    c = dict(h=h, N=N, n_out=n_out)
    c["tau_m"], v_rest, c["v_th"] = cell("tau_m_ms"), cell("v_rest_mV"), cell("v_th_mV")
    c["v_reset"], bias = cell("v_reset_mV"), cell("bias_mV")
    c["beta"] = cell("beta_mV", 0.0, "alif")
    tau_a = cell("tau_a_ms", np.inf, "alif")
    c["n_ref"] = np.maximum(np.round(cell("t_ref_ms") / h), 1).astype(int)
    c["dm"], c["rho"] = np.exp(-h / c["tau_m"]), np.exp(-h / tau_a)
    c["v_inf"], c["delta"] = v_rest + bias, c["v_th"] - c["v_reset"]
    pop_of = np.empty(N, dtype=object)
    for n in net_pops:
        pop_of[first[n]:first[n] + size[n]] = n
    c["adaptive"] = np.array([pops[p]["model"] == "alif" for p in pop_of], dtype=float)
    kappa = np.zeros(n_out)
    for n in out_pops:
        kappa[first[n]:first[n] + size[n]] = np.exp(-h / pops[n]["tau_out_ms"])
    c["kappa"] = kappa
    pl = cfg["plasticity"]
    if pl["credit"] not in ("eprop", "surrogate_bptt"):
        sys.exit("torch_spiking_peer: plasticity.credit must be eprop or surrogate_bptt")
    if pl["geometry"] != "eg" or pl.get("momentum", 0.0) != 0.0 or pl.get("weight_decay", 0.0) != 0.0 \
            or pl.get("schedule", "constant") != "constant":
        sys.exit("torch_spiking_peer: only plasticity.geometry = eg without momentum, weight decay or schedule is written here")
    if pl["credit"] == "eprop" and pl.get("eprop_feedback", "symmetric") != "symmetric":
        sys.exit("torch_spiking_peer: only symmetric e-prop is written here")
    c.update(rule=pl["credit"], gamma=pl["surrogate_gamma"], c_reg=pl["rate_reg"], f0=pl["rate_target_hz"],
             lr=pl["learning_rate"] if pl["learning_rate"] > 0 else 0.5)

    proj = []
    for pd in cfg["projections"]:
        name = pd["name"]
        g = f["network"][name]
        pre, post, sign = g["pre"][:].astype(int), g["post"][:].astype(int), g["sign"][:].astype(float)
        w0, w1 = f["trajectory"][name]["weight"][0, :], f["trajectory"][name]["weight"][1, :]
        pre_pops = pd["pre"] if isinstance(pd["pre"], list) else [pd["pre"]]
        post_pops = pd["post"] if isinstance(pd["post"], list) else [pd["post"]]
        p = dict(name=name, pre=pre, post=post, sign=sign, w0=w0, w1=w1)
        if pops[post_pops[0]]["model"] == "readout":
            p.update(kind="readout")
        else:
            if pd.get("tau_syn_ms", 0.0) > 0:
                tau_p = np.full(len(pre), pd["tau_syn_ms"])
            else:
                tau_p = np.array([pops[pop_of[j]]["tau_syn_e_ms" if s > 0 else "tau_syn_i_ms"] for j, s in zip(post, sign)])
            p.update(kind="input" if pops[pre_pops[0]]["model"] == "input" else "recurrent", d=int(pd["delay"]), tau_p=tau_p)
        proj.append(p)
    c["taus"] = sorted({t for p in proj if p["kind"] != "readout" for t in p["tau_p"]})
    c["proj"] = proj

    act = f["activity/step_0"]
    B = act["initial_v"].shape[0]
    if B != cfg["task"]["batch"]:
        sys.exit("torch_spiking_peer: the run file must hold every trial's activity (training.activity_trials = task.batch)")
    T = act["time"].shape[0] - 1
    n_in = act["input"].shape[2]
    in_pop = [n for n in names if pops[n]["model"] == "input"][0]
    s = act["spikes"][in_pop]
    x_in = np.zeros((T, B, n_in))
    x_in[np.round(s["timestamps"][:] / h).astype(int), s["trial_ids"][:].astype(int), s["node_ids"][:].astype(int)] = 1.0
    n_spikes = sum(len(act["spikes"][n]["timestamps"]) for n in net_pops)
    c.update(B=B, T=T, n_in=n_in, v0=act["initial_v"][:], x_in=x_in, mask=act["mask"][:],
             target=np.transpose(act["target"][:], (1, 0, 2)),  # [T+1, B, n_out]
             eisim_loss=float(np.ravel(f["trajectory/loss"][:])[0]), eisim_spikes=int(n_spikes))
    f.close()
    return c


class Spike(torch.autograd.Function):
    """z = H(u), u = v - A; backward: the pseudo-derivative psi(u) = (gamma/delta) max(0, 1 - |u|/delta)."""

    @staticmethod
    def forward(ctx, u, gamma_over_delta, delta):
        ctx.save_for_backward(u, gamma_over_delta, delta)
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, grad):
        u, god, delta = ctx.saved_tensors
        return grad * god * torch.clamp(1.0 - u.abs() / delta, min=0.0), None, None


class Job:
    def __init__(self, c, eprop_form="traces"):
        self.c, self.eprop_form = c, eprop_form
        t = lambda a: torch.tensor(np.asarray(a, dtype=np.float64))
        self.N, self.B, self.T, self.h = c["N"], c["B"], c["T"], c["h"]
        self.dm, self.rho, self.v_inf, self.v_th = t(c["dm"]), t(c["rho"]), t(c["v_inf"]), t(c["v_th"])
        self.v_reset, self.beta, self.delta, self.adaptive = t(c["v_reset"]), t(c["beta"]), t(c["delta"]), t(c["adaptive"])
        self.god = self.delta.reciprocal() * c["gamma"]
        self.n_ref = torch.tensor(c["n_ref"], dtype=torch.int64)
        self.kappa = t(c["kappa"])
        self.taus = c["taus"]
        self.decay = [float(np.exp(-self.h / tp)) for tp in self.taus]
        self.gain = [t(gain(self.h, c["tau_m"], tp)) for tp in self.taus]  # [N] per port
        self.v0, self.x_in = t(c["v0"]), t(c["x_in"])
        self.mask, self.target = t(c["mask"]), t(c["target"])
        self.norm = c["n_out"] * self.B * float(c["mask"].sum())
        self.lr = c["lr"]
        # Magnitudes and signs: dense per projection (what the products use), the port of every
        # entry, and the synapse index lists (for e-prop's traces and for recording).
        self.proj = []
        for p in c["proj"]:
            n_pre = c["n_in"] if p["kind"] == "input" else self.N
            n_post = c["n_out"] if p["kind"] == "readout" else self.N
            q = dict(name=p["name"], kind=p["kind"], pre=torch.tensor(p["pre"]), post=torch.tensor(p["post"]),
                     sign=t(p["sign"]), m=t(np.abs(p["w0"])), m1_eisim=t(np.abs(p["w1"])))
            q["S"] = torch.zeros(n_post, n_pre, dtype=torch.float64)
            q["S"][q["post"], q["pre"]] = q["sign"]
            if p["kind"] != "readout":
                q["d"] = p["d"]
                # Per port the presynaptic columns it has synapses in, and the 0/1 mask of its
                # entries there: with E and I currents, the E and I columns (one product each).
                q["port"] = []
                for i, tp in enumerate(self.taus):
                    sel = p["tau_p"] == tp
                    if not sel.any():
                        continue
                    cols = torch.tensor(np.unique(p["pre"][sel]))
                    P = torch.zeros(n_post, n_pre, dtype=torch.float64)
                    P[q["post"][sel], q["pre"][sel]] = 1.0
                    q["port"].append((i, cols, P[:, cols].contiguous()))
                q["port_of"] = torch.tensor(np.searchsorted(self.taus, p["tau_p"]))
            self.proj.append(q)
        self.dense_from_synapses()

    def dense_from_synapses(self):
        """M (dense magnitudes, requires_grad for autograd) from the per-synapse magnitudes m."""
        for q in self.proj:
            M = torch.zeros_like(q["S"])
            M[q["post"], q["pre"]] = q["m"]
            q["M"] = M.requires_grad_(self.c["rule"] == "surrogate_bptt")

    def weights(self):
        """Signed dense weights: the readouts' matrix; per port of a current projection (port, its
        presynaptic columns, the weights of those columns)."""
        W = {}
        for q in self.proj:
            SM = q["S"] * q["M"]
            W[q["name"]] = SM if q["kind"] == "readout" else [(i, cols, SM[:, cols] * P) for i, cols, P in q["port"]]
        return W

    # The forward pass, shared by both rules: returns the loss; `trace` (e-prop) is called in
    # every step with the step's quantities.
    def forward(self, trace=None):
        B, N, T = self.B, self.N, self.T
        W = self.weights()
        readout = [q for q in self.proj if q["kind"] == "readout"]
        currents = [q for q in self.proj if q["kind"] != "readout"]
        v = self.v0.clone()
        a = torch.zeros(B, N, dtype=torch.float64)
        I = [torch.zeros(B, N, dtype=torch.float64) for _ in self.taus]
        ready = torch.full((B, N), -10**9, dtype=torch.int64)
        n_out = self.target.shape[2]
        y = torch.zeros(B, n_out, dtype=torch.float64)
        zs = []
        spikes = 0.0
        total = self.mask[0] * ((y - self.target[0]) ** 2).sum()
        for k in range(T):
            x = self.v_inf + (v - self.v_inf) * self.dm
            for p in range(len(self.taus)):
                x = x + self.gain[p] * I[p]
                I[p] = I[p] * self.decay[p]
            active = k >= ready
            v = torch.where(active, x, v)
            a = a * self.rho
            u = v - (self.v_th + self.beta * a)
            z = Spike.apply(u, self.god, self.delta) * active
            if trace is not None:
                psi = torch.where(active, self.god * torch.clamp(1.0 - u.abs() / self.delta, min=0.0), torch.zeros(()))
            for q in currents:  # arrivals: spikes sent in step k - d
                if k - q["d"] < 0:
                    continue
                src = self.x_in[k - q["d"]] if q["kind"] == "input" else zs[k - q["d"]]
                for p, cols, Wp in W[q["name"]]:
                    I[p] = I[p] + src[:, cols] @ Wp.T
            v = v + z * (self.v_reset - v)
            a = a + z * self.adaptive
            ready = torch.where(z > 0, k + self.n_ref, ready)
            zs.append(z)
            spikes = spikes + z.sum(0)
            y = self.kappa * y + sum(z @ W[q["name"]].T for q in readout)  # y(k+1)
            total = total + self.mask[k + 1] * ((y - self.target[k + 1]) ** 2).sum()
            if trace is not None:
                e_out = 2.0 * self.mask[k + 1] * (y - self.target[k + 1]) / self.norm  # [B, n_out]
                trace(k, z, psi, e_out, zs)
        self.n_spikes = int(float(spikes.sum()))
        self.zs = zs
        rate = spikes * (1000.0 / (B * T * self.h))
        self.rate = rate
        loss = total / self.norm
        if self.c["c_reg"] > 0:
            loss = loss + 0.5 * self.c["c_reg"] * ((rate - self.c["f0"]) ** 2).sum()
        return loss

    def surrogate_bptt(self):
        L = self.forward()
        L.backward()
        g = []
        for q in self.proj:
            g.append(q["M"].grad[q["post"], q["pre"]])
            q["M"].grad = None
        return float(L), g

    def eprop(self):
        """e-prop, online: eligibility vectors per synapse and trial ([B, S] per projection)."""
        B, N = self.B, self.N
        W_out = sum(q["S"] * q["M"] for q in self.proj if q["kind"] == "readout")  # n_out x N
        kappas = sorted(set(self.kappa.tolist()))
        st = {}
        for q in self.proj:
            S = len(q["pre"])
            if q["kind"] == "readout":
                st[q["name"]] = dict(zbar=torch.zeros(B, S, dtype=torch.float64), g=torch.zeros(S, dtype=torch.float64))
                continue
            j = q["post"]
            st[q["name"]] = dict(
                eI=torch.zeros(B, S, dtype=torch.float64), ev=torch.zeros(B, S, dtype=torch.float64),
                ea=torch.zeros(B, S, dtype=torch.float64), esum=torch.zeros(B, S, dtype=torch.float64),
                F=[torch.zeros(B, S, dtype=torch.float64) for _ in kappas], g=torch.zeros(S, dtype=torch.float64),
                dp=torch.tensor([self.decay[p] for p in q["port_of"].tolist()], dtype=torch.float64),
                gain=torch.stack(self.gain)[q["port_of"], j], dm=self.dm[j], beta=self.beta[j])
        psi_prev = [torch.zeros(B, N, dtype=torch.float64)]
        # Learning signal per distinct kappa: L_j(k) = sum_{o with that kappa} W_out[o, j] e_o(k).
        groups = [torch.tensor([o for o in range(len(self.kappa)) if float(self.kappa[o]) == kv]) for kv in kappas]

        def trace(k, z, psi, e_out, zs):
            c1 = self.rho * (1.0 - self.beta * psi_prev[0])  # [B, N]: per post cell
            c2 = self.rho * psi_prev[0]
            L = [e_out[:, o] @ W_out[o, :] for o in groups]  # [B, N] each
            for q in self.proj:
                s = st[q["name"]]
                if q["kind"] == "readout":  # exact: zbar(k+1) = kappa zbar(k) + z(k); g += e(k+1) zbar(k+1)
                    o, j = q["post"], q["pre"]
                    s["zbar"].mul_(self.kappa[o]).add_(z[:, j])
                    s["g"].add_((e_out[:, o] * s["zbar"]).sum(0))
                    continue
                i, j = q["pre"], q["post"]
                if k > 0:
                    s["ea"].mul_(c1[:, j]).addcmul_(c2[:, j], s["ev"])
                    s["ev"].mul_(s["dm"]).addcmul_(s["gain"], s["eI"])
                s["eI"].mul_(s["dp"])
                if k - q["d"] >= 0:
                    src = self.x_in[k - q["d"]] if q["kind"] == "input" else zs[k - q["d"]]
                    s["eI"].add_(src[:, i])
                e_now = (s["ev"] - s["beta"] * s["ea"]).mul_(psi[:, j])
                if self.c["c_reg"] > 0:
                    s["esum"].add_(e_now)
                for F, kv, Lk in zip(s["F"], kappas, L):
                    F.mul_(kv).add_(e_now)
                    s["g"].add_((Lk[:, j] * F).sum(0))
            psi_prev[0] = psi

        with torch.no_grad():
            L = self.forward(trace)
            if self.c["c_reg"] > 0:
                reg = self.c["c_reg"] * (self.rate - self.c["f0"]) * (1000.0 / (B * self.T * self.h))
                for q in self.proj:
                    if q["kind"] != "readout":
                        st[q["name"]]["g"].add_((reg[q["post"]] * st[q["name"]]["esum"]).sum(0))
        return float(L), [st[q["name"]]["g"] * q["sign"] for q in self.proj]  # dL/dm = sign dL/dw

    def eprop_adjoint(self):
        """The same e-prop gradient in eisim's backward form (plasticity/spiking_credit.hpp), as a
        torch user who knows it would write it: the forward pass records psi and the spikes, the
        learning signal L = (kappa-filtered future errors) W_out, per-cell adjoints backwards in
        time on [B, N] tensors, and each projection's gradient one product over all trials and
        steps, G_p = sum_{b,k} mu^I_p(k + d) z(k)^T, read at the synapses."""
        B, N, T = self.B, self.N, self.T
        psis, errs = [], []

        def trace(k, z, psi, e_out, zs):
            psis.append(psi)
            errs.append(e_out)  # e(k+1)
        with torch.no_grad():
            L = self.forward(trace)
            zs = self.zs
            W_out = sum(q["S"] * q["M"] for q in self.proj if q["kind"] == "readout")
            e_t = torch.zeros(T, B, W_out.shape[0], dtype=torch.float64)  # e~(k) = e(k+1) + kappa e~(k+1)
            acc = torch.zeros(B, W_out.shape[0], dtype=torch.float64)
            for k in range(T - 1, -1, -1):
                acc = errs[k] + self.kappa * acc
                e_t[k] = acc
            Ls = e_t @ W_out  # [T, B, N]
            if self.c["c_reg"] > 0:
                Ls = Ls + self.c["c_reg"] * (self.rate - self.c["f0"]) * (1000.0 / (B * T * self.h))
            P = len(self.taus)
            mu_I = torch.zeros(P, T, B, N, dtype=torch.float64)
            mv, ma = torch.zeros(B, N, dtype=torch.float64), torch.zeros(B, N, dtype=torch.float64)
            nI = [torch.zeros(B, N, dtype=torch.float64) for _ in range(P)]
            for k in range(T - 1, -1, -1):
                for p in range(P):
                    nI[p] = self.gain[p] * mv + self.decay[p] * nI[p]
                    mu_I[p, k] = nI[p]
                Lpsi = Ls[k] * psis[k]
                mv, ma = (Lpsi + self.dm * mv + self.rho * psis[k] * ma,
                          (-self.beta * Lpsi + self.rho * (1.0 - self.beta * psis[k]) * ma) * self.adaptive)
            Z = torch.stack(zs)  # [T, B, N]
            g = []
            for q in self.proj:
                if q["kind"] == "readout":  # a spike of j in step k adds e~_o(k) to W_oj
                    G = torch.einsum("tbo,tbj->oj", e_t, Z)
                    g.append(G[q["post"], q["pre"]] * q["sign"])
                    continue
                d = q["d"]
                src = (self.x_in if q["kind"] == "input" else Z)[:T - d].reshape((T - d) * B, -1)
                gs = torch.zeros(len(q["pre"]), dtype=torch.float64)
                for p, cols, _ in q["port"]:  # the port's presynaptic columns only
                    sel = q["port_of"] == p
                    at = torch.full((src.shape[1],), -1, dtype=torch.int64)
                    at[cols] = torch.arange(len(cols))
                    G = mu_I[p, d:].reshape((T - d) * B, N).T @ src[:, cols]  # [N, columns]
                    gs[sel] = G[q["post"][sel], at[q["pre"][sel]]]
                g.append(gs * q["sign"])
        return float(L), g

    def learning_step(self, record=None, row=0):
        if self.c["rule"] == "surrogate_bptt":
            loss, g = self.surrogate_bptt()
        else:
            loss, g = self.eprop_adjoint() if self.eprop_form == "adjoint" else self.eprop()
        with torch.no_grad():
            for q, gq in zip(self.proj, g):
                q["m"] = q["m"] * torch.exp(-self.lr * gq)
                if record is not None:
                    record[q["name"]][row, :] = (q["sign"] * q["m"]).numpy()
        self.dense_from_synapses()
        return loss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="eisim run file (training.steps = 1, activity of every trial)")
    ap.add_argument("--steps", type=int, default=3, help="timed learning steps after the checked first one")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--eprop-form", choices=("traces", "adjoint"), default="traces",
                    help="eprop: forward eligibility traces per synapse (Bellec et al.), or eisim's backward adjoints")
    ap.add_argument("--tol", type=float, default=1e-10, help="relative tolerance of the loss and step checks")
    ap.add_argument("--record", default="", help="HDF5 file the weights are recorded to (empty: no recording)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    c = load(args.run)
    job = Job(c, args.eprop_form)
    out = h5py.File(args.record, "w") if args.record else None
    record = None
    if out is not None:
        record = {q["name"]: out.create_dataset(f"trajectory/{q['name']}/weight", (args.steps + 1, len(q["pre"])), dtype="f8",
                                                chunks=(1, len(q["pre"]))) for q in job.proj}
    # The first learning step, checked against eisim's.
    t0 = time.perf_counter()
    loss0 = job.learning_step(record, 0)
    first_s = time.perf_counter() - t0
    spikes0 = job.n_spikes
    loss_rel = abs(loss0 - c["eisim_loss"]) / abs(c["eisim_loss"])
    step_rel = {}
    for q in job.proj:
        m0 = torch.tensor(np.abs(next(p["w0"] for p in c["proj"] if p["name"] == q["name"])))
        ref = q["m1_eisim"] - m0
        step_rel[q["name"]] = float(torch.linalg.norm((q["m"] - m0) - ref) / torch.linalg.norm(ref))
    ok = loss_rel <= args.tol and all(r <= args.tol for r in step_rel.values()) and spikes0 == c["eisim_spikes"]
    steps = []
    if ok:
        for s in range(args.steps):
            t0 = time.perf_counter()
            job.learning_step(record, s + 1)
            if out is not None:
                out.flush()
            steps.append(time.perf_counter() - t0)
    if out is not None:
        out.close()
        os.remove(args.record)
    print(json.dumps({
        "rule": c["rule"], "eprop_form": args.eprop_form if c["rule"] == "eprop" else None, "N": int(c["N"]), "batch": int(c["B"]), "steps_per_trial": int(c["T"]),
        "loss": loss0, "eisim_loss": c["eisim_loss"], "loss_rel_diff": loss_rel,
        "step_rel_diff": step_rel, "spikes": spikes0, "eisim_spikes": c["eisim_spikes"], "same_job": ok,
        "first_step_s": first_s, "step_s": steps, "step_median_s": statistics.median(steps) if steps else None,
        "threads": torch.get_num_threads(), "torch": torch.__version__, "blas": blas_library(), "peak_rss_mb": peak_rss_mb(),
    }))
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
