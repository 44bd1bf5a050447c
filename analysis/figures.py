#!/usr/bin/env python3
"""Figures of an eisim analysis (PNG), called by `eisim analyze RUN.h5 --figures DIR`.

    figures.py RUN.h5 REPORT.json DIR

Reads the run file (h5py) and the JSON report that `eisim analyze` wrote, and draws into DIR:
  <proj>_ln_weights.png    per block, histograms of ln|w| at the `from` and `to` snapshots over
                           the synapses above the bound, each with its maximum-likelihood
                           log-normal fit (a Gaussian density in ln-space: mu = mean of ln|w|,
                           sigma with 1/n, KS distance to it: the report's own); the synapses held
                           at the bound (|w| <= b (1 + 1e-9), b = the report's settings.bound, i.e.
                           plasticity.min_magnitude) are counted in the legend and left out of
                           the histograms and fits
  <proj>_geometry.png      dCDF of the dual change against the candidate geometry (EG, p-norms),
                           one line per block, with the band [best, best + noise floor] and the
                           geometry the run trained with; one panel with the change standardised
                           pooled, one per postsynaptic neuron
  loss.png                 above, the loss; below, the task's accuracy (R^2, or the fraction of
                           correct choices of a decision task): /training/<x> row k at learning
                           step k (evaluated on the weights after k steps, before the update of
                           step k + 1), /trajectory/<x> at the snapshots' /trajectory/step, and a
                           decision task's held-out accuracy where it was measured
  <proj>_trajectories.png  |w| over learning of 24 randomly chosen synapses (seed 0), red from an
                           excitatory cell or channel, blue from an inhibitory one; the bound
                           dashed
Every figure's title names the run file, the task, the credit rule and the geometry (from the
config stored in the run file's root attribute `config`); every axis names its quantity and unit
("(1)": dimensionless); legends sit outside the axes; a panel with nothing to draw says why.

The figures are built by functions that return matplotlib Figures (`figures(f, run_path, rep)`
gives them all by file name), so tests can look at them without reading PNGs.
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
    from matplotlib.ticker import LogFormatterSciNotation, MaxNLocator
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
except ImportError as e:  # the caller turns exit code 3 into a clear message
    sys.stderr.write("eisim figures: cannot import %s\n" % e.name)
    sys.exit(3)

try:
    import tomllib  # Python 3.11
except ImportError:  # an older python draws the figures without the config's names
    tomllib = None

MAX_ROWS = 200      # snapshots drawn in the trajectory figure (evenly spaced)
N_SAMPLE = 24       # synapses drawn in the trajectory figure
MAX_BINS = 60       # histogram bins of ln|w|: 2 sqrt(n), 10 to 60
HELD_SLACK = 1e-9   # held at the bound: |w| <= b (1 + HELD_SLACK), as analysis/analyze.cpp counts
DPI = 150
LEGEND_FONT = 7

STEP_LABEL = "learning step (updates done)"
EG_X = 0.8          # where EG sits on the geometry figure's axis, left of the p-norms 1.1..3.0


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


# ---- what the run is -------------------------------------------------------------------------------

class Run:
    """The run's names for the titles, from the config stored in the run file."""

    def __init__(self, f, path, rep):
        self.file = os.path.basename(path)
        cfg = {}
        if "config" in f.attrs and tomllib is not None:
            try:
                cfg = tomllib.loads(text(f.attrs["config"]))
            except tomllib.TOMLDecodeError:
                cfg = {}
        task = cfg.get("task", {})
        plasticity = cfg.get("plasticity", {})
        self.has_config = bool(cfg)
        self.task = task.get("kind", "?")
        self.credit = plasticity.get("credit", "?")
        self.geometry = plasticity.get("geometry", rep.get("run", {}).get("trained_geometry") or "?")
        self.p = plasticity.get("p", rep.get("run", {}).get("trained_p"))
        # every decision task has a fixation period (README "Tasks"); the others report R^2
        self.decision = "fixation_ms" in task
        self.accuracy_name = "fraction correct" if self.decision else ("R\u00b2" if self.has_config else "accuracy")
        settings = rep.get("settings", {})
        self.bound = settings.get("bound", plasticity.get("min_magnitude", 1e-8))
        self.min_synapses = settings.get("min_synapses", 10)
        self.heldout_trials = cfg.get("training", {}).get("heldout_trials")

    def geometry_name(self):
        if self.geometry == "pnorm" and self.p is not None:
            return "pnorm (p = %g)" % self.p
        return self.geometry

    def geometry_x(self):
        """The trained geometry's place on the geometry figure's axis (None: not known)."""
        if self.geometry == "eg":
            return EG_X
        if self.geometry == "euclidean":
            return 2.0
        if self.geometry == "pnorm" and self.p is not None:
            return float(self.p)
        return None

    def names(self):
        return "%s: task %s, credit %s, geometry %s%s" % (self.file, self.task, self.credit, self.geometry_name(),
                                                          "" if self.has_config else " (no config in the file)")


