#!/usr/bin/env python3
"""Tests of observe/identify.py (eisim identify) on synthetic observables tables.

    test_identify.py --identify observe/identify.py [--keep DIR]

Tables are made here, in HDF5 and in CSV, with the layout docs/identify.md gives; the classes
differ by a known shift of some features (plus unit Gaussian noise), or not at all:
  - shifted classes are identified on held-out seeds and held-out tasks with accuracy >= 0.95;
  - with labels drawn at random, independent of the features, the held-out accuracy lies within
    3 binomial standard deviations of chance (leave-one-task-out: every run is tested once, by
    a classifier that never saw it, so the number correct is binomial(n_runs, 1/C));
  - --time-points keeps the documented positions, and the features really come from them (a
    shift at one snapshot only is found when that snapshot is kept, not when it is left out);
  - the ΔCDF identifier maps 'eg', 'p=x' to the nearest geometry and its confusion matrix is the
    one computed here; the seed splits never put a seed in both train and test;
  - the JSON schema's fields, the figures, and every bad input (exit 2, one line, the run named).
Exit 0 when every check passes, 1 when one fails, 77 when numpy/h5py/sklearn cannot be imported.
"""
import argparse
import contextlib
import csv
import importlib
import importlib.util
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import h5py
    importlib.import_module("sklearn")  # identify.py needs it
except ImportError as e:
    print("skipped: cannot import %s" % e.name)
    sys.exit(77)

FEATURES = [("weights/recurrent/EE/abs/median", "weights"), ("weights/recurrent/EI/abs/mean", "weights"),
            ("weights/recurrent/IE/sq/kurtosis", "weights"), ("weights/input/EE/raw/mean", "weights"),
            ("activations/E/raw/mean", "activations"), ("activations/I/raw/sd", "activations"),
            ("activations/E/abs/median", "activations"), ("activations/I/sq/kurtosis", "activations"),
            ("activity_change/recurrent/EE/raw/mean", "activity_change"),
            ("activity_change/recurrent/EI/sq/kurtosis", "activity_change"),
            ("activity_change/recurrent/IE/abs/median", "activity_change")]
CREDITS = ["exact", "feedback_alignment", "rflo"]
GEOMETRIES = [("eg", math.nan), ("euclidean", 2.0), ("pnorm", 3.0)]

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL: " + what)
    return condition


# ---------------------------------------------------------------------------------------------
# Synthetic tables

def make_runs(rng, credits=CREDITS, geometries=GEOMETRIES, tasks=("A", "B"), seeds=range(1, 7),
              n_snapshots=5, shift=None, random_labels=False):
    """Rows of a table: one per run and snapshot. shift(run, k) -> per-feature offsets (a vector);
    the default moves one weights feature per credit rule (feature c by 2.5 sd for rule c) and
    one activations feature per geometry, at every snapshot (one-vs-rest separable, as LinearSVC
    needs: a shift that grows with the class index leaves the middle class inseparable from the
    rest by one hyperplane). random_labels: each run's
    credit and geometry drawn at random afterwards, independent of its features."""
    if shift is None:
        def shift(run, k):
            offset = np.zeros(len(FEATURES))
            offset[credits.index(run["credit"])] = 2.5
            offset[4 + geometry_index(run, geometries)] = 2.5
            return offset
    rows = []
    for task in tasks:
        for credit in credits:
            for geometry, p in geometries:
                for seed in seeds:
                    run = {"run": "%s-%s-%s%s-s%d" % (task, credit, geometry, "" if math.isnan(p) else "%g" % p, seed),
                           "credit": credit, "geometry": geometry, "p": p, "task": task, "seed": seed, "size": 100}
                    values = [rng.normal(size=len(FEATURES)) + shift(run, k) for k in range(n_snapshots)]
                    if random_labels:
                        run["credit"] = credits[rng.integers(len(credits))]
                        run["geometry"], run["p"] = geometries[rng.integers(len(geometries))]
                    for k in range(n_snapshots):
                        rows.append(dict(run, snapshot=k, step=100 * k, loss=math.exp(-0.3 * k) + 0.01 * rng.normal(),
                                         accuracy=0.5 + 0.1 * k, values=values[k]))
    return rows


