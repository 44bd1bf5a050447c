#!/usr/bin/env python3
"""The figure of a sweep's summary (PNG), called by eisim's draw_sweep_figure (sweep/summary.cpp).

    summary_figure.py DIR

Reads DIR/summary.csv (written by the summary: one row per condition, with the mean and the
sample sd over seeds) and DIR/manifest.csv (the individual runs), and draws DIR/summary.png: two
panels, final accuracy and final loss, against the first condition key (a swept key that is not
a seed key). One line per value of the other condition keys (the second one, when there are
two), mean ± sd over the done runs of each condition as error bars, every done run as a faint
dot. Diverged runs are counted in the title, never drawn: their loss is not an outcome.
Exits with code 3 when matplotlib or numpy cannot be imported, 2 when the files are not as
expected.
"""
import csv
import math
import os
import sys

try:
    import numpy as np
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # the caller turns exit code 3 into a clear message
    sys.stderr.write("eisim sweep figure: cannot import %s\n" % e.name)
    sys.exit(3)

OUTCOME_COLUMNS = ["status", "exit_code", "attempts", "seconds", "final_loss", "final_accuracy", "host", "rank"]


def fail(message):
    sys.stderr.write("eisim sweep figure: %s\n" % message)
    sys.exit(2)


def read_csv(path):
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f) if r]
    except OSError as e:
        fail("cannot read %s: %s" % (path, e))
    if not rows:
        fail("%s is empty" % path)
    return rows[0], rows[1:]


def number(cell):
    """An empty cell is an unknown number (NaN)."""
    cell = cell.strip()
    if not cell:
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return math.nan


def is_seed_key(key):
    return "seed" in key.split(".")[-1]


def all_numeric(values):
    try:
        for v in values:
            float(v)
        return True
    except ValueError:
        return False


def main():
    if len(sys.argv) != 2:
        fail("usage: summary_figure.py DIR")
    folder = sys.argv[1]

    header, rows = read_csv(os.path.join(folder, "summary.csv"))
    if header[:2] != ["group", "key"] or "runs" not in header:
        fail("%s does not start with group,key and has no runs column" % os.path.join(folder, "summary.csv"))
    keys = header[2:header.index("runs")]  # the condition keys, in axis order
    col = {name: i for i, name in enumerate(header)}
    conditions = [r for r in rows if r[col["group"]] == "condition"]
    overall = next((r for r in rows if r[col["group"]] == "all"), None)

    mheader, mrows = read_csv(os.path.join(folder, "manifest.csv"))
    if not mheader or mheader[0] != "id" or mheader[-len(OUTCOME_COLUMNS):] != OUTCOME_COLUMNS:
        fail("%s does not have the manifest's header" % os.path.join(folder, "manifest.csv"))
    mcol = {name: i for i, name in enumerate(mheader)}
    swept = mheader[1:-len(OUTCOME_COLUMNS)]
    seeds = [k for k in swept if is_seed_key(k)]
    done = [r for r in mrows if len(r) == len(mheader) and r[mcol["status"]].strip() == "done"]

    # x: the first condition key (one category when only seeds were swept); lines: the others.
    x_key = keys[0] if keys else None
    line_keys = keys[1:]

    def x_of(values):
        return values[0] if x_key else "all runs"

    def line_of(values):
        return ", ".join(values[1:])  # the values of the line keys (the legend's title names them)

    x_values = []
    for r in conditions:
        v = x_of([r[col[k]] for k in keys])
        if v not in x_values:
            x_values.append(v)
    numeric = bool(x_key) and all_numeric(x_values)
    lines = []
    for r in conditions:
        label = line_of([r[col[k]] for k in keys])
        if label not in lines:
            lines.append(label)
    # Categorical x: lines side by side around each category, so the error bars do not overlap.
    width = 0.6 / max(1, len(lines))

    def position(x, line_index):
        if numeric:
            return float(x)
        return x_values.index(x) + (line_index - (len(lines) - 1) / 2) * width

    rng = np.random.default_rng(0)  # the jitter of the dots is the same on every call
    spread = [float(v) for v in x_values] if numeric else []
    jitter = 0.01 * (max(spread) - min(spread)) if len(spread) > 1 else (0 if numeric else 0.25 * width)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, outcome, title in ((axes[0], "final_accuracy", "final accuracy"), (axes[1], "final_loss", "final loss")):
        drawn = False
        values_seen = []
        for li, label in enumerate(lines):
            colour = colours[li % len(colours)]
            xs, means, sds = [], [], []
            for r in conditions:
                values = [r[col[k]] for k in keys]
                if line_of(values) != label:
                    continue
                m, s = number(r[col[outcome + "_mean"]]), number(r[col[outcome + "_sd"]])
                if math.isnan(m):
                    continue
                xs.append(position(x_of(values), li))
                means.append(m)
                sds.append(0.0 if math.isnan(s) else s)
            order = np.argsort(xs)
            xs, means, sds = np.array(xs)[order], np.array(means)[order], np.array(sds)[order]
            if len(xs):
                ax.errorbar(xs, means, yerr=sds, color=colour, marker="o", capsize=3, label=label if label else "mean ± sd")
                values_seen.extend(means)
                drawn = True
            # The individual done runs of this line, faint.
            px, py = [], []
            for r in done:
                values = [r[mcol[k]].strip() for k in keys]
                if line_of(values) != label:
                    continue
                y = number(r[mcol[outcome]])
                if math.isnan(y):
                    continue
                px.append(position(x_of(values), li) + rng.uniform(-jitter, jitter))
                py.append(y)
            if px:
                ax.scatter(px, py, color=colour, alpha=0.3, s=12, label="runs" if not label else None)
                values_seen.extend(py)
                drawn = True
        if not drawn:
            ax.plot([], [], " ", label="no done run has a %s" % title)
            ax.text(0.5, 0.5, "no %s in the manifest" % title, transform=ax.transAxes, ha="center", va="center")
        if outcome == "final_loss" and values_seen and min(values_seen) > 0 and max(values_seen) / min(values_seen) > 30:
            ax.set_yscale("log")  # losses of different conditions often differ by orders of magnitude
        if not numeric:
            ax.set_xticks(range(len(x_values)))
            ax.set_xticklabels(x_values)
            ax.set_xlim(-0.5, len(x_values) - 0.5)  # a category's width, also when there is only one
        ax.set_xlabel(x_key if x_key else "(only seeds were swept)")
        ax.set_ylabel(title)
        over = ("over " + ", ".join(seeds)) if seeds else "over the runs"
        ax.set_title("%s, mean ± sd %s" % (title, over), fontsize=10)
        ax.legend(fontsize=8, title=(", ".join(line_keys) + " (mean ± sd; dots: runs)") if line_keys else None,
                  title_fontsize=8)

    if overall is not None:
        c = {k: overall[col[k]] for k in ("runs", "done", "diverged", "failed", "pending", "running")}
        fig.suptitle("sweep %s: %s runs, %s done, %s diverged (not averaged), %s failed, %s pending or running" % (
            os.path.basename(os.path.normpath(folder)), c["runs"], c["done"], c["diverged"], c["failed"],
            int(c["pending"]) + int(c["running"])), fontsize=10)
    fig.tight_layout()
    out = os.path.join(folder, "summary.png")
    fig.savefig(out + ".partial", format="png", dpi=110)  # renamed: a reader never sees half a figure
    os.replace(out + ".partial", out)


if __name__ == "__main__":
    main()