def title(fig, run, what, note=None):
    """The figure's title: what it shows, then the run file, task, credit rule and geometry."""
    fig.suptitle("\n".join([what, run.names()] + ([note] if note else [])), fontsize=10)


def say_empty(ax, why):
    """An empty panel says why it is empty (and shows no ticks of data it does not have)."""
    ax.set_yticks([])
    ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.3", wrap=True)


def legend_below(ax, **kw):
    """A legend under the axes (off the data)."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=LEGEND_FONT, frameon=False, **kw)


def legend_right(ax, **kw):
    """A legend right of the axes (off the data)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=LEGEND_FONT, frameon=False, **kw)


def log_y(ax):
    """A logarithmic y axis whose in-between ticks are labelled when it spans under two decades."""
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(LogFormatterSciNotation(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def step_axis(ax):
    ax.set_xlabel(STEP_LABEL)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def mark_compared(ax, rep):
    """Dotted lines at the two compared snapshots."""
    for which in ("from", "to"):
        ax.axvline(rep[which]["step"], color="0.5", ls=":", lw=1,
                   label="compared snapshots (steps %g, %g)" % (rep["from"]["step"], rep["to"]["step"])
                   if which == "from" else None)


# ---- ln|w| histograms ------------------------------------------------------------------------------

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


def held_at_bound(m, bound):
    """Magnitudes held at the bound (a euclidean or p-norm step holds them at min_magnitude)."""
    return m <= bound * (1 + HELD_SLACK)


def log_normal_fit(x):
    """The maximum-likelihood log-normal fit of the magnitudes whose logarithms are x: a Gaussian
    in ln-space with mu = mean(x) and sigma = sqrt(m2) (1/n), as analysis/stats.cpp; and the
    Kolmogorov-Smirnov distance between x's empirical distribution and it. None without spread."""
    n = x.size
    if n < 2:
        return None
    mu = float(np.mean(x))
    sigma = float(np.sqrt(np.mean((x - mu) ** 2)))
    if sigma <= 0:
        return None
    xs = np.sort(x)
    F = 0.5 * np.vectorize(math.erfc)(-(xs - mu) / (sigma * math.sqrt(2)))
    i = np.arange(n)
    ks = float(max(np.max((i + 1) / n - F), np.max(F - i / n)))
    return mu, sigma, ks


def gaussian_density(t, mu, sigma):
    return np.exp(-0.5 * ((t - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def block_title(proj, b, bj):
    if b == "all":
        return "%s, all synapses (%d)" % (proj, bj["n_synapses"])
    return "%s, block %s (post %s, pre %s): %d synapses" % (
        proj, b, "+".join(bj["post_populations"]), "+".join(bj["pre_populations"]), bj["n_synapses"])


def ln_weights_figure(f, run, proj, pj, rep):
    ds = f["trajectory/%s/weight" % proj]
    snapshots = (("from", ds[rep["from"]["index"]], dict(histtype="stepfilled", color="0.6", alpha=0.6), "0.35"),
                 ("to", ds[rep["to"]["index"]], dict(histtype="step", color="C3", lw=1.2), "C3"))
    blocks = list(pj["blocks"].keys())
    members = block_members(f, proj, pj, rep["network"]["populations"])
    rows, cols = grid_of(len(blocks))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.4 * rows + 0.9), squeeze=False, layout="constrained")
    any_held = False
    for ax, b in zip(axes.flat, blocks):
        idx = members[b]
        ax.set_title(block_title(proj, b, pj["blocks"][b]), fontsize=8)
        ax.set_xlabel("ln|w|, w the synaptic weight (1)")
        ax.set_ylabel("probability density (per unit ln|w|)")
        if idx.size == 0:
            say_empty(ax, "no synapses in this block")
            continue
        magnitudes = {}
        held = {}
        for which, w, _, _ in snapshots:
            m = np.abs(w[idx])
            m = m[np.isfinite(m)]
            h = held_at_bound(m, run.bound)
            held[which] = int(np.count_nonzero(h))
            magnitudes[which] = m[~h]
        any_held = any_held or any(held.values())
        above = np.concatenate([np.log(magnitudes[w]) for w in ("from", "to")])
        if above.size == 0:
            say_empty(ax, "no synapse above the bound |w| \u2264 %g at step %g or %g:\nall %d held there"
                      % (run.bound, rep["from"]["step"], rep["to"]["step"], idx.size))
            continue
        n_most = max(magnitudes["from"].size, magnitudes["to"].size)
        edges = np.histogram_bin_edges(above, bins=int(np.clip(round(2 * math.sqrt(n_most)), 10, MAX_BINS)))
        t = np.linspace(edges[0], edges[-1], 300)
        for which, _, style, fit_colour in snapshots:
            step = rep[which]["step"]
            x = np.log(magnitudes[which])
            if x.size == 0:
                ax.plot([], [], color=style["color"], label="step %g: none above the bound" % step)
                continue
            ax.hist(x, bins=edges, density=True, label="step %g: %d above the bound" % (step, x.size), **style)
            fit = log_normal_fit(x)
            if fit is None:
                ax.plot([], [], color=fit_colour, ls="--", label="step %g: no spread, no fit" % step)
                continue
            mu, sigma, ks = fit
            ax.plot(t, gaussian_density(t, mu, sigma), color=fit_colour, lw=1.2, ls="--", gid="fit %s" % which,
                    label="log-normal fit, step %g: \u03bc = %.2f, \u03c3 = %.2f, KS = %.3f" % (step, mu, sigma, ks))
        handles, labels = ax.get_legend_handles_labels()
        handles.append(Patch(facecolor="white", edgecolor="k", hatch="////"))
        labels.append("held at the bound |w| \u2264 %g, not drawn or fitted:\n%d at step %g, %d at step %g (of %d)"
                      % (run.bound, held["from"], rep["from"]["step"], held["to"], rep["to"]["step"], idx.size))
        legend_below(ax, handles=handles, labels=labels)
    for ax in list(axes.flat)[len(blocks):]:
        ax.axis("off")
    title(fig, run, "ln|w| of %s at steps %g and %g, with log-normal fits" % (proj, rep["from"]["step"], rep["to"]["step"]),
          "fitted over the synapses above the bound, as the JSON report's \u03bc, \u03c3 and KS"
          if any_held else None)
    return fig


# ---- the geometry test -----------------------------------------------------------------------------

def why_untested(g, min_synapses):
    if g.get("neurons") is not None and g.get("neurons_skipped"):
        return "not tested: all %d neurons skipped (< %d testable synapses or no change)" % (g["neurons_skipped"], min_synapses)
    if g.get("n", 0) == 0:
        return "not tested: no synapse nonzero and finite at both snapshots"
    return "not tested: no weight changed"


def as_ranges(names, order):
    """Candidate names as runs of consecutive candidates, as the report's table writes them:
    ["eg", "p=1.1", "p=1.2", "p=1.3"] -> "eg, p=1.1..1.3"."""
    chosen = [order.index(n) for n in names if n in order]
    runs = []
    for i in chosen:
        if runs and i == runs[-1][1] + 1 and order[i] != "eg" and order[runs[-1][1]] != "eg":
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(order[a] if a == b else "%s..%s" % (order[a], order[b][2:]) for a, b in runs) or "none"


def geometry_figure(run, proj, pj):
    """dCDF against the candidate geometry, one panel per standardisation (pooled, per-neuron)."""
    first = next(iter(pj["blocks"].values()))
    variants = [(k, t) for k, t in (("geometry_pooled", "pooled"), ("geometry_per_neuron", "per-neuron"))
                if k in first] or [("geometry", "pooled")]  # reports of schema 1 have one variant
    fig, axes = plt.subplots(1, len(variants), figsize=(6.4 * len(variants), 5.6), squeeze=False, layout="constrained")
    trained = run.geometry_x()
    for ax, (key, standardize) in zip(axes.flat, variants):
        drawn = False
        for k, (b, bj) in enumerate(pj["blocks"].items()):
            g = bj[key]
            colour = "k" if b == "all" else "C%d" % (k - 1)
            # block all thick and below: a block holding every synapse draws over it, both visible
            width, ms, z = (2.6, 5, 2) if b == "all" else (1.2, 3, 3)
            xs = [EG_X if c["p"] is None else c["p"] for c in g["candidates"]]
            ys = [np.nan if c["dcdf"] is None else c["dcdf"] for c in g["candidates"]]
            finite = [y for y in ys if np.isfinite(y)]
            if g["best"] is None or not finite:
                ax.plot([], [], "-o", ms=3, color=colour, label="%s: %s" % (b, why_untested(g, run.min_synapses)))
                continue
            drawn = True
            order = [c["name"] for c in g["candidates"]]
            label = "%s: %d synapses, best %s, consistent %s" % (b, g["n"], g["best"], as_ranges(g["consistent"], order))
            ax.plot(xs[1:], ys[1:], "-o", ms=ms, lw=width, zorder=z, color=colour, label=label, gid="dcdf %s" % b)
            ax.plot(xs[:1], ys[:1], "s", ms=ms + 3, zorder=z, color=colour)
            if g["floor"] is not None:
                best = min(finite)
                ax.axhspan(best, best + g["floor"], color=colour, alpha=0.12, lw=0)
        if trained is not None:
            ax.axvline(trained, color="0.4", ls="--", lw=1, label="trained with %s" % run.geometry_name()
                       + (" (p = 2)" if run.geometry == "euclidean" else ""))
        ax.set_xlim(EG_X - 0.15, 3.1)
        ax.set_xticks([EG_X, 1.1, 1.5, 2.0, 2.5, 3.0])
        ax.set_xticklabels(["EG", "1.1", "1.5", "2.0", "2.5", "3.0"])
        ax.set_xlabel("candidate geometry: EG, or p-norm exponent p (1)")
        ax.set_ylabel("\u0394CDF of the standardised dual change (1)")
        ax.set_title("standardised %s" % standardize, fontsize=9)
        if drawn:
            log_y(ax)
        else:
            say_empty(ax, "no block of %s could be tested %s (why: below)" % (proj, standardize))
        legend_below(ax, ncol=1)
    title(fig, run, "Geometry test of %s: squares EG; shaded, best to best + noise floor "
          "(the candidates inside are consistent)" % proj)
    return fig


# ---- loss and accuracy -----------------------------------------------------------------------------

def series(f, group, name):
    """The values of /group/name (None when missing or empty) and the learning step of each row:
    /training rows are steps 0..S-1 (row k: the weights after k steps, before the update of step
    k + 1); /trajectory rows are the snapshots at /trajectory/step."""
    path = "%s/%s" % (group, name)
    if path not in f:
        return None
    y = f[path][:].ravel().astype(float)
    if group == "training":
        x = np.arange(y.size, dtype=float)
    else:
        s = f["trajectory/step"][:].ravel().astype(float)
        n = min(y.size, committed_snapshots(f))
        x, y = s[:n], y[:n]
    keep = np.isfinite(y)
    if not keep.any():
        return None
    return x[keep], y[keep]


def plot_series(ax, f, name, what):
    """/training/<name> as a line, /trajectory/<name> as points (or a text saying neither is in the
    file); returns the two (steps, values) drawn, None for one not in the file."""
    drawn = False
    training = series(f, "training", name)
    if training is not None:
        ax.plot(*training, color="C0", lw=1, gid="/training/" + name,
                label="/training/%s: row k at step k (before its update)" % name)
        drawn = True
    snapshots = series(f, "trajectory", name)
    if snapshots is not None:
        ax.plot(*snapshots, "o", ms=3, color="C1", gid="/trajectory/" + name, label="/trajectory/%s: snapshots" % name)
        drawn = True
    if not drawn:
        say_empty(ax, "no %s in this file (neither /training/%s nor /trajectory/%s)" % (what, name, name))
    return training, snapshots


def loss_figure(f, run, rep):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True, layout="constrained")
    training, snapshots = plot_series(top, f, "loss", "loss")
    values = [s[1] for s in (training, snapshots) if s is not None]
    if values and np.all(np.concatenate(values) > 0):
        log_y(top)
    top.set_ylabel("loss: mean squared output error (1)")
    step_axis(top)
    top.tick_params(labelbottom=True)
    mark_compared(top, rep)
    legend_right(top)

    training, snapshots = plot_series(bottom, f, "accuracy", "accuracy")
    heldout = series(f, "trajectory", "heldout_accuracy")
    if heldout is not None:
        n = run.heldout_trials
        bottom.plot(*heldout, "s-", ms=4, lw=1.2, color="C2", gid="/trajectory/heldout_accuracy",
                    label="/trajectory/heldout_accuracy: %s never learned from" % ("%d trials" % n if n else "held-out trials"))
    if run.decision:
        bottom.axhline(0.5, color="0.6", lw=0.8, ls="-.", label="chance (\u00bd)")
        bottom.set_ylim(0, 1.02)
    else:
        shown = training if training is not None else snapshots
        below = np.count_nonzero(shown[1] < -1) if shown is not None else 0
        if below:  # an R^2 far below 0 would flatten the rest of the curve
            bottom.set_ylim(-1, 1.02)
            bottom.set_title("%d steps with %s < \u22121 lie below the axis" % (below, run.accuracy_name), fontsize=8)
    bottom.set_ylabel("accuracy: %s (1)" % run.accuracy_name)
    step_axis(bottom)
    mark_compared(bottom, rep)
    legend_right(bottom)
    title(fig, run, "Loss and accuracy over learning")
    return fig


def committed_snapshots(f):
    """The complete snapshots: /trajectory's attribute committed (format version 3 and later), never more
    than /trajectory/step holds; files of versions 1 and 2 have no marker."""
    n = f["trajectory/step"].shape[0]
    c = f["trajectory"].attrs.get("committed")
    return n if c is None else max(0, min(n, int(c)))


# ---- weight trajectories ---------------------------------------------------------------------------

def trajectories_figure(f, run, proj, rep):
    ds = f["trajectory/%s/weight" % proj]
    steps = f["trajectory/step"][:].ravel()
    T = min(ds.shape[0], committed_snapshots(f))
    nnz = ds.shape[1]
    fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained")
    step_axis(ax)
    ax.set_ylabel("|w|, synaptic weight magnitude (1)")
    title(fig, run, "|w| of %s over learning" % proj)
    if nnz == 0 or T == 0:
        say_empty(ax, "no synapses in %s" % proj if nnz == 0 else "no snapshot in /trajectory")
        return fig
    rng = np.random.default_rng(0)
    cols = np.sort(rng.choice(nnz, size=min(N_SAMPLE, nnz), replace=False))
    rows = np.unique(np.linspace(0, T - 1, min(T, MAX_ROWS)).round().astype(int))
    w = np.abs(np.array([ds[r, cols] for r in rows]))
    sign = f["network/%s/sign" % proj][:][cols]
    for k in range(len(cols)):
        ax.plot(steps[rows], w[:, k], color="C3" if sign[k] > 0 else "C0", lw=1, alpha=0.8)
    handles = [Line2D([], [], color=colour, lw=1, label=label) for colour, label, present in (
        ("C3", "from an excitatory cell or channel", np.any(sign > 0)), ("C0", "from an inhibitory cell", np.any(sign <= 0)))
        if present]
    if np.any(held_at_bound(w, run.bound)):
        ax.axhline(run.bound, color="k", ls="--", lw=0.8)
        handles.append(Line2D([], [], color="k", ls="--", lw=0.8, label="the bound |w| = %g" % run.bound))
    mark_compared(ax, rep)
    handles.append(Line2D([], [], color="0.5", ls=":", lw=1,
                          label="compared snapshots (steps %g, %g)" % (rep["from"]["step"], rep["to"]["step"])))
    if np.all(w > 0):
        log_y(ax)
    ax.set_title("%d of %d synapses chosen at random (seed 0)" % (len(cols), nnz), fontsize=9)
    legend_right(ax, handles=handles)
    return fig


# ---- all of them -----------------------------------------------------------------------------------

def figures(f, run_path, rep):
    """Every figure of the run, by file name (in the order they are drawn)."""
    run = Run(f, run_path, rep)
    out = {"loss.png": loss_figure(f, run, rep)}
    for proj, pj in rep["projections"].items():
        out["%s_ln_weights.png" % proj] = ln_weights_figure(f, run, proj, pj, rep)
        out["%s_geometry.png" % proj] = geometry_figure(run, proj, pj)
        out["%s_trajectories.png" % proj] = trajectories_figure(f, run, proj, rep)
    return out


def open_run(path):
    try:  # a run file still being written (SWMR) opens only this way
        return h5py.File(path, "r", swmr=True)
    except (OSError, ValueError):
        return h5py.File(path, "r")


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: figures.py RUN.h5 REPORT.json DIR\n")
        return 2
    run, report, out = argv[1:]
    with open(report) as fh:
        rep = json.load(fh)
    os.makedirs(out, exist_ok=True)
    with open_run(run) as f:
        for name, fig in figures(f, run, rep).items():
            fig.savefig(os.path.join(out, name), dpi=DPI)
            plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
