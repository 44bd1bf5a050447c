#!/usr/bin/env python3
"""The learning-rule identification study's results (examples/identify_rules.sh): reads the
eisim identify reports OUT/results/*.json and writes OUT/results.md (the tables quoted in
examples/README.md: the rate arm, the spiking arm, the rate arm under measurement realism) and
OUT/identify_curves.png (the rate arm's held-out accuracy against noise, fraction observed and time
points, per observable class).

    python3 examples/identify_report.py OUT
"""
import json
import os
import sys

CLASSES = ["weights", "activations", "activity_change"]
LABELS = ["credit", "geometry"]
# The conditions of each curve: (axis name, x values, result-name prefix per x); x = full observation first.
CURVES = [
    ("Gaussian noise S (× RMS)", [0, 0.1, 0.5, 2], lambda x: "noise_%g" % x),
    ("fraction of units observed", [1, 0.3, 0.1, 0.01], lambda x: "units_%g" % x),
    ("fraction of synapses observed (weights)", [1, 0.3, 0.1, 0.01], lambda x: "synapses_%g" % x),
    ("time points", [21, 11, 6, 3], lambda x: "time_%d" % x),
]


def load(results, name):
    path = os.path.join(results, name + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def acc(report, label, classifier):
    """(mean, sd) held-out accuracy, or None."""
    try:
        c = report["results"][label]["classifiers"][classifier]
    except (KeyError, TypeError):
        return None
    return c["accuracy_mean"], c["accuracy_sd"]


def fmt(a):
    return "n/a" if a is None or a[0] is None else "%.3f ± %.3f" % a


def curve_point(results, prefix, cls, label, full_class):
    """RF accuracy of class `cls` for `label` at one condition (full observation: the class result)."""
    if prefix is None:
        return acc(full_class.get(cls), label, "rf")
    return acc(load(results, prefix + "__" + cls), label, "rf")


def arm_table(results, prefix, lines):
    """The table of one arm of the study: its results named `prefix` + full_seed, full_task, ...
    Returns the number of runs (or "?"), the full_seed report and the reports per observable class."""
    full_seed, full_task = load(results, prefix + "full_seed"), load(results, prefix + "full_task")
    full_raw, performance = load(results, prefix + "full_seed_raw"), load(results, prefix + "performance")
    full_joint = load(results, prefix + "full_seed_joint")
    full_class = {c: load(results, prefix + "class_" + c) for c in CLASSES}
    n_runs = full_seed["results"]["credit"]["n_runs"] if full_seed else "?"
    lines.append("Runs: %s. Held-out accuracy, mean ± sd over the splits (by seed: 5 splits, a quarter of the "
                 "seeds held out; by task: leave one task out). Features: `changes` = each feature minus its value "
                 "at the run's first snapshot (`--changes`), `raw` = the trajectories as Nayebi et al. use them.\n" % n_runs)
    lines.append("| identified | hold-out | features | random forest | linear SVM | chance |")
    lines.append("|---|---|---|---|---|---|")
    rows = [(full_seed, "seed", "all, changes"), (full_joint, "seed", "all, changes"), (full_raw, "seed", "all, raw"),
            (full_task, "task", "all, changes"),
            (performance, "seed", "loss and accuracy only")]
    rows += [(full_class[c], "seed", c + ", changes") for c in CLASSES]
    for report, hold, what in rows:
        if not report:
            continue
        for label in ("credit", "geometry", "joint"):
            r = report["results"].get(label)
            if not r:
                continue
            svm = fmt(acc(report, label, "svm")) if "svm" in r["classifiers"] else ""
            lines.append("| %s | %s | %s | %s | %s | %.3f |" % (label, hold, what, fmt(acc(report, label, "rf")), svm, r["chance"]))
    # The ΔCDF geometry test needs no training: scored on the same held-out runs (by seed: the
    # splits every call above shares, --seed 0; by task: each task), and on all runs.
    for report, hold in ((full_class["weights"], "seed"), (full_task, "task")):
        gt = report["results"]["geometry"].get("geometry_test", {}) if report else {}
        if gt.get("available"):
            lines.append("| geometry | %s | ΔCDF test, first 5 steps (no training; all runs: %.3f) | | | %.3f |"
                         % (hold, gt["accuracy_all"], report["results"]["geometry"]["chance"]))
            lines[-1] = lines[-1].replace("| | |", "| ΔCDF: %s | |" % fmt((gt["accuracy_mean"], gt["accuracy_sd"])), 1)
    return n_runs, full_seed, full_class


def main(out):
    results = os.path.join(out, "results")
    lines = ["## Rate circuits: exact, feedback alignment, RFLO, node perturbation\n"]
    n_runs, full_seed, full_class = arm_table(results, "", lines)
    if load(results, "spiking_full_seed"):
        lines.append("")
        lines.append("## Spiking circuits: e-prop and surrogate-gradient BPTT\n")
        arm_table(results, "spiking_", lines)
    lines.append("")
    lines.append("Random forest (quick grid, 3 seed splits; full observation: 5), changes, under measurement realism, "
                 "per observable class:\n")
    for label in LABELS:
        lines.append("| %s | condition | weights | activations | activity_change |" % label)
        lines.append("|---|---|---|---|---|")
        for axis, xs, name in CURVES:
            for x in xs:
                prefix = None if x == xs[0] else name(x)
                cells = []
                for cls in CLASSES:
                    if axis.startswith("fraction of synapses") and cls != "weights":
                        cells.append("")
                        continue
                    a = curve_point(results, prefix, cls, label, full_class)
                    cells.append("" if a is None else "%.3f" % a[0])
                lines.append("| %s | %s = %g | %s |" % (label, axis, x, " | ".join(cells)))
        lines.append("")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no figure", file=sys.stderr)
        return 0
    fig, axes = plt.subplots(len(LABELS), len(CURVES), figsize=(4.2 * len(CURVES), 3.4 * len(LABELS)), squeeze=False)
    colours = {"weights": "tab:blue", "activations": "tab:orange", "activity_change": "tab:green"}
    for i, label in enumerate(LABELS):
        chance = full_seed["results"][label]["chance"] if full_seed else None
        for j, (axis, xs, name) in enumerate(CURVES):
            ax = axes[i][j]
            for cls in CLASSES:
                if axis.startswith("fraction of synapses") and cls != "weights":
                    continue
                pts = [(x, curve_point(results, None if x == xs[0] else name(x), cls, label, full_class)) for x in xs]
                pts = [(x, a[0]) for x, a in pts if a is not None]
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=colours[cls], label=cls)
            if chance is not None:
                ax.axhline(chance, color="grey", ls=":", lw=1, label="chance")
            if axis.startswith("Gaussian"):
                ax.set_xscale("symlog", linthresh=0.1)
                ax.set_xlim(0, 2.5)
            elif axis.startswith("fraction"):
                ax.set_xscale("log")
            if axis.startswith("fraction") or axis == "time points":
                ax.invert_xaxis()   # from full observation (left) to the least
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(axis)
            ax.set_ylabel("held-out accuracy (%s)" % label)
            ax.grid(alpha=0.3)
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.suptitle("Identifying the credit rule (top) and the geometry (bottom) of %s E/I rate circuits from their observables "
                 "(changes since the first snapshot); random forest, held out by seed" % n_runs)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False)
    fig.savefig(os.path.join(out, "identify_curves.png"), dpi=110, bbox_inches="tight")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
