#!/usr/bin/env python3
"""Figures of an eisim analysis (PNG), called by `eisim analyze RUN.h5 --figures DIR`.

    figures.py RUN.h5 REPORT.json DIR

Reads the run file (h5py) and the JSON report that `eisim analyze` wrote, and draws into DIR:
  <proj>_ln_weights.png    ln|w| histograms at the `from` and `to` snapshots, per block, with the
                           fitted log-normal (a Gaussian density in ln-space, mu and sigma from
                           the report)
  <proj>_geometry.png      dCDF of the dual change against the candidate geometry (EG, p-norms),
                           per block, with the band [best, best + noise floor]; one panel with the
                           change standardised pooled, one per postsynaptic neuron
  loss.png                 the loss curve (/training/loss per step, /trajectory/loss at snapshots)
  <proj>_trajectories.png  |w| over learning of 24 randomly chosen synapses (seed 0), E red, I blue
Exits with code 3 when matplotlib, numpy or h5py cannot be imported.
"""
import json
import math
import os
import sys

try:
    import numpy as np
    import h5py
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # the caller turns exit code 3 into a clear message
    sys.stderr.write("eisim figures: cannot import %s\n" % e.name)
    sys.exit(3)

MAX_ROWS = 200      # snapshots drawn in the trajectory figure (evenly spaced)
N_SAMPLE = 24       # synapses drawn in the trajectory figure


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def block_members(f, proj, pj, populations):
    """Synapse indices of each block: those whose pre and post indices lie in the block's
    populations (the report names them; their index ranges are in network.populations)."""
    g = f["network/" + proj]
    pre = g["pre"][:]
    post = g["post"][:]

    def within(idx, names, side):
        inside = np.zeros(idx.shape, dtype=bool)
        for q in populations:
            if q["name"] in names and q["side"] == side:
                inside |= (idx >= q["first"]) & (idx < q["first"] + q["size"])
        return inside

    out = {}
    for b, bj in pj["blocks"].items():
        keep = within(pre, bj["pre_populations"], pj["pre_population"]) & \
            within(post, bj["post_populations"], pj["post_population"])
        out[b] = np.arange(len(pre)) if b == "all" else np.nonzero(keep)[0]
    return out


def grid_of(n):
    cols = min(n, 3)
    return (n + cols - 1) // cols, cols


def ln_weights(f, proj, pj, rep, out):
    w0 = f["trajectory/%s/weight" % proj][rep["from"]["index"]]
    w1 = f["trajectory/%s/weight" % proj][rep["to"]["index"]]
    blocks = list(pj["blocks"].keys())
    members = block_members(f, proj, pj, rep["network"]["populations"])
    rows, cols = grid_of(len(blocks))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for ax, b in zip(axes.flat, blocks):
        idx = members[b]
        for w, which, colour in ((w0, "initial", "0.55"), (w1, "final", "C3")):
            m = np.abs(w[idx])
            x = np.log(m[(m > 0) & np.isfinite(m)])
            if x.size == 0:
                continue
            label = "step %g" % rep["from" if which == "initial" else "to"]["step"]
            ax.hist(x, bins=60, density=True, histtype="stepfilled" if which == "initial" else "step",
                    color=colour, alpha=0.6 if which == "initial" else 1.0, label=label)
            s = pj["blocks"][b][which]
            if s["mu"] is not None and s["sigma"] is not None and s["sigma"] > 0:
                t = np.linspace(x.min(), x.max(), 300)
                dens = np.exp(-0.5 * ((t - s["mu"]) / s["sigma"]) ** 2) / (s["sigma"] * math.sqrt(2 * math.pi))
                ax.plot(t, dens, color=colour, lw=1.2, ls="--",
                        label="log-normal fit (\u03bc=%.2f, \u03c3=%.2f, KS=%.3f)" % (s["mu"], s["sigma"], s["ks"]))
        ax.set_title("%s %s (n=%d)" % (proj, b, pj["blocks"][b]["n_synapses"]))
        ax.set_xlabel("ln|w|")
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(blocks):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "%s_ln_weights.png" % proj), dpi=110)
    plt.close(fig)


