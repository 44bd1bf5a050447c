#!/usr/bin/env python3
"""eisim identify: which learning rule trained a network, told from its observables.

    identify.py TABLE --label credit|geometry|joint [--label ...] --hold-out seed|task --json OUT.json
                [--figures DIR] [--features GROUPS] [--classifiers rf,svm] [--splits N]
                [--test-fraction F] [--seed S] [--time-points K] [--quick]

`eisim identify` runs this script with its own arguments. TABLE is the observables table that
`eisim observe` writes (HDF5 .h5 or CSV .csv): one row per run and kept snapshot, with aggregate
statistics of the weights, activations and activity changes. As in Nayebi et al. (NeurIPS 2020,
"Identifying learning rules from neural network observables"), each run becomes one vector, its
selected features concatenated over its snapshots in order, and classifiers (a random forest and
a linear SVM, hyperparameters by 5-fold cross-validation on the training runs) are trained to
name the run's learning rule (credit assignment, geometry, or both) and scored on held-out seeds
or held-out tasks. For the geometry, the per-run ΔCDF geometry test of the table is scored beside
them. Writes a JSON report (docs/identify.md gives its fields) and, with --figures, one PNG of
confusion matrices per label.

Exit codes: 0 done; 2 bad input (one line on stderr naming the problem, and the run to blame
where there is one); 3 numpy, scikit-learn, h5py or matplotlib cannot be imported.
"""
import argparse
import collections
import csv
import dataclasses
import json
import math
import os
import re
import sys
import warnings

try:
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC
except ImportError as e:  # the caller turns exit code 3 into a clear message
    sys.stderr.write("eisim identify: cannot import %s\n" % e.name)
    sys.exit(3)

TABLE_FORMAT = "eisim.observables"
TABLE_FORMAT_VERSION = 1
SCHEMA = "eisim.identify"
SCHEMA_VERSION = 1

LABELS = ("credit", "geometry", "joint")
HOLD_OUTS = ("seed", "task")
MEASURES = ("weights", "activations", "activity_change")
PERFORMANCE = "performance"
PERFORMANCE_COLUMNS = ("loss", "accuracy")
FEATURE_GROUPS = ("all",) + MEASURES + (PERFORMANCE,)
CLASSIFIERS = ("rf", "svm")
LABEL_COLUMNS = ("credit", "geometry", "task", "p", "seed", "size")
STRING_LABELS = ("credit", "geometry", "task")
CSV_ROW_COLUMNS = ("run", "snapshot", "step", "loss", "accuracy")
CSV_GEOMETRY_TEST = "geometry_test_best"
UNDEFINED = "undefined"          # the ΔCDF identifier's answer where the test had none

CV_FOLDS = 5
RF_GRID = {"max_features": ["sqrt", "log2"], "n_estimators": [100, 300]}
RF_GRID_QUICK = {"max_features": ["sqrt", "log2"], "n_estimators": [100]}
SVM_GRID = {"C": [1e-4, 1e-3, 1e-2, 1e-1]}
SVM_GRID_QUICK = {"C": [1e-4, 1e-3]}
SVM_MAX_ITER = 5000


class UserError(Exception):
    """A problem with the input or the arguments: exit code 2, the message on one line."""


# ---------------------------------------------------------------------------------------------
# The observables table, read from HDF5 or CSV into one structure

@dataclasses.dataclass
class ObservablesTable:
    path: str
    kind: str                      # "hdf5" or "csv"
    attrs: dict                    # realism, features_dropped (None where the table has none)
    run: list                      # [R] run name of each row
    snapshot: np.ndarray           # [R] int, position among the run's kept snapshots
    step: np.ndarray               # [R] int, learning step of the snapshot
    loss: np.ndarray               # [R] float
    accuracy: np.ndarray           # [R] float, NaN where undefined
    labels: dict                   # credit, geometry, task: [R] str; p: [R] float; seed, size: [R] int or None
    values: np.ndarray             # [R, F] float
    feature_names: list            # [F]
    feature_measures: list         # [F]
    geometry_test: dict = None     # run -> best candidate ("eg", "p=1.1", ..., ""); None: not in the table


def read_table(path):
    """The observables table at path, .h5 (HDF5) or .csv by its extension."""
    if not os.path.exists(path):
        raise UserError("%s: no such file" % path)
    if not os.path.isfile(path):
        raise UserError("%s: not a file" % path)
    extension = os.path.splitext(path)[1].lower()
    if extension in (".h5", ".hdf5"):
        return read_hdf5_table(path)
    if extension == ".csv":
        return read_csv_table(path)
    raise UserError("%s: unknown table type '%s' (expected .h5 or .csv)" % (path, extension))


def as_text(value):
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.size == 1:
        return as_text(value.reshape(-1)[0])
    return str(value)


def read_hdf5_table(path):
    try:
        import h5py
    except ImportError:
        sys.stderr.write("eisim identify: cannot import h5py\n")
        sys.exit(3)
    if not h5py.is_hdf5(path):
        raise UserError("%s: not an HDF5 file" % path)
    try:
        with h5py.File(path, "r") as f:
            return hdf5_contents(f, path)
    except OSError as e:
        raise UserError("%s: cannot read: %s" % (path, e))


