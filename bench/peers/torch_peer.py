#!/usr/bin/env python3
"""The PyTorch peer: eisim's teacher-student learning job written the way a PyTorch user would.

It starts from an eisim run file written with `training.steps = 0` and
`training.activity_trials = task.batch`, so that both programs learn the very same problem: the
student's weights (/trajectory/<proj>/weight, row 0, with /network/<proj>/pre, post), the time
constants (/network/tau), and every trial's input and target (/activity/step_0). The config
attribute gives the stepper, dt, bias, mask start and learning rate.

The job, in float64 with `--threads` intra-op threads:
  dense W = S * M per projection (S: the fixed signs, M: magnitudes, 0 where there is no synapse),
  tau dx/dt = -x + W_rec relu(x) + W_in u(t) + b, integrated with euler or rk4 (u linear in t),
  y_k = W_out relu(x_k), L = masked mean of (y - y*)^2 over observations, outputs and trials,
  autograd through every step, then the exponentiated-gradient step on the magnitudes
  M <- M * exp(-lr * dL/dM) (which keeps every sign: Dale's law), and recording every synaptic
  weight to HDF5 (one row per learning step, as eisim does).

Prints one JSON object: the initial loss next to eisim's (the same job gives the same number),
the median seconds of a learning step and of a forward pass, and the peak RSS.
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

PROJECTIONS = ("recurrent", "input", "readout")


def peak_rss_mb():
    """VmHWM: the peak resident set of this process image (not of a parent that forked it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def load(path):
    with h5py.File(path, "r") as f:
        cfg = tomllib.loads(f.attrs["config"] if isinstance(f.attrs["config"], str) else f.attrs["config"].decode())
        net = f["network"]
        transfer = net.attrs["transfer"]
        if (transfer if isinstance(transfer, str) else transfer.decode()) != "relu":
            sys.exit("torch_peer: only the relu transfer function is written here")
        if cfg["network"].get("noise_sigma", 0.0) != 0.0:
            sys.exit("torch_peer: network.noise_sigma must be 0")
        n = int(net.attrs["n_e"]) + int(net.attrs["n_i"])
        shapes = {"recurrent": (n, n), "input": (n, int(net.attrs["n_in"])), "readout": (int(net.attrs["n_out"]), n)}
        proj = {}
        for p in PROJECTIONS:
            pre, post = net[p]["pre"][:], net[p]["post"][:]
            w = f["trajectory"][p]["weight"][0, :]
            proj[p] = (pre, post, w, shapes[p])
        act = f["activity/step_0"]
        u, target = act["input"][:], act["target"][:]  # trials x (T+1) x channels
        if u.shape[0] != cfg["task"]["batch"]:
            sys.exit("torch_peer: the run file must hold every trial's activity (training.activity_trials = task.batch)")
        # The bias of every cell, from its population (run-file format version 2).
        pops = net["populations"]
        bias = np.zeros(n)
        for side, first, size, b in zip(pops["side"][:], pops["first"][:], pops["size"][:], pops["bias"][:]):
            if (side if isinstance(side, str) else side.decode()) == "network":
                bias[first:first + size] = b
        return dict(cfg=cfg, tau=net["tau"][:], bias=bias, proj=proj, u=u, target=target,
                    eisim_loss=float(f["trajectory/loss"][0, 0]) if f["trajectory/loss"].ndim == 2 else float(f["trajectory/loss"][0]))


class Job:
    def __init__(self, d):
        cfg = d["cfg"]
        self.stepper = cfg["integrator"]["stepper"]
        if self.stepper not in ("euler", "rk4"):
            sys.exit("torch_peer: integrator.stepper must be euler or rk4")
        self.dt = cfg["integrator"]["dt_ms"]
        self.bias = torch.tensor(d["bias"]).unsqueeze(1)
        lr = cfg["plasticity"]["learning_rate"]
        self.lr = lr if lr > 0 else 0.5  # eisim's EG default
        self.tau = torch.tensor(d["tau"]).unsqueeze(1)
        self.sign, self.M, self.index = {}, {}, {}
        for p, (pre, post, w, shape) in d["proj"].items():
            S = torch.zeros(shape, dtype=torch.float64)
            M = torch.zeros(shape, dtype=torch.float64)
            S[post, pre] = torch.tensor(np.sign(w))
            M[post, pre] = torch.tensor(np.abs(w))
            self.sign[p], self.M[p] = S, M.requires_grad_(True)
            self.index[p] = (torch.tensor(post), torch.tensor(pre))
        # u[k] is n_in x B, target[k] n_out x B
        self.u = torch.tensor(d["u"]).permute(1, 2, 0).contiguous()
        self.target = torch.tensor(d["target"]).permute(1, 2, 0).contiguous()
        T = self.u.shape[0] - 1
        mask_start = cfg["task"].get("mask_start_ms", 0.0)
        self.mask = torch.tensor([1.0 if k * self.dt >= mask_start else 0.0 for k in range(T + 1)], dtype=torch.float64)

    def loss(self):
        W_rec = self.sign["recurrent"] * self.M["recurrent"]
        W_in = self.sign["input"] * self.M["input"]
        W_out = self.sign["readout"] * self.M["readout"]
        T, n_out, B = self.target.shape[0] - 1, self.target.shape[1], self.target.shape[2]
        f = lambda x, u: (-x + W_rec @ torch.relu(x) + W_in @ u + self.bias) / self.tau
        x = torch.zeros(W_rec.shape[0], B, dtype=torch.float64)
        total = 0.0
        h = self.dt
        for k in range(T + 1):
            y = W_out @ torch.relu(x)
            total = total + self.mask[k] * ((y - self.target[k]) ** 2).sum()
            if k == T:
                break
            if self.stepper == "euler":
                x = x + h * f(x, self.u[k])
            else:
                u_mid = 0.5 * (self.u[k] + self.u[k + 1])
                k1 = f(x, self.u[k])
                k2 = f(x + 0.5 * h * k1, u_mid)
                k3 = f(x + 0.5 * h * k2, u_mid)
                k4 = f(x + h * k3, self.u[k + 1])
                x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return total / (n_out * B * self.mask.sum())

    def learning_step(self, record, row):
        L = self.loss()
        for M in self.M.values():
            M.grad = None
        L.backward()
        with torch.no_grad():
            for p, M in self.M.items():
                M.mul_(torch.exp(-self.lr * M.grad))
                if record is not None:
                    post, pre = self.index[p]
                    record[p][row, :] = (self.sign[p] * M)[post, pre].numpy()
        return float(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="eisim run file (training.steps = 0, activity of every trial)")
    ap.add_argument("--steps", type=int, default=3, help="learning steps to time")
    ap.add_argument("--forward-reps", type=int, default=2, help="timed forward passes (0: time the warm-up pass)")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--record", default="", help="HDF5 file the weights are recorded to (empty: no recording)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    d = load(args.run)
    job = Job(d)

    forward = []
    with torch.no_grad():
        t0 = time.perf_counter()
        initial_loss = float(job.loss())  # also the warm-up
        warm_up = time.perf_counter() - t0
        for _ in range(args.forward_reps):
            t0 = time.perf_counter()
            job.loss()
            forward.append(time.perf_counter() - t0)

    out = h5py.File(args.record, "w") if args.record else None
    record = None
    if out is not None:
        record = {p: out.create_dataset(f"trajectory/{p}/weight", (args.steps, len(job.index[p][0])), dtype="f8",
                                        chunks=(1, len(job.index[p][0])))
                  for p in PROJECTIONS}
    steps, losses = [], []
    for s in range(args.steps):
        t0 = time.perf_counter()
        losses.append(job.learning_step(record, s))
        if out is not None:
            out.flush()
        steps.append(time.perf_counter() - t0)
    if out is not None:
        out.close()
        os.remove(args.record)
    print(json.dumps({
        "initial_loss": initial_loss,
        "eisim_initial_loss": d["eisim_loss"],
        "losses": losses,
        "step_median_s": statistics.median(steps) if steps else None,
        "forward_median_s": statistics.median(forward) if forward else warm_up,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "peak_rss_mb": peak_rss_mb(),
    }))


if __name__ == "__main__":
    main()