def geometry(proj, pj, out):
    """dCDF against the candidate geometry, one panel per standardisation (pooled, per-neuron)."""
    first = next(iter(pj["blocks"].values()))
    variants = [(k, t) for k, t in (("geometry_pooled", "pooled"), ("geometry_per_neuron", "per-neuron"))
                if k in first] or [("geometry", "pooled")]  # reports of schema 1 have one variant
    fig, axes = plt.subplots(1, len(variants), figsize=(7.5 * len(variants), 4.2), squeeze=False, sharey=True)
    for ax, (key, title) in zip(axes.flat, variants):
        for k, (b, bj) in enumerate(pj["blocks"].items()):
            g = bj[key]
            xs = [1.0 if c["p"] is None else c["p"] for c in g["candidates"]]
            ys = [np.nan if c["dcdf"] is None else c["dcdf"] for c in g["candidates"]]
            colour = "C%d" % k
            ax.plot(xs[1:], ys[1:], "-o", ms=3, color=colour, label="%s (best %s)" % (b, g["best"]))
            ax.plot(xs[:1], ys[:1], "s", ms=6, color=colour)
            if g["best"] is not None and g["floor"] is not None:
                best = min(y for y in ys if np.isfinite(y))
                ax.axhspan(best, best + g["floor"], color=colour, alpha=0.12)
        ax.set_xticks([1.0] + [1.5, 2.0, 2.5, 3.0])
        ax.set_xticklabels(["EG", "1.5", "2.0", "2.5", "3.0"])
        ax.set_xlabel("candidate geometry (EG, p-norm exponent p)")
        ax.set_yscale("log")
        ax.set_title("%s: geometry test, %s" % (proj, title))
        ax.legend(fontsize=7, loc="best")
    axes.flat[0].set_ylabel("\u0394CDF of the dual change")
    fig.suptitle("squares: EG; bands: best + noise floor (consistent candidates lie inside)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "%s_geometry.png" % proj), dpi=110)
    plt.close(fig)


def loss(f, rep, out):
    fig, ax = plt.subplots(figsize=(6, 3.8))
    values = []
    if "training/loss" in f:
        l = f["training/loss"][:].ravel()
        if l.size:
            ax.plot(np.arange(1, l.size + 1), l, color="C0", lw=1, label="training loss (after each step)")
            values.append(l)
    if "trajectory/loss" in f:
        s = f["trajectory/step"][:].ravel()
        l = f["trajectory/loss"][:].ravel()
        n = min(s.size, l.size)
        ax.plot(s[:n], l[:n], "o", ms=3, color="C1", label="loss at snapshots")
        values.append(l[:n])
    drawn = len(values) > 0
    for which in ("from", "to"):
        ax.axvline(rep[which]["step"], color="0.5", ls=":", lw=1)
    if drawn and np.all(np.concatenate(values) > 0):
        ax.set_yscale("log")
    ax.set_xlabel("learning step")
    ax.set_ylabel("loss")
    ax.set_title("loss" if drawn else "loss (not in the file)")
    if drawn:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loss.png"), dpi=110)
    plt.close(fig)


def trajectories(f, proj, rep, out):
    ds = f["trajectory/%s/weight" % proj]
    steps = f["trajectory/step"][:].ravel()
    T = min(ds.shape[0], steps.size)
    nnz = ds.shape[1]
    if nnz == 0 or T == 0:
        return
    rng = np.random.default_rng(0)
    cols = np.sort(rng.choice(nnz, size=min(N_SAMPLE, nnz), replace=False))
    rows = np.unique(np.linspace(0, T - 1, min(T, MAX_ROWS)).round().astype(int))
    w = np.array([ds[r, cols] for r in rows])
    sign = f["network/%s/sign" % proj][:][cols]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for k in range(len(cols)):
        ax.plot(steps[rows], np.abs(w[:, k]), color="C3" if sign[k] > 0 else "C0", lw=1, alpha=0.8)
    for which in ("from", "to"):
        ax.axvline(rep[which]["step"], color="0.5", ls=":", lw=1)
    if np.all(np.abs(w) > 0):
        ax.set_yscale("log")
    ax.set_xlabel("learning step")
    ax.set_ylabel("|w|")
    ax.set_title("%s: %d sampled synapses (red E, blue I)" % (proj, len(cols)))
    fig.tight_layout()
    fig.savefig(os.path.join(out, "%s_trajectories.png" % proj), dpi=110)
    plt.close(fig)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: figures.py RUN.h5 REPORT.json DIR\n")
        return 2
    run, report, out = argv[1:]
    with open(report) as fh:
        rep = json.load(fh)
    os.makedirs(out, exist_ok=True)
    try:  # a run file still being written (SWMR) opens only this way
        f = h5py.File(run, "r", swmr=True)
    except (OSError, ValueError):
        f = h5py.File(run, "r")
    with f:
        loss(f, rep, out)
        for proj, pj in rep["projections"].items():
            ln_weights(f, proj, pj, rep, out)
            geometry(proj, pj, out)
            trajectories(f, proj, rep, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