def hdf5_contents(f, path):
    if "format" not in f.attrs or as_text(f.attrs["format"]) != TABLE_FORMAT:
        found = as_text(f.attrs["format"]) if "format" in f.attrs else "none"
        raise UserError("%s: not an eisim observables table (format attribute '%s', expected '%s')"
                        % (path, found, TABLE_FORMAT))
    version = f.attrs.get("format_version")
    try:
        version = int(np.asarray(version).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        version = None
    if version != TABLE_FORMAT_VERSION:
        raise UserError("%s: observables format_version %s, this identify reads %d"
                        % (path, version, TABLE_FORMAT_VERSION))

    def dataset(name):
        if name not in f or not hasattr(f[name], "shape"):
            raise UserError("%s: no dataset /%s" % (path, name))
        return f[name]

    def strings(name):
        return [as_text(v) for v in np.asarray(dataset(name)[()]).reshape(-1)]

    def numbers(name, dtype):
        try:
            return np.asarray(dataset(name)[()], dtype=dtype).reshape(-1)
        except (TypeError, ValueError):
            raise UserError("%s: /%s is not numeric" % (path, name))

    run = strings("rows/run")
    n_rows = len(run)
    labels = {name: strings("labels/" + name) for name in STRING_LABELS}
    labels["p"] = numbers("labels/p", float)
    labels["seed"] = [int(v) for v in numbers("labels/seed", np.int64)]
    labels["size"] = [int(v) for v in numbers("labels/size", np.int64)]
    values = np.asarray(dataset("features/values")[()], dtype=float)
    if values.ndim == 1 and values.size == 0:
        values = values.reshape(n_rows, 0)
    table = ObservablesTable(
        path=path, kind="hdf5",
        attrs={"realism": as_text(f.attrs["realism"]) if "realism" in f.attrs else None,
               "features_dropped": int(np.asarray(f.attrs["features_dropped"]).reshape(-1)[0])
               if "features_dropped" in f.attrs else None},
        run=run, snapshot=numbers("rows/snapshot", np.int64), step=numbers("rows/step", np.int64),
        loss=numbers("rows/loss", float), accuracy=numbers("rows/accuracy", float), labels=labels,
        values=values, feature_names=strings("features/names"), feature_measures=strings("features/measure"))
    if "geometry_test" in f:
        test_runs, best = strings("geometry_test/run"), strings("geometry_test/best")
        if len(test_runs) != len(best):
            raise UserError("%s: /geometry_test/run has %d entries, /geometry_test/best %d"
                            % (path, len(test_runs), len(best)))
        table.geometry_test = geometry_test_by_run(path, zip(test_runs, best))
    check_table_shapes(table)
    return table


def geometry_test_by_run(path, pairs):
    by_run = {}
    for name, best in pairs:
        if name in by_run and by_run[name] != best:
            raise UserError("%s: run '%s' has two geometry test results ('%s', '%s')"
                            % (path, name, by_run[name], best))
        by_run[name] = best
    return by_run


def check_table_shapes(table):
    n_rows = len(table.run)
    columns = {"rows/snapshot": table.snapshot, "rows/step": table.step, "rows/loss": table.loss,
               "rows/accuracy": table.accuracy}
    columns.update({"labels/" + name: table.labels[name] for name in LABEL_COLUMNS})
    for name, column in columns.items():
        if len(column) != n_rows:
            raise UserError("%s: /%s has %d rows, /rows/run %d" % (table.path, name, len(column), n_rows))
    if table.values.ndim != 2 or table.values.shape[0] != n_rows:
        raise UserError("%s: /features/values has shape %s, expected (%d, F)"
                        % (table.path, table.values.shape, n_rows))
    n_features = table.values.shape[1]
    if len(table.feature_names) != n_features or len(table.feature_measures) != n_features:
        raise UserError("%s: %d feature columns, %d names and %d measures"
                        % (table.path, n_features, len(table.feature_names), len(table.feature_measures)))
    if n_rows == 0:
        raise UserError("%s: the table has no rows" % table.path)
    for i, name in enumerate(table.run):
        if name == "":
            raise UserError("%s: row %d has no run name" % (table.path, i))


def read_csv_table(path):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError("%s: not a CSV text file (%s)" % (path, e))
    except OSError as e:
        raise UserError("%s: cannot read: %s" % (path, e))
    if not lines:
        raise UserError("%s: empty CSV file" % path)
    header = lines[0]
    for name in CSV_ROW_COLUMNS + LABEL_COLUMNS:
        if name not in header:
            raise UserError("%s: not an eisim observables CSV (no column '%s')" % (path, name))
    duplicates = [name for name, count in collections.Counter(header).items() if count > 1]
    if duplicates:
        raise UserError("%s: column '%s' appears twice" % (path, duplicates[0]))
    column = {name: i for i, name in enumerate(header)}
    fixed = set(CSV_ROW_COLUMNS + LABEL_COLUMNS + (CSV_GEOMETRY_TEST,))
    feature_columns = [i for i, name in enumerate(header) if name not in fixed]
    rows = lines[1:]
    while rows and rows[-1] == []:
        rows.pop()

    def number(row, line, name, kind):
        text = row[column[name]].strip()
        if text == "" and kind is not int:
            return math.nan
        if text == "":
            return None
        try:
            return int(text) if kind is int else float(text)
        except ValueError:
            raise UserError("%s line %d: run '%s' has %s '%s', not %s"
                            % (path, line, row[column["run"]], name, text,
                               "an integer" if kind is int else "a number"))

    run, snapshot, step, loss, accuracy, values, best = [], [], [], [], [], [], []
    labels = {name: [] for name in LABEL_COLUMNS}
    for offset, row in enumerate(rows):
        line = offset + 2
        if len(row) != len(header):
            raise UserError("%s line %d: %d fields, the header %d" % (path, line, len(row), len(header)))
        name = row[column["run"]]
        if name == "":
            raise UserError("%s line %d: no run name" % (path, line))
        run.append(name)
        position = number(row, line, "snapshot", int)
        if position is None:
            raise UserError("%s line %d: run '%s' has no snapshot position" % (path, line, name))
        snapshot.append(position)
        step.append(number(row, line, "step", int) or 0)
        loss.append(number(row, line, "loss", float))
        accuracy.append(number(row, line, "accuracy", float))
        for label in STRING_LABELS:
            labels[label].append(row[column[label]].strip())
        labels["p"].append(number(row, line, "p", float))
        labels["seed"].append(number(row, line, "seed", int))
        labels["size"].append(number(row, line, "size", int))
        values.append([number(row, line, header[i], float) for i in feature_columns])
        if CSV_GEOMETRY_TEST in column:
            best.append((name, row[column[CSV_GEOMETRY_TEST]].strip()))
    names = [header[i] for i in feature_columns]
    table = ObservablesTable(
        path=path, kind="csv", attrs={"realism": None, "features_dropped": None}, run=run,
        snapshot=np.array(snapshot, dtype=np.int64), step=np.array(step, dtype=np.int64),
        loss=np.array(loss, dtype=float), accuracy=np.array(accuracy, dtype=float),
        labels=dict(labels, p=np.array(labels["p"], dtype=float)),
        values=np.array(values, dtype=float).reshape(len(rows), len(names)),
        feature_names=names, feature_measures=[name.split("/")[0] for name in names])
    if CSV_GEOMETRY_TEST in column:
        table.geometry_test = geometry_test_by_run(path, best)
    check_table_shapes(table)
    return table


# ---------------------------------------------------------------------------------------------
# Runs: the table's rows grouped by run, in snapshot order, with one set of labels each

@dataclasses.dataclass
class Runs:
    names: list              # [n_runs], in the order of their first row
    rows: np.ndarray         # [n_runs, K0] row index of each run's snapshot 0..K0-1
    labels: dict             # column -> [n_runs] value (credit, geometry, task, p, seed, size)


def same_value(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def group_runs(table):
    rows_of = collections.OrderedDict()
    for i, name in enumerate(table.run):
        rows_of.setdefault(name, []).append(i)
    counts = collections.Counter(len(rows) for rows in rows_of.values())
    first_count = len(next(iter(rows_of.values())))
    n_snapshots = max(counts, key=lambda n: (counts[n], n == first_count))
    ordered = []
    for name, rows in rows_of.items():
        if len(rows) != n_snapshots:
            raise UserError("run '%s' has %d snapshots, the others %d" % (name, len(rows), n_snapshots))
        rows = sorted(rows, key=lambda i: table.snapshot[i])
        positions = [int(table.snapshot[i]) for i in rows]
        if positions != list(range(n_snapshots)):
            raise UserError("run '%s' has snapshot positions %s, expected 0..%d each once"
                            % (name, shorten(positions), n_snapshots - 1))
        ordered.append(rows)
    labels = {}
    for column in LABEL_COLUMNS:
        per_row = table.labels[column]
        per_run = []
        for name, rows in zip(rows_of, ordered):
            values = [per_row[i].item() if isinstance(per_row[i], np.generic) else per_row[i] for i in rows]
            for v in values[1:]:
                if not same_value(v, values[0]):
                    raise UserError("run '%s' has %s labels that differ between its rows ('%s', '%s')"
                                    % (name, column, values[0], v))
            per_run.append(values[0])
        labels[column] = per_run
    return Runs(names=list(rows_of), rows=np.array(ordered, dtype=np.int64), labels=labels)


def shorten(values, limit=8):
    text = ", ".join(str(v) for v in values[:limit])
    return "[" + text + (", ...]" if len(values) > limit else "]")


def require_labels(runs, column):
    """Every run's value of a label column, refusing a run that has none."""
    values = runs.labels[column]
    for name, value in zip(runs.names, values):
        if value is None or value == "" or (column == "p" and math.isnan(value)):
            raise UserError("run '%s' has no %s label" % (name, column))
    return values


def format_p(p):
    return "p=%g" % p


def geometry_classes(runs):
    """Each run's geometry class ("pnorm", or "p=<p>" when the table has several p-norms) and
    the p of each non-EG class (euclidean 2, a p-norm its p; None where unknown)."""
    geometry = require_labels(runs, "geometry")
    p_values = runs.labels["p"]
    pnorm_ps = set()
    for name, g, p in zip(runs.names, geometry, p_values):
        if g == "pnorm":
            if math.isnan(p):
                raise UserError("run '%s' has geometry pnorm but no p label" % name)
            pnorm_ps.add(p)
    several = len(pnorm_ps) > 1
    classes = [format_p(p) if g == "pnorm" and several else g for g, p in zip(geometry, p_values)]
    class_p = {}
    for c, g, p in zip(classes, geometry, p_values):
        if g == "eg":
            class_p[c] = None
        elif g == "euclidean":
            class_p[c] = 2.0
        elif c not in class_p:
            class_p[c] = None if math.isnan(p) else p
        elif class_p[c] is not None and not same_value(class_p[c], p):
            class_p[c] = None   # a geometry of no single p is no candidate of the ΔCDF test
    return classes, class_p


def run_labels(runs, label):
    if label == "credit":
        return list(require_labels(runs, "credit"))
    geometry = geometry_classes(runs)[0]
    if label == "geometry":
        return geometry
    return [c + "/" + g for c, g in zip(require_labels(runs, "credit"), geometry)]


def natural_key(text):
    """Sort key that orders p=1.5 before p=10 (numbers compared as numbers)."""
    parts = re.split(r"(\d+(?:\.\d+)?)", text)
    return [(0, float(part), "") if i % 2 else (1, 0.0, part) for i, part in enumerate(parts)]


def class_names(labels, label):
    classes = sorted(set(labels), key=natural_key)
    if len(classes) < 2:
        raise UserError("label %s: the table has one class only ('%s'); need at least 2" % (label, classes[0]))
    counts = collections.Counter(labels)
    for c in classes:
        if counts[c] < CV_FOLDS:
            raise UserError("label %s: class '%s' has %d runs, fewer than the %d cross-validation folds"
                            % (label, c, counts[c], CV_FOLDS))
    return classes


# ---------------------------------------------------------------------------------------------
# The per-run feature vector

def time_point_positions(n_snapshots, count):
    """count evenly spaced positions among 0..n_snapshots-1: round(j (K0-1)/(K-1)), halves up;
    the first and the last are kept. count None: all; count 1: the last."""
    if count is None:
        return list(range(n_snapshots))
    if count < 1:
        raise UserError("--time-points %d: need at least 1" % count)
    if count > n_snapshots:
        raise UserError("--time-points %d is more than the %d snapshots of each run" % (count, n_snapshots))
    if count == 1:
        return [n_snapshots - 1]
    return [(2 * j * (n_snapshots - 1) + (count - 1)) // (2 * (count - 1)) for j in range(count)]


def parse_choices(text, allowed, what):
    """The comma list `text` of names from `allowed`, in order, each once."""
    chosen = []
    for name in text.split(","):
        name = name.strip()
        if name not in allowed:
            raise UserError("unknown %s '%s' (expected %s)" % (what, name, ", ".join(allowed)))
        if name not in chosen:
            chosen.append(name)
    return chosen


def parse_feature_groups(text):
    return parse_choices(text, FEATURE_GROUPS, "feature group")


def parse_classifiers(text):
    return parse_choices(text, CLASSIFIERS, "classifier")


@dataclasses.dataclass
class FeatureMatrix:
    values: np.ndarray       # [n_runs, n_columns]
    names: list              # [n_columns] "<feature>@<snapshot position>"
    per_snapshot: list       # the selected feature names of one snapshot
    dropped: dict            # performance columns dropped for non-finite values, by kind


def feature_matrix(table, runs, groups, positions, changes=False):
    """Per run, the selected features of each kept snapshot, concatenated in snapshot order. With
    `changes`, each observable feature is taken minus its value at the run's first kept snapshot,
    which is then left out (the performance columns stay as they are)."""
    measures = MEASURES if "all" in groups else [g for g in groups if g in MEASURES]
    columns = [i for i, m in enumerate(table.feature_measures)
               if ("all" in groups or m in measures)]
    for g in groups:
        if g in MEASURES and not any(m == g for m in table.feature_measures):
            raise UserError("%s: the table has no %s features" % (table.path, g))
    if "all" in groups and not columns:
        raise UserError("%s: the table has no features" % table.path)
    performance = PERFORMANCE in groups
    names = [table.feature_names[i] for i in columns] + (list(PERFORMANCE_COLUMNS) if performance else [])
    rows = runs.rows[:, positions]                                   # [n_runs, K]
    blocks = [table.values[:, columns][rows]]                        # [n_runs, K, F]
    if performance:
        blocks.append(np.stack([table.loss[rows], table.accuracy[rows]], axis=-1))
    cube = np.concatenate(blocks, axis=-1)                           # [n_runs, K, F + 2]
    n_measured = len(columns)
    bad = ~np.isfinite(cube[:, :, :n_measured])
    if bad.any():
        r, k, j = (int(v[0]) for v in np.nonzero(bad))
        raise UserError("run '%s' has a non-finite value of feature '%s' at snapshot %d"
                        % (runs.names[r], names[j], positions[k]))
    if changes:
        if len(positions) < 2:
            raise UserError("--changes needs at least 2 time points (the first is the baseline)")
        cube = cube.copy()
        cube[:, :, :n_measured] -= cube[:, :1, :n_measured]
        cube = cube[:, 1:, :]
        positions = positions[1:]
    values = cube.reshape(len(runs.names), -1)
    column_names = ["%s@%d" % (name, k) for k in positions for name in names]
    keep = np.isfinite(values).all(axis=0)
    dropped = {kind: 0 for kind in PERFORMANCE_COLUMNS}
    if performance:
        for kind in PERFORMANCE_COLUMNS:
            dropped[kind] = int(sum(1 for name, kept in zip(column_names, keep)
                                    if not kept and name.split("@")[0] == kind))
    values = values[:, keep]
    column_names = [name for name, kept in zip(column_names, keep) if kept]
    if values.shape[1] == 0:
        raise UserError("%s: no finite features left in %s" % (table.path, ",".join(groups)))
    return FeatureMatrix(values=values, names=column_names, per_snapshot=names, dropped=dropped)


# ---------------------------------------------------------------------------------------------
# Hold-out splits

@dataclasses.dataclass
class Split:
    name: str
    train: np.ndarray        # run indices
    test: np.ndarray
    record: dict             # what the JSON says of it


def seed_splits(runs, n_splits, test_fraction, seed):
    """n_splits random splits, each holding out a fraction of the distinct seeds (at least one,
    and at least one left to train on): test = every run of those seeds, train = the rest."""
    seeds_of_runs = np.array(require_labels(runs, "seed"), dtype=np.int64)
    seeds = sorted(set(seeds_of_runs.tolist()))
    if len(seeds) < 2:
        raise UserError("hold-out by seed needs at least 2 seeds; the table has 1 (%d)" % seeds[0])
    n_test = min(max(1, int(math.floor(test_fraction * len(seeds) + 0.5))), len(seeds) - 1)
    rng = np.random.default_rng(seed)
    splits = []
    for s in range(n_splits):
        test_seeds = sorted(int(v) for v in rng.choice(seeds, size=n_test, replace=False))
        is_test = np.isin(seeds_of_runs, test_seeds)
        test, train = np.nonzero(is_test)[0], np.nonzero(~is_test)[0]
        splits.append(Split(name="split %d" % (s + 1), train=train, test=test, record={
            "name": "split %d" % (s + 1),
            "test_seeds": test_seeds,
            "train_seeds": sorted(set(seeds_of_runs[train].tolist())),
            "n_train": int(len(train)), "n_test": int(len(test)),
            "test_runs": [runs.names[i] for i in test]}))
    return splits


def task_splits(runs):
    """Leave one task out: for each task, train on the runs of the others, test on its runs."""
    tasks_of_runs = np.array(require_labels(runs, "task"), dtype=object)
    tasks = sorted(set(tasks_of_runs.tolist()), key=natural_key)
    if len(tasks) < 2:
        raise UserError("hold-out by task needs at least 2 tasks; the table has 1 ('%s')" % tasks[0])
    splits = []
    for task in tasks:
        is_test = tasks_of_runs == task
        test, train = np.nonzero(is_test)[0], np.nonzero(~is_test)[0]
        splits.append(Split(name="task %s" % task, train=train, test=test, record={
            "name": "task %s" % task, "test_task": task,
            "train_tasks": [t for t in tasks if t != task],
            "n_train": int(len(train)), "n_test": int(len(test)),
            "test_runs": [runs.names[i] for i in test]}))
    return splits


# ---------------------------------------------------------------------------------------------
# Classifiers

def make_search(kind, n_train_runs, n_columns, quick, seed):
    """Pipeline(StandardScaler, classifier) under GridSearchCV, 5-fold stratified, seeded."""
    if kind == "rf":
        model = RandomForestClassifier(random_state=seed, n_jobs=1)
        grid = RF_GRID_QUICK if quick else RF_GRID
    else:
        # The dual problem where there are more features than runs (liblinear's advice).
        model = LinearSVC(dual=n_columns > n_train_runs, max_iter=SVM_MAX_ITER, random_state=seed)
        grid = SVM_GRID_QUICK if quick else SVM_GRID
    pipeline = Pipeline([("scale", StandardScaler()), (kind, model)])
    return GridSearchCV(pipeline, {kind + "__" + key: values for key, values in grid.items()},
                        cv=StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed),
                        scoring="accuracy", n_jobs=1, refit=True)


def fit_and_predict(kind, x_train, y_train, x_test, quick, seed):
    search = make_search(kind, x_train.shape[0], x_train.shape[1], quick, seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(x_train, y_train)
        predicted = search.predict(x_test)
    convergence = sum(1 for w in caught if issubclass(w.category, ConvergenceWarning))
    others = sorted(set(str(w.message).splitlines()[0] for w in caught
                        if not issubclass(w.category, ConvergenceWarning)))
    best_params = {key.split("__", 1)[1]: value for key, value in search.best_params_.items()}
    return predicted, best_params, float(search.best_score_), convergence, others


def confusion_matrix(true, predicted, row_classes, column_classes):
    row = {c: i for i, c in enumerate(row_classes)}
    column = {c: i for i, c in enumerate(column_classes)}
    counts = np.zeros((len(row_classes), len(column_classes)), dtype=np.int64)
    for t, p in zip(true, predicted):
        counts[row[t], column[p]] += 1
    return counts


def mean_and_sd(values):
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else math.nan
    return mean, sd


def training_notes(labels, classes, splits, label):
    """Per split, the classes absent from its training runs and those too few for 5 folds."""
    absent, notes = [], []
    for split in splits:
        counts = collections.Counter(labels[i] for i in split.train)
        present = [c for c in classes if counts[c] > 0]
        if len(present) < 2:
            raise UserError("label %s, %s: every training run has class '%s'; need at least 2 classes"
                            % (label, split.name, present[0]))
        if max(counts.values()) < CV_FOLDS:
            raise UserError("label %s, %s: no class has %d training runs for the cross-validation"
                            % (label, split.name, CV_FOLDS))
        missing = [c for c in classes if counts[c] == 0]
        absent.append(missing)
        for c in missing:
            notes.append("%s: class '%s' is absent from the training runs" % (split.name, c))
        for c in present:
            if counts[c] < CV_FOLDS:
                notes.append("%s: class '%s' has %d training runs, fewer than the %d folds"
                             % (split.name, c, counts[c], CV_FOLDS))
    return absent, notes


def classify(kind, features, labels, classes, splits, quick, seed):
    accuracies, confusion, best_params, cv_scores, convergence, others = [], None, [], [], [], set()
    y = np.array(labels, dtype=object)
    for split in splits:
        predicted, params, cv_score, n_unconverged, messages = fit_and_predict(
            kind, features.values[split.train], y[split.train].astype(str),
            features.values[split.test], quick, seed)
        true = y[split.test]
        accuracies.append(float(np.mean(predicted == true.astype(str))))
        counts = confusion_matrix(true, predicted, classes, classes)
        confusion = counts if confusion is None else confusion + counts
        best_params.append(params)
        cv_scores.append(cv_score)
        convergence.append(n_unconverged)
        others.update(messages)
    mean, sd = mean_and_sd(accuracies)
    result = {"accuracy_mean": mean, "accuracy_sd": sd, "accuracies": accuracies,
              "confusion": confusion.tolist(), "best_params": best_params, "cv_score": cv_scores,
              "cv_score_mean": mean_and_sd(cv_scores)[0]}
    if kind == "svm":
        result["convergence_warnings"] = convergence
    if others:
        result["warnings"] = sorted(others)
    return result


# ---------------------------------------------------------------------------------------------
# The ΔCDF identifier: the table's per-run geometry test, scored as one more classifier

def identified_geometry(best, run, class_p, classes):
    """The geometry class the ΔCDF test's best candidate names: "eg" is EG; "p=x" the class of
    nearest p, EG counting as p = 1 (the p-norm dual sign(w)|w|^(p−1) tends to EG's ln|w| as
    p → 1, so a best p = 1.1 names EG more than GD); ties: the first in class order; "" undefined."""
    if best == "":
        return UNDEFINED
    if best == "eg":
        return "eg"
    match = re.fullmatch(r"p=([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)", best)
    if not match:
        raise UserError("run '%s' has geometry test result '%s', neither 'eg' nor 'p=<number>'" % (run, best))
    p = float(match.group(1))
    class_p = dict(class_p)
    if "eg" in classes:
        class_p["eg"] = 1.0
    candidates = [c for c in classes if class_p.get(c) is not None]
    if not candidates:
        return UNDEFINED
    return min(candidates, key=lambda c: (abs(class_p[c] - p), classes.index(c)))


def delta_cdf_answers(table, runs, classes):
    """Per run, the table's geometry test result and the class it names; None where the table
    has no geometry test (the reason then)."""
    if table.geometry_test is None:
        return None, ("the CSV table has no %s column" % CSV_GEOMETRY_TEST if table.kind == "csv"
                      else "the table has no /geometry_test")
    class_p = geometry_classes(runs)[1]
    best = [table.geometry_test.get(name, "") for name in runs.names]
    identified = [identified_geometry(b, name, class_p, classes) for b, name in zip(best, runs.names)]
    return (best, identified), None


def score_delta_cdf(answers, reason, labels, classes, splits):
    """The ΔCDF identifier's accuracy and confusion over all runs and over the held-out ones."""
    if answers is None:
        return {"available": False, "reason": reason}
    best, identified = answers
    predicted_classes = list(classes) + sorted(set(identified) - set(classes) - {UNDEFINED}, key=natural_key)
    if UNDEFINED in identified:
        predicted_classes.append(UNDEFINED)
    identified = np.array(identified, dtype=object)
    true = np.array(labels, dtype=object)
    accuracies, confusion = [], np.zeros((len(classes), len(predicted_classes)), dtype=np.int64)
    for split in splits:
        accuracies.append(float(np.mean(identified[split.test] == true[split.test])))
        confusion += confusion_matrix(true[split.test], identified[split.test], classes, predicted_classes)
    mean, sd = mean_and_sd(accuracies)
    mapping = dict(sorted(set(zip(best, identified.tolist())), key=lambda pair: natural_key(pair[0])))
    return {"available": True, "predicted_classes": predicted_classes, "mapping": mapping,
            "n_runs": len(identified), "n_undefined": int(np.sum(identified == UNDEFINED)),
            "accuracy_all": float(np.mean(identified == true)),
            "confusion_all": confusion_matrix(true, identified, classes, predicted_classes).tolist(),
            "accuracy_mean": mean, "accuracy_sd": sd, "accuracies": accuracies, "confusion": confusion.tolist()}


# ---------------------------------------------------------------------------------------------
# Figures

def draw_figure(path, title, panels, label):
    """Confusion matrices side by side, row-normalised colours, counts written in the cells.
    panels: (panel title, counts, row classes, column classes); every panel has the same rows."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_classes = max(max(len(rows), len(columns)) for _, _, rows, columns in panels)
    cell = 0.6 if n_classes <= 6 else (0.45 if n_classes <= 12 else 0.36)
    font = 10 if n_classes <= 6 else (8 if n_classes <= 12 else 6.5)
    side = max(3.0, cell * n_classes)
    label_room = 0.09 * max(len(c) for _, _, rows, columns in panels for c in list(rows) + list(columns)) * font / 10
    figure, axes = plt.subplots(1, len(panels), squeeze=False, layout="constrained",
                                figsize=(len(panels) * (side + 0.4) + label_room + 1.6, side + label_room + 1.5))
    image = None
    for n, (ax, (panel_title, counts, rows, columns)) in enumerate(zip(axes[0], panels)):
        counts = np.asarray(counts, dtype=float)
        totals = counts.sum(axis=1, keepdims=True)
        fractions = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        image = ax.imshow(fractions, cmap="Blues", vmin=0.0, vmax=1.0)
        for i in range(counts.shape[0]):
            for j in range(counts.shape[1]):
                ax.text(j, i, "%d" % counts[i, j], ha="center", va="center", fontsize=font,
                        color="white" if fractions[i, j] > 0.6 else ("black" if counts[i, j] else "0.65"))
        tilted = n_classes > 3 or max(len(c) for c in columns) > 8
        ax.set_xticks(range(len(columns)))
        ax.set_xticklabels(columns, rotation=45 if tilted else 0, ha="right" if tilted else "center",
                           rotation_mode="anchor", fontsize=font)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(rows if n == 0 else [], fontsize=font)
        ax.set_xlabel("identified " + label)
        if n == 0:
            ax.set_ylabel("true " + label)
        ax.set_title(panel_title, fontsize=10)
    figure.colorbar(image, ax=list(axes[0]), shrink=0.8, label="fraction of the true class (cells: runs)")
    figure.suptitle(title, fontsize=10)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def figure_panels(result):
    panels = []
    classes = result["classes"]
    for kind, r in result["classifiers"].items():
        panels.append(("%s: accuracy %.2f%s" % ("linear SVM" if kind == "svm" else "random forest",
                                                r["accuracy_mean"], spread(r["accuracy_sd"])),
                       r["confusion"], classes, classes))
    test = result.get("geometry_test")
    if test and test["available"]:
        panels.append(("ΔCDF geometry test: accuracy %.2f%s" % (test["accuracy_mean"], spread(test["accuracy_sd"])),
                       test["confusion"], classes, test["predicted_classes"]))
    return panels


def spread(sd):
    return "" if sd is None or math.isnan(sd) else " ± %.2f" % sd


# ---------------------------------------------------------------------------------------------
# The JSON report

def json_ready(value):
    """numpy values as Python ones, non-finite numbers as None."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def write_json_atomically(path, report):
    text = json.dumps(json_ready(report), indent=1, allow_nan=False) + "\n"
    temporary = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as e:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise UserError("cannot write %s: %s" % (path, e))


def same_file(a, b):
    if os.path.abspath(a) == os.path.abspath(b):
        return True
    return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)


# ---------------------------------------------------------------------------------------------
# The command

class ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise UserError(message)


def parse_arguments(argv):
    parser = ArgumentParser(prog="eisim identify", description="Learning-rule classifiers on an observables table.")
    parser.add_argument("table", metavar="TABLE", help="observables table (.h5 or .csv) from eisim observe")
    parser.add_argument("--label", action="append", required=True, choices=LABELS,
                        help="what to identify (repeatable): credit, geometry, or joint (credit/geometry)")
    parser.add_argument("--hold-out", required=True, choices=HOLD_OUTS, help="held-out seeds or held-out tasks")
    parser.add_argument("--json", required=True, metavar="OUT.json", help="report to write")
    parser.add_argument("--figures", metavar="DIR", help="write one PNG of confusion matrices per label here")
    parser.add_argument("--features", default="all",
                        help="comma list of all, weights, activations, activity_change, performance (default all)")
    parser.add_argument("--classifiers", default="rf,svm", help="comma list of rf, svm (default both)")
    parser.add_argument("--splits", type=int, default=5, help="random seed splits for --hold-out seed (default 5)")
    parser.add_argument("--test-fraction", type=float, default=0.25,
                        help="fraction of the seeds held out in each split (default 0.25)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the splits, the folds and the models (default 0)")
    parser.add_argument("--time-points", type=int, metavar="K", help="keep K evenly spaced snapshots of each run")
    parser.add_argument("--quick", action="store_true", help="smaller hyperparameter grids")
    parser.add_argument("--changes", action="store_true",
                        help="each feature minus its value at the run's first kept snapshot (which is left out): "
                             "what learning changed, without each network's own starting point")
    args = parser.parse_args(argv)
    args.label = list(dict.fromkeys(args.label))
    args.features = parse_feature_groups(args.features)
    args.classifiers = parse_classifiers(args.classifiers)
    if args.splits < 1:
        raise UserError("--splits %d: need at least 1" % args.splits)
    if not 0.0 < args.test_fraction < 1.0:
        raise UserError("--test-fraction %g: must lie strictly between 0 and 1" % args.test_fraction)
    if not 0 <= args.seed < 2 ** 32:
        raise UserError("--seed %d: must lie in 0..2^32-1" % args.seed)
    return args


def identify(args):
    if same_file(args.json, args.table):
        raise UserError("--json %s is the table itself; refusing to overwrite it" % args.json)
    out_dir = os.path.dirname(os.path.abspath(args.json))
    if not os.path.isdir(out_dir):
        raise UserError("--json %s: no directory %s" % (args.json, out_dir))
    table = read_table(args.table)
    runs = group_runs(table)
    n_snapshots = runs.rows.shape[1]
    positions = time_point_positions(n_snapshots, args.time_points)
    features = feature_matrix(table, runs, args.features, positions, args.changes)
    labels_of = {label: run_labels(runs, label) for label in args.label}
    classes_of = {label: class_names(labels_of[label], label) for label in args.label}
    if args.hold_out == "seed":
        splits = seed_splits(runs, args.splits, args.test_fraction, args.seed)
    else:
        splits = task_splits(runs)
    notes_of = {label: training_notes(labels_of[label], classes_of[label], splits, label) for label in args.label}
    if "geometry" in args.label:   # its table entries checked before any training
        delta_cdf, no_delta_cdf = delta_cdf_answers(table, runs, classes_of["geometry"])
    if args.figures:
        try:
            os.makedirs(args.figures, exist_ok=True)
        except OSError as e:
            raise UserError("--figures %s: %s" % (args.figures, e))

    steps = table.step[runs.rows[:, positions]]
    report = {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "table": args.table, "table_format": table.kind, "table_attrs": table.attrs,
        "hold_out": args.hold_out, "features": args.features, "classifier_names": args.classifiers,
        "seed": args.seed, "quick": args.quick, "changes": args.changes,
        "time_points": {"count": len(positions), "positions": positions, "snapshots_per_run": n_snapshots,
                        "steps": steps[0].tolist() if (steps == steps[0]).all() else None},
        "feature_names": features.per_snapshot, "n_features_per_snapshot": len(features.per_snapshot),
        "dropped_columns": features.dropped, "n_runs": len(runs.names),
        "splits": [split.record for split in splits],
        "results": {}, "figures": []}
    if args.hold_out == "seed":
        report["test_fraction"] = args.test_fraction
    for label in args.label:
        labels, classes = labels_of[label], classes_of[label]
        test_counts = collections.Counter(labels[i] for split in splits for i in split.test)
        per_split_chance = [max(collections.Counter(labels[i] for i in split.test).values()) / len(split.test)
                            for split in splits]
        absent, notes = notes_of[label]
        result = {"classes": classes, "chance": max(test_counts.values()) / sum(test_counts.values()),
                  "chance_per_split": per_split_chance, "n_test_total": sum(test_counts.values()),
                  "class_counts": {c: labels.count(c) for c in classes},
                  "n_runs": len(runs.names), "n_features": features.values.shape[1],
                  "absent_from_training": absent, "notes": notes, "classifiers": {}}
        for kind in args.classifiers:
            result["classifiers"][kind] = classify(kind, features, labels, classes, splits, args.quick, args.seed)
            if args.hold_out == "task":
                result["classifiers"][kind]["per_task"] = {
                    split.record["test_task"]: a for split, a in zip(splits, result["classifiers"][kind]["accuracies"])}
        if label == "geometry":
            result["geometry_test"] = score_delta_cdf(delta_cdf, no_delta_cdf, labels, classes, splits)
        report["results"][label] = result
        if args.figures:
            path = os.path.join(args.figures, "identify_%s_%s%s_by_%s.png" % (label, "+".join(args.features),
                                                                             "_changes" if args.changes else "", args.hold_out))
            summary = ", ".join("%s %.2f" % (kind, r["accuracy_mean"]) for kind, r in result["classifiers"].items())
            title = "%s: %s identified from %s features%s at %d of %d snapshots, held out by %s (%d %s)\n" \
                    "accuracy %s; chance %.2f" % (
                        os.path.basename(args.table), label, "+".join(args.features),
                        " (changes from the first)" if args.changes else "", len(positions), n_snapshots,
                        args.hold_out, len(splits), "splits" if args.hold_out == "seed" else "tasks", summary,
                        result["chance"])
            draw_figure(path, title, figure_panels(json_ready(result)), label)
            report["figures"].append(path)
    write_json_atomically(args.json, report)
    return report


def print_summary(report):
    for label, result in report["results"].items():
        parts = ["%s %.3f ± %s" % (kind, r["accuracy_mean"], "%.3f" % r["accuracy_sd"]
                                   if r["accuracy_sd"] is not None and math.isfinite(r["accuracy_sd"]) else "-")
                 for kind, r in result["classifiers"].items()]
        test = result.get("geometry_test")
        if test and test["available"]:
            parts.append("ΔCDF test %.3f" % test["accuracy_mean"])
        print("%s (%d classes, chance %.3f): %s" % (label, len(result["classes"]), result["chance"], ", ".join(parts)))


def main(argv):
    try:
        args = parse_arguments(argv)
        report = identify(args)
    except UserError as e:
        sys.stderr.write("eisim identify: %s\n" % " ".join(str(e).split("\n")))
        return 2
    print_summary(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