def geometry_index(run, geometries):
    """Position of the run's (geometry, p) in geometries (p compared only for p-norms)."""
    return next(i for i, (g, p) in enumerate(geometries) if g == run["geometry"] and (g != "pnorm" or p == run["p"]))


def run_names(rows):
    return list(dict.fromkeys(r["run"] for r in rows))


def write_hdf5(path, rows, geometry_best=None, features=FEATURES, format_name="eisim.observables",
               format_version=1, leave_out=()):
    text = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["format"] = format_name
        f.attrs["format_version"] = np.int64(format_version)
        f.attrs["realism"] = "test"
        f.attrs["features_dropped"] = np.int64(0)

        def put(name, data, dtype=None):
            if name not in leave_out:
                f.create_dataset(name, data=data, dtype=dtype)

        put("rows/run", np.array([r["run"] for r in rows], dtype=object), text)
        for name in ("snapshot", "step"):
            put("rows/" + name, np.array([r[name] for r in rows], dtype=np.int64))
        for name in ("loss", "accuracy"):
            put("rows/" + name, np.array([r[name] for r in rows], dtype=float))
        for name in ("credit", "geometry", "task"):
            put("labels/" + name, np.array([r[name] for r in rows], dtype=object), text)
        put("labels/p", np.array([r["p"] for r in rows], dtype=float))
        for name in ("seed", "size"):
            put("labels/" + name, np.array([r[name] for r in rows], dtype=np.int64))
        put("features/values", np.array([r["values"] for r in rows], dtype=float).reshape(len(rows), len(features)))
        put("features/names", np.array([n for n, _ in features], dtype=object), text)
        put("features/measure", np.array([m for _, m in features], dtype=object), text)
        if geometry_best is not None:
            put("geometry_test/run", np.array(list(geometry_best), dtype=object), text)
            put("geometry_test/best", np.array(list(geometry_best.values()), dtype=object), text)


def write_csv(path, rows, geometry_best=None, features=FEATURES):
    def number(v):
        return "" if isinstance(v, float) and math.isnan(v) else repr(v)

    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        header = ["run", "snapshot", "step", "loss", "accuracy", "credit", "geometry", "p", "task", "seed", "size"]
        out.writerow(header + [n for n, _ in features] + (["geometry_test_best"] if geometry_best is not None else []))
        for r in rows:
            out.writerow([r["run"], r["snapshot"], r["step"], number(r["loss"]), number(r["accuracy"]), r["credit"],
                          r["geometry"], number(r["p"]), r["task"], r["seed"], r["size"]]
                         + [repr(float(v)) for v in r["values"]]
                         + ([geometry_best[r["run"]]] if geometry_best is not None else []))


# ---------------------------------------------------------------------------------------------
# Running identify

def run_identify(identify, args):
    """identify.py as the user runs it: (exit code, stdout, stderr)."""
    done = subprocess.run([sys.executable, identify] + args, capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def identify_ok(identify, args, what):
    code, out, err = run_identify(identify, args)
    if not check(code == 0, "%s: exit %d, stderr: %s" % (what, code, err.strip()[-2000:])):
        return None
    return json.load(open(args[args.index("--json") + 1]))


def accuracy_of(result, kind):
    return result["classifiers"][kind]["accuracy_mean"]


def pooled_accuracy(result, kind):
    confusion = np.array(result["classifiers"][kind]["confusion"])
    return np.trace(confusion) / confusion.sum(), int(confusion.sum())


# ---------------------------------------------------------------------------------------------
# The checks

def test_shifted_classes_hdf5(identify, work, rng):
    """Credit and geometry shifted: held out by seed, >= 0.95; the JSON's fields; the seed
    splits disjoint; the ΔCDF identifier's mapping and confusion; a figure per label."""
    rows = make_runs(rng)
    names = run_names(rows)
    run_of = {r["run"]: r for r in rows}
    # The geometry test's answers: mostly right, some wrong, some undefined, chosen per run.
    answers = {"eg": ["eg", "p=1.2", "p=1.9", "eg", ""], "euclidean": ["p=1.9", "p=2.1", "eg", "p=2.4", "p=2"],
               "pnorm": ["p=2.9", "p=2.6", "p=2.4", "p=3", ""]}
    best = {name: answers[run_of[name]["geometry"]][i % 5] for i, name in enumerate(names)}
    table = os.path.join(work, "shifted.h5")
    write_hdf5(table, rows, geometry_best=best)
    out = os.path.join(work, "shifted.json")
    figures = os.path.join(work, "figures")
    report = identify_ok(identify, [table, "--label", "credit", "--label", "geometry", "--hold-out", "seed",
                                    "--json", out, "--figures", figures, "--splits", "3", "--quick",
                                    "--features", "weights,activations"], "shifted HDF5 by seed")
    if report is None:
        return
    for key in ("schema", "schema_version", "table", "hold_out", "features", "time_points", "results", "splits"):
        check(key in report, "JSON has no '%s'" % key)
    check(report["schema"] == "eisim.identify" and report["schema_version"] == 1, "JSON schema name and version")
    check(report["hold_out"] == "seed" and report["features"] == ["weights", "activations"], "JSON hold_out, features")
    check(report["time_points"]["positions"] == [0, 1, 2, 3, 4], "all snapshots kept by default")
    for label in ("credit", "geometry"):
        result = report["results"].get(label)
        if not check(result is not None, "results for %s" % label):
            continue
        for key in ("classes", "chance", "n_runs", "n_features", "classifiers"):
            check(key in result, "results.%s has no '%s'" % (label, key))
        check(result["n_runs"] == len(names), "%s: n_runs %d, expected %d" % (label, result["n_runs"], len(names)))
        check(result["n_features"] == 8 * 5, "%s: n_features %d, expected 8 features x 5 snapshots"
              % (label, result["n_features"]))
        for kind in ("rf", "svm"):
            r = result["classifiers"].get(kind, {})
            for key in ("accuracy_mean", "accuracy_sd", "accuracies", "confusion", "best_params", "cv_score"):
                check(key in r, "results.%s.%s has no '%s'" % (label, kind, key))
            if "accuracy_mean" in r:
                check(r["accuracy_mean"] >= 0.95, "%s %s held-out accuracy %.3f < 0.95" % (label, kind, r["accuracy_mean"]))
                check(len(r["accuracies"]) == 3 and len(r["best_params"]) == 3, "%s %s: one entry per split" % (label, kind))
                check(np.array(r["confusion"]).sum() == sum(s["n_test"] for s in report["splits"]),
                      "%s %s: the confusion counts every test run of every split" % (label, kind))
        expected_classes = ["exact", "feedback_alignment", "rflo"] if label == "credit" else ["eg", "euclidean", "pnorm"]
        check(result["classes"] == expected_classes, "%s classes %s" % (label, result["classes"]))

    # Seed splits: disjoint seeds, and the test runs are exactly the runs of the test seeds.
    for split in report["splits"]:
        test_seeds, train_seeds = set(split["test_seeds"]), set(split["train_seeds"])
        check(not test_seeds & train_seeds, "%s: seeds %s both in train and test" % (split["name"], test_seeds & train_seeds))
        check(test_seeds | train_seeds == set(range(1, 7)), "%s: every seed in train or test" % split["name"])
        check(len(test_seeds) == 2, "%s: 0.25 of 6 seeds rounds to 2 held out, got %d" % (split["name"], len(test_seeds)))
        expected_test = [n for n in names if run_of[n]["seed"] in test_seeds]
        check(split["test_runs"] == expected_test, "%s: the test runs are those of the test seeds" % split["name"])
        check(split["n_train"] + split["n_test"] == len(names), "%s: n_train + n_test = n_runs" % split["name"])

    # The ΔCDF identifier, computed here: eg -> eg; p=x -> nearest of eg (as p = 1), euclidean (2) and pnorm (3).
    test = report["results"]["geometry"].get("geometry_test", {})
    expected_map = {"eg": "eg", "p=1.2": "eg", "p=1.9": "euclidean", "p=2.1": "euclidean", "p=2": "euclidean", "p=2.4": "euclidean",
                    "p=2.6": "pnorm", "p=2.9": "pnorm", "p=3": "pnorm", "": "undefined"}
    if check(test.get("available") is True, "geometry_test available in an HDF5 table"):
        check(test["mapping"] == expected_map, "ΔCDF mapping %s" % test["mapping"])
        columns = ["eg", "euclidean", "pnorm", "undefined"]
        check(test["predicted_classes"] == columns, "ΔCDF predicted classes %s" % test["predicted_classes"])
        truth = ["eg", "euclidean", "pnorm"]

        def confusion(selected):
            counts = np.zeros((3, 4), dtype=int)
            for n in selected:
                counts[truth.index(run_of[n]["geometry"]), columns.index(expected_map[best[n]])] += 1
            return counts

        every = confusion(names)
        check(test["confusion_all"] == every.tolist(), "ΔCDF confusion over all runs %s, expected %s"
              % (test["confusion_all"], every.tolist()))
        check(abs(test["accuracy_all"] - np.trace(every) / len(names)) < 1e-12, "ΔCDF accuracy over all runs")
        held_out = sum(confusion(s["test_runs"]) for s in report["splits"])
        check(test["confusion"] == held_out.tolist(), "ΔCDF confusion over the held-out runs")
        per_split = [np.trace(confusion(s["test_runs"])) / len(s["test_runs"]) for s in report["splits"]]
        check(np.allclose(test["accuracies"], per_split), "ΔCDF accuracy per split")
        check(test["n_undefined"] == sum(1 for n in names if best[n] == ""), "ΔCDF undefined count")
    check("geometry_test" not in report["results"]["credit"], "no ΔCDF identifier for the credit label")

    # Figures: one per label, PNG, not trivially small.
    check(len(report["figures"]) == 2, "two figures, got %s" % report["figures"])
    for path in report["figures"]:
        ok = os.path.isfile(path) and os.path.getsize(path) > 20000
        check(ok and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "figure %s is a non-trivial PNG" % path)


def test_shifted_classes_csv_by_task(identify, work, rng):
    """The same from CSV, two p-norms (labels p=1.5 and p=3), geometry held out by task; the
    CSV's geometry_test_best column; the features of one group only."""
    geometries = [("eg", math.nan), ("euclidean", 2.0), ("pnorm", 1.5), ("pnorm", 3.0)]
    rows = make_runs(rng, credits=["exact", "rflo"], geometries=geometries, tasks=("A", "B", "C"), seeds=range(1, 4))
    names = run_names(rows)
    run_of = {r["run"]: r for r in rows}
    best = {n: ["eg", "p=1.9", "p=1.6", "p=2.9"][geometry_index(run_of[n], geometries)] for n in names}
    table = os.path.join(work, "shifted.csv")
    write_csv(table, rows, geometry_best=best)
    out = os.path.join(work, "shifted_csv.json")
    report = identify_ok(identify, [table, "--label", "geometry", "--hold-out", "task", "--json", out,
                                    "--classifiers", "svm", "--quick", "--features", "activations"],
                         "shifted CSV by task")
    if report is None:
        return
    result = report["results"]["geometry"]
    check(result["classes"] == ["eg", "euclidean", "p=1.5", "p=3"], "several p-norms: classes %s" % result["classes"])
    svm = result["classifiers"]["svm"]
    check(sorted(svm.get("per_task", {})) == ["A", "B", "C"], "hold-out by task reports each task: %s" % svm.get("per_task"))
    check(svm["accuracy_mean"] >= 0.95, "CSV geometry by task: accuracy %.3f < 0.95" % svm["accuracy_mean"])
    check([s.get("test_task") for s in report["splits"]] == ["A", "B", "C"], "one split per task")
    check(result["n_features"] == 4 * 5, "activations only: 4 features x 5 snapshots, got %d" % result["n_features"])
    test = result["geometry_test"]
    check(test["available"] and test["mapping"] == {"eg": "eg", "p=1.6": "p=1.5", "p=1.9": "euclidean", "p=2.9": "p=3"},
          "CSV ΔCDF mapping %s" % test.get("mapping"))
    check(test.get("accuracy_all") == 1.0, "CSV ΔCDF all right")
    check(report["table_format"] == "csv", "table_format csv")


def test_random_labels(identify, work, rng):
    """Labels drawn at random: leave-one-task-out tests every run once, by classifiers trained
    without it, so its number correct is binomial(n, 1/C) whatever they learned. Bound:
    |accuracy - 1/C| <= 3 sqrt(q (1 - q) / n) with q = max(chance, 1/C), n = the runs tested."""
    rows = make_runs(rng, credits=["exact", "rflo"], tasks=("A", "B", "C", "D"), seeds=range(1, 8),
                     random_labels=True)
    table = os.path.join(work, "random.h5")
    write_hdf5(table, rows)
    out = os.path.join(work, "random.json")
    report = identify_ok(identify, [table, "--label", "credit", "--hold-out", "task", "--json", out, "--quick"],
                         "random labels")
    if report is None:
        return
    result = report["results"]["credit"]
    for kind in ("rf", "svm"):
        accuracy, n = pooled_accuracy(result, kind)
        q = max(result["chance"], 0.5)
        bound = 3 * math.sqrt(q * (1 - q) / n)
        check(n == len(run_names(rows)), "leave-one-task-out tests every run once (%d of %d)" % (n, len(run_names(rows))))
        check(abs(accuracy - 0.5) <= bound and accuracy <= result["chance"] + bound,
              "random labels, %s: accuracy %.3f over %d runs, chance %.3f, bound ±%.3f" % (kind, accuracy, n, result["chance"], bound))
        print("random labels, %s: accuracy %.3f over %d runs (chance %.3f, 3-sd bound %.3f)"
              % (kind, accuracy, n, result["chance"], bound))


def test_time_points(identify, module, work, rng):
    """The documented positions round(j (K0-1)/(K-1)), halves up; and the features used are those."""
    cases = {(21, 5): [0, 5, 10, 15, 20], (21, 4): [0, 7, 13, 20], (6, 3): [0, 3, 5], (8, 3): [0, 4, 7],
             (10, 4): [0, 3, 6, 9], (5, 5): [0, 1, 2, 3, 4], (5, 2): [0, 4], (5, 1): [4]}
    for (k0, k), expected in cases.items():
        got = module.time_point_positions(k0, k)
        check(got == expected, "time points of %d among %d: %s, expected %s" % (k, k0, got, expected))
    # A credit shift at one snapshot only: found when --time-points 3 of 6 keeps it (position 3),
    # not when the shift is at position 2, which is left out.
    for at, should_find in ((3, True), (2, False)):
        def shift(run, k, at=at):
            offset = np.zeros(len(FEATURES))
            if k == at:
                offset[:8] = 3.0 * ["exact", "rflo"].index(run["credit"])
            return offset
        rows = make_runs(rng, credits=["exact", "rflo"], geometries=[("eg", math.nan)], tasks=("A",),
                         seeds=range(1, 21), n_snapshots=6, shift=shift)
        table = os.path.join(work, "time_points_%d.h5" % at)
        write_hdf5(table, rows)
        out = os.path.join(work, "time_points_%d.json" % at)
        report = identify_ok(identify, [table, "--label", "credit", "--hold-out", "seed", "--json", out, "--time-points",
                                        "3", "--classifiers", "svm", "--quick", "--splits", "2"], "time points")
        if report is None:
            continue
        check(report["time_points"]["positions"] == [0, 3, 5] and report["time_points"]["steps"] == [0, 300, 500],
              "JSON time points %s" % report["time_points"])
        accuracy = accuracy_of(report["results"]["credit"], "svm")
        if should_find:
            check(accuracy >= 0.95, "shift at the kept snapshot 3: accuracy %.3f < 0.95" % accuracy)
        else:
            check(accuracy < 0.8, "shift at the dropped snapshot 2: accuracy %.3f, expected chance" % accuracy)


def test_performance_features(identify, work, rng):
    """--features performance: loss and accuracy per snapshot, NaN accuracy columns dropped."""
    rows = make_runs(rng, credits=["exact", "rflo"], geometries=[("eg", math.nan)], tasks=("A",), seeds=range(1, 11))
    for r in rows:
        r["loss"] += 0.5 * (r["credit"] == "rflo")
        if r["snapshot"] in (1, 3):
            r["accuracy"] = math.nan
    table = os.path.join(work, "performance.csv")
    write_csv(table, rows)
    out = os.path.join(work, "performance.json")
    report = identify_ok(identify, [table, "--label", "credit", "--hold-out", "seed", "--json", out, "--features",
                                    "performance", "--classifiers", "svm", "--quick", "--splits", "1"], "performance")
    if report is None:
        return
    check(report["dropped_columns"] == {"loss": 0, "accuracy": 2}, "dropped columns %s" % report["dropped_columns"])
    check(report["results"]["credit"]["n_features"] == 5 + 3, "loss x 5 + accuracy x 3 columns, got %d"
          % report["results"]["credit"]["n_features"])
    check(report["results"]["credit"]["classes"] == ["exact", "rflo"], "classes")
    test = report["results"]["credit"].get("geometry_test")
    check(test is None, "no ΔCDF identifier for credit")


def in_process(module, argv):
    """module.main(argv) with stderr captured: (exit code, stderr). A traceback fails the test."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = module.main(argv)
        except SystemExit as e:
            code = e.code
        except Exception as e:  # noqa: BLE001 (any exception is a failure of the test)
            return "exception %s: %s" % (type(e).__name__, e), err.getvalue()
    return code, err.getvalue()


def test_bad_input(identify, module, work, rng):
    """Every bad input: exit 2 and one line on stderr that names the problem (and the run)."""
    good = make_runs(rng, credits=["exact", "rflo"], geometries=[("eg", math.nan), ("euclidean", 2.0)],
                     tasks=("A",), seeds=range(1, 6))
    victim = run_names(good)[3]
    out = os.path.join(work, "bad.json")
    cases = []

    def table(name, rows=good, kind="h5", **options):
        path = os.path.join(work, "bad_" + name + "." + kind)
        (write_hdf5 if kind == "h5" else write_csv)(path, rows, **options)
        return path

    def changed(change):
        rows = [dict(r) for r in good]
        for r in rows:
            change(r)
        return rows

    def case(what, args, expected):
        cases.append((what, args, expected))

    base = ["--label", "credit", "--hold-out", "seed", "--json", out]
    case("missing table", [os.path.join(work, "nothing.h5")] + base, "no such file")
    with open(os.path.join(work, "text.h5"), "w") as handle:
        handle.write("run,snapshot\n")
    case("not HDF5", [os.path.join(work, "text.h5")] + base, "not an HDF5 file")
    with open(os.path.join(work, "binary.csv"), "wb") as handle:
        handle.write(b"\x89HDF\xff\xfe\x00\x00" * 10)
    case("not CSV", [os.path.join(work, "binary.csv")] + base, "not a CSV")
    with open(os.path.join(work, "columns.csv"), "w") as handle:
        handle.write("run,snapshot,step\nr,0,0\n")
    case("CSV without label columns", [os.path.join(work, "columns.csv")] + base, "no column 'loss'")
    with open(os.path.join(work, "table.txt"), "w") as handle:
        handle.write("x\n")
    case("unknown extension", [os.path.join(work, "table.txt")] + base, "unknown table type")
    case("wrong format attribute", [table("format", format_name="eisim.run")] + base, "format attribute 'eisim.run'")
    case("wrong format version", [table("version", format_version=2)] + base, "format_version 2")
    case("no credit dataset", [table("nocredit", leave_out=("labels/credit",))] + base, "/labels/credit")
    case("empty credit of a run", [table("empty", changed(lambda r: r.update(credit="") if r["run"] == victim else 0))]
         + base, "run '%s' has no credit label" % victim)
    case("empty credit of a run (CSV)",
         [table("empty", changed(lambda r: r.update(credit="") if r["run"] == victim else 0), kind="csv")]
         + base, "run '%s' has no credit label" % victim)
    case("empty seed of a run (CSV)",
         [table("noseed", changed(lambda r: r.update(seed="") if r["run"] == victim else 0), kind="csv")]
         + base, "run '%s' has no seed label" % victim)
    short = [r for r in good if r["run"] != victim or r["snapshot"] < 3]
    case("fewer snapshots", [table("short", short)] + base, "run '%s' has 3 snapshots, the others 5" % victim)
    case("fewer snapshots (CSV)", [table("short", short, kind="csv")] + base,
         "run '%s' has 3 snapshots, the others 5" % victim)
    case("labels differ between rows",
         [table("differ", changed(lambda r: r.update(credit="rflo") if r["run"] == victim and r["snapshot"] == 2 else 0))]
         + base, "run '%s' has credit labels that differ" % victim)
    case("one class", [table("oneclass", changed(lambda r: r.update(credit="exact")))] + base, "one class only ('exact')")
    names = run_names(good)[:3]
    case("class too small", [table("small", changed(lambda r: r.update(credit="eprop") if r["run"] in names else 0))]
         + base, "class 'eprop' has 3 runs, fewer than the 5")
    good_table = table("good")
    case("time points beyond the snapshots", [good_table] + base + ["--time-points", "6"], "--time-points 6")
    case("unknown feature group", [good_table] + base + ["--features", "weights,spikes"], "unknown feature group 'spikes'")
    case("unknown classifier", [good_table] + base + ["--classifiers", "rf,knn"], "unknown classifier 'knn'")
    case("unknown label", [good_table, "--label", "rule", "--hold-out", "seed", "--json", out], "--label")
    case("no hold-out", [good_table, "--label", "credit", "--json", out], "--hold-out")
    case("JSON is the table", [good_table, "--label", "credit", "--hold-out", "seed", "--json", good_table], "the table itself")
    case("one task", [good_table, "--label", "credit", "--hold-out", "task", "--json", out], "at least 2 tasks")
    case("one seed", [table("oneseed", changed(lambda r: r.update(seed=1)))] + base[:-2] + ["--json", out, "--label", "geometry"],
         "at least 2 seeds")
    case("non-finite feature",
         [table("nan", changed(lambda r: r.update(values=r["values"] * math.nan) if r["run"] == victim else 0))] + base,
         "run '%s' has a non-finite value" % victim)
    bad_best = {n: ("p=two" if n == victim else "eg") for n in run_names(good)}
    case("bad geometry test result", [table("best", geometry_best=bad_best), "--label", "geometry", "--hold-out", "seed",
                                      "--json", out], "run '%s' has geometry test result 'p=two'" % victim)
    case("pnorm without p",
         [table("nop", changed(lambda r: r.update(geometry="pnorm") if r["geometry"] == "euclidean" and r["run"] != victim
                               else (r.update(geometry="pnorm", p=math.nan) if r["run"] == victim else 0)))]
         + ["--label", "geometry", "--hold-out", "seed", "--json", out], "run '%s' has geometry pnorm but no p" % victim)
    case("bad test fraction", [good_table] + base + ["--test-fraction", "1.5"], "--test-fraction")

    for what, args, expected in cases:
        code, err = in_process(module, args)
        lines = err.strip().splitlines()
        check(code == 2, "%s: exit %s, expected 2 (stderr: %s)" % (what, code, err.strip()))
        check(len(lines) == 1 and expected in err, "%s: stderr %r should be one line containing %r" % (what, err, expected))
        check(not os.path.exists(out), "%s: no JSON written" % what)
    # And as a process: the exit code and the one line reach the caller, without a traceback.
    for what, args, expected in cases[:1] + [c for c in cases if c[0] in ("fewer snapshots", "unknown label")]:
        code, _, err = run_identify(identify, args)
        check(code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1 and expected in err,
              "%s as a process: exit %d, stderr %r" % (what, code, err))
    print("%d bad inputs refused" % len(cases))


def test_changes(identify, module, work, rng):
    """--changes: each feature minus the run's first kept snapshot (left out). Runs that start at
    their own large random offset (as networks of different seeds do) and whose credit rule moves
    one feature over learning: found from the changes, not from the raw values, held out by seed."""
    def shift(run, k):
        offset = np.zeros(len(FEATURES))
        offset[0] = 1.5 * k * ["exact", "rflo"].index(run["credit"])
        return offset
    rows = make_runs(rng, credits=["exact", "rflo"], geometries=[("eg", math.nan)], tasks=("A",),
                     seeds=range(1, 21), n_snapshots=4, shift=shift)
    start = {}
    for r in rows:   # a per-run starting point 20 sd wide, the same at every snapshot
        start.setdefault(r["run"], 20.0 * rng.normal(size=len(FEATURES)))
        r["values"] = r["values"] + start[r["run"]]
    table = os.path.join(work, "changes.h5")
    write_hdf5(table, rows)
    # The matrix itself: values at snapshots 1..3 minus snapshot 0, per run, in snapshot order.
    loaded = module.read_table(table)
    runs = module.group_runs(loaded)
    got = module.feature_matrix(loaded, runs, ["weights"], [0, 1, 2, 3], changes=True)
    by_run = {}
    for r in rows:
        by_run.setdefault(r["run"], {})[r["snapshot"]] = np.asarray(r["values"][:4])
    want = np.array([np.concatenate([by_run[name][k] - by_run[name][0] for k in (1, 2, 3)]) for name in runs.names])
    check(got.values.shape == want.shape and np.allclose(got.values, want, rtol=1e-12, atol=1e-12),
          "--changes feature matrix differs from x(t) - x(0)")
    accuracy = {}
    for changes in (False, True):
        out = os.path.join(work, "changes_%d.json" % changes)
        report = identify_ok(identify, [table, "--label", "credit", "--hold-out", "seed", "--json", out, "--features",
                                        "weights", "--classifiers", "svm", "--quick", "--splits", "2"]
                             + (["--changes"] if changes else []), "changes")
        if report is None:
            return
        accuracy[changes] = accuracy_of(report["results"]["credit"], "svm")
        check(report["changes"] == changes, "JSON changes flag")
        check(report["time_points"]["count"] == 4, "time points reported")
    check(accuracy[True] >= 0.95, "--changes: accuracy %.3f < 0.95" % accuracy[True])
    check(accuracy[False] < accuracy[True], "raw values (offsets 20 sd wide) should do worse: %.3f" % accuracy[False])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identify", required=True, help="path of observe/identify.py")
    parser.add_argument("--keep", help="write the tables and reports here (kept) instead of a temporary directory")
    args = parser.parse_args()
    identify = os.path.abspath(args.identify)
    spec = importlib.util.spec_from_file_location("identify", identify)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    with tempfile.TemporaryDirectory(prefix="eisim-identify-") as temporary:
        work = args.keep or temporary
        os.makedirs(work, exist_ok=True)
        for test in (test_bad_input, test_time_points, test_shifted_classes_hdf5, test_shifted_classes_csv_by_task,
                     test_random_labels, test_performance_features, test_changes):
            started = time.time()
            rng = np.random.default_rng(12345)
            with_module = test in (test_bad_input, test_time_points, test_changes)
            arguments = (identify, module, work, rng) if with_module else (identify, work, rng)
            test(*arguments)
            print("%s: %.1f s" % (test.__name__, time.time() - started))
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all identify checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
