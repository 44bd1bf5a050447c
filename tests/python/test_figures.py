"""The figures of `eisim analyze --figures` (analysis/figures.py) on small runs made with the CLI:
run by CTest (python_module) with EISIM_EXE the CLI; the script is imported from the source tree
and its Figures are checked before they become PNGs.

What it proves, on a teacher-student EG run, a GD (euclidean) run with many weights held at the
bound and a perceptual-decision run:
  - every figure's title names the run file, the task, the credit rule and the geometry of the
    config stored in the file;
  - every axis names a quantity and its unit (a parenthesis at the end; "(1)" dimensionless);
  - no legend lies on an axes' data area, and every legend lies inside the figure;
  - the ln|w| histograms and their log-normal fits leave out the weights held at the bound: the
    drawn Gaussian's mu and sigma are those of ln|w| over the weights above the bound, the count
    held is in the legend, no histogram bar reaches the bound; without held weights the fit is
    the report's;
  - /training row k is drawn at learning step k (row k is the loss of the snapshot at step k);
    the accuracy is drawn, named R^2 or fraction correct by the task;
  - a panel with nothing to draw (no loss in the file, every weight at the bound, no block
    testable per neuron) carries a text saying why;
  - the command line: the PNG names the C++ test expects, exit 2 on a wrong call, exit 3 when
    matplotlib cannot be imported.
"""
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
h5py = pytest.importorskip("h5py")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "analysis" / "figures.py"
EXE = os.environ.get("EISIM_EXE", "eisim")

spec = importlib.util.spec_from_file_location("eisim_figures", SCRIPT)
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)
plt = figures.plt
plt.rcParams["figure.max_open_warning"] = 0  # the three runs' figures stay open for the module's tests

SMALL = ["populations.E.size=40", "populations.I.size=10", "task.batch=4", "task.duration_ms=100",
         "training.activity_trials=1"]
RUNS = {
    "eg": (None, SMALL + ["training.steps=12"]),
    # a large euclidean step: about half the readout and 5% of the recurrent weights end at the bound
    "gd": (None, SMALL + ["training.steps=40", "plasticity.geometry=euclidean", "plasticity.learning_rate=0.2",
                          "plasticity.credit=feedback_alignment"]),
    "decision": (ROOT / "examples" / "perceptual_decision.toml",
                 ["training.steps=8", "task.batch=8", "training.activity_trials=1", "plasticity.credit=rflo"]),
}


def cli(*args):
    p = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, f"eisim {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}"
    return p


class Made:
    """A run file, its report (from `eisim analyze --json`), its stored config and its figures."""

    def __init__(self, path, report):
        self.path = path
        self.report = report
        with h5py.File(path, "r") as f:
            raw = f.attrs["config"]
            self.config = tomllib.loads(raw.decode() if isinstance(raw, bytes) else raw)
            self.figures = figures.figures(f, str(path), report)

    def figure(self, name):
        return self.figures[name]


def make_run(tmp, name):
    toml, sets = RUNS[name]
    out = tmp / f"{name}.h5"
    args = ["run"] + ([toml] if toml else []) + [a for s in sets for a in ("--set", s)] + ["--out", out, "--quiet"]
    cli(*args)
    report = tmp / f"{name}.json"
    cli("analyze", out, "--json", report)
    return out, json.loads(report.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figures")
    made = {name: Made(*make_run(tmp, name)) for name in RUNS}
    yield made
    plt.close("all")


def all_figures(runs):
    return [(name, file, fig) for name, m in runs.items() for file, fig in m.figures.items()]


def visible_axes(fig):
    return [ax for ax in fig.axes if ax.axison]


def panel_texts(ax):
    return " ".join(t.get_text() for t in ax.texts)


def legend_texts(ax):
    lg = ax.get_legend()
    return [t.get_text() for t in lg.get_texts()] if lg else []


def held_at_bound(w, bound):
    return np.abs(w) <= bound * (1 + 1e-9)


def block_weights(run, proj, block, which):
    """The weights of a block at the snapshot `which` ("from", "to"), as the report delimits it."""
    pj = run.report["projections"][proj]
    with h5py.File(run.path, "r") as f:
        idx = figures.block_members(f, proj, pj, run.report["network"]["populations"])[block]
        return f["trajectory/%s/weight" % proj][run.report[which]["index"]][idx]


def drawn_gaussian(line):
    """mu and sigma of a drawn Gaussian density: ln density is quadratic in x."""
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    a, b, _ = np.polyfit(x, np.log(y), 2)
    sigma = math.sqrt(-1 / (2 * a))
    return b * sigma ** 2, sigma


def line_with_gid(ax, gid):
    lines = [l for l in ax.get_lines() if l.get_gid() == gid]
    assert len(lines) == 1, f"{gid}: {len(lines)} lines"
    return lines[0]


# ---- titles --------------------------------------------------------------------------------------

def test_the_files_figures_are_all_drawn(runs):
    for m in runs.values():
        expected = {"loss.png"} | {f"{p}_{k}.png" for p in m.report["projections"]
                                   for k in ("ln_weights", "geometry", "trajectories")}
        assert set(m.figures) == expected


def test_every_title_names_the_run_task_credit_and_geometry(runs):
    for name, file, fig in all_figures(runs):
        m = runs[name]
        title = fig._suptitle.get_text()
        for word in (m.path.name, "task " + m.config["task"]["kind"], "credit " + m.config["plasticity"]["credit"],
                     "geometry " + m.config["plasticity"]["geometry"]):
            assert word in title, f"{name} {file}: {word!r} not in {title!r}"


# ---- axes and legends ----------------------------------------------------------------------------

UNIT = re.compile(r"\S.*\(.+\)$")  # a quantity, then its unit in parentheses


def test_every_axis_names_its_quantity_and_unit(runs):
    for name, file, fig in all_figures(runs):
        for ax in visible_axes(fig):
            for label in (ax.get_xlabel(), ax.get_ylabel()):
                assert UNIT.match(label), f"{name} {file}: axis label {label!r}"


def test_legends_lie_off_the_data_and_inside_the_figure(runs):
    for name, file, fig in all_figures(runs):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
        assert legends, f"{name} {file}: no legend"
        for lg in legends:
            box = lg.get_window_extent(renderer)
            for ax in visible_axes(fig):
                assert not box.overlaps(ax.bbox), f"{name} {file}: a legend lies on an axes"
            assert fig.bbox.x0 - 1 <= box.x0 and box.x1 <= fig.bbox.x1 + 1, f"{name} {file}: a legend is cut"
            assert fig.bbox.y0 - 1 <= box.y0 and box.y1 <= fig.bbox.y1 + 1, f"{name} {file}: a legend is cut"


# ---- weights held at the bound -------------------------------------------------------------------

def test_gd_fits_leave_out_the_weights_held_at_the_bound(runs):
    m = runs["gd"]
    bound = m.report["settings"]["bound"]
    assert bound == m.config["plasticity"]["min_magnitude"]
    fig = m.figure("readout_ln_weights.png")
    pj = m.report["projections"]["readout"]
    for ax, block in zip(fig.axes, pj["blocks"]):
        w = block_weights(m, "readout", block, "to")
        held = held_at_bound(w, bound)
        assert held.sum() >= 0.3 * w.size  # the case this test is about: many weights at the bound
        x = np.log(np.abs(w[~held]))
        mu, sigma = drawn_gaussian(line_with_gid(ax, "fit to"))
        assert mu == pytest.approx(np.mean(x), rel=1e-6)
        assert sigma == pytest.approx(np.std(x), rel=1e-6)
        # the report's fit leaves them out too: it is the drawn one
        assert pj["blocks"][block]["final"]["sigma"] == pytest.approx(sigma, rel=1e-6)
        assert pj["blocks"][block]["final"]["n"] == w.size - held.sum()
        assert any("held at the bound" in t and f"{held.sum()} at step {m.report['to']['step']}" in t
                   for t in legend_texts(ax))
        # the histograms (polygons in data coordinates) start well above ln(bound)
        assert ax.patches and min(p.get_xy()[:, 0].min() for p in ax.patches) > math.log(bound) + 1


def test_recurrent_held_counts_are_in_every_panel(runs):
    m = runs["gd"]
    bound = m.report["settings"]["bound"]
    fig = m.figure("recurrent_ln_weights.png")
    for ax, block in zip(fig.axes, m.report["projections"]["recurrent"]["blocks"]):
        counts = [int(held_at_bound(block_weights(m, "recurrent", block, w), bound).sum()) for w in ("from", "to")]
        assert counts[1] == m.report["projections"]["recurrent"]["blocks"][block]["held_at_bound"]
        text = [t for t in legend_texts(ax) if "held at the bound" in t]
        assert len(text) == 1 and f"{counts[0]} at step 0, {counts[1]} at step" in text[0]


def test_without_held_weights_the_fit_is_the_reports(runs):
    m = runs["eg"]
    fig = m.figure("recurrent_ln_weights.png")
    for ax, (block, bj) in zip(fig.axes, m.report["projections"]["recurrent"]["blocks"].items()):
        assert bj["held_at_bound"] == 0
        for which, key in (("from", "initial"), ("to", "final")):
            mu, sigma = drawn_gaussian(line_with_gid(ax, "fit " + which))
            assert mu == pytest.approx(bj[key]["mu"], rel=1e-6)
            assert sigma == pytest.approx(bj[key]["sigma"], rel=1e-6)


# ---- loss and accuracy ---------------------------------------------------------------------------

def test_training_row_k_is_drawn_at_step_k(runs):
    for name, m in runs.items():
        top, bottom = m.figure("loss.png").axes
        with h5py.File(m.path, "r") as f:
            for ax, what in ((top, "loss"), (bottom, "accuracy")):
                rows = f["training/" + what][:].ravel()
                steps = f["trajectory/step"][:].ravel()
                snap = f["trajectory/" + what][:].ravel()
                S = m.config["training"]["steps"]
                assert rows.size == S
                line = line_with_gid(ax, "/training/" + what)
                np.testing.assert_array_equal(line.get_xdata(), np.arange(S))
                np.testing.assert_array_equal(line.get_ydata(), rows)
                points = line_with_gid(ax, "/trajectory/" + what)
                np.testing.assert_array_equal(points.get_xdata(), steps)
                # row k is the state at step k: the snapshot of step k has the same value
                at = {int(s): v for s, v in zip(steps, snap)}
                for k in range(S):
                    assert rows[k] == pytest.approx(at[k], rel=1e-12)


def test_accuracy_is_named_by_the_task(runs):
    assert "R\u00b2" in runs["eg"].figure("loss.png").axes[1].get_ylabel()
    assert "fraction correct" in runs["decision"].figure("loss.png").axes[1].get_ylabel()


def test_r2_far_below_zero_is_said_to_lie_below_the_axis(runs):
    m = runs["gd"]
    with h5py.File(m.path, "r") as f:
        below = int(np.count_nonzero(f["training/accuracy"][:] < -1))
    ax = m.figure("loss.png").axes[1]
    if below:
        assert ax.get_ylim()[0] == -1 and f"{below} steps" in ax.get_title()
    else:
        assert "below the axis" not in ax.get_title()


# ---- empty panels --------------------------------------------------------------------------------

def copy_of(m, tmp_path, edit):
    path = tmp_path / m.path.name
    shutil.copy(m.path, path)
    with h5py.File(path, "r+") as f:
        edit(f)
    return path


def test_a_file_without_loss_or_accuracy_says_so(runs, tmp_path):
    m = runs["gd"]

    def drop(f):
        for path in ("training", "trajectory/loss", "trajectory/accuracy"):
            del f[path]
    path = copy_of(m, tmp_path, drop)
    with h5py.File(path, "r") as f:
        fig = figures.loss_figure(f, figures.Run(f, str(path), m.report), m.report)
    top, bottom = fig.axes
    assert not [l for ax in (top, bottom) for l in ax.get_lines() if l.get_gid()]  # no series drawn
    assert "no loss in this file" in panel_texts(top)
    assert "no accuracy in this file" in panel_texts(bottom)
    plt.close(fig)


def test_a_block_all_at_the_bound_says_so(runs, tmp_path):
    m = runs["gd"]
    bound = m.report["settings"]["bound"]

    def hold(f):
        sign = f["network/readout/sign"][:]
        w = f["trajectory/readout/weight"]
        w[...] = np.broadcast_to(sign * bound, w.shape)
    path = copy_of(m, tmp_path, hold)
    pj = m.report["projections"]["readout"]
    with h5py.File(path, "r") as f:
        fig = figures.ln_weights_figure(f, figures.Run(f, str(path), m.report), "readout", pj, m.report)
    for ax, (block, bj) in zip(fig.axes, pj["blocks"].items()):
        assert not ax.patches and not ax.get_lines()
        assert f"all {bj['n_synapses']} held there" in panel_texts(ax)
    plt.close(fig)


def test_a_geometry_panel_with_no_testable_block_says_so(runs):
    seen_empty = False
    for name, m in runs.items():
        for proj, pj in m.report["projections"].items():
            fig = m.figure(f"{proj}_geometry.png")
            for ax, key in zip(fig.axes, ("geometry_pooled", "geometry_per_neuron")):
                tested = [b for b, bj in pj["blocks"].items() if bj[key]["best"] is not None]
                drawn = [l.get_gid() for l in ax.get_lines() if (l.get_gid() or "").startswith("dcdf")]
                assert drawn == ["dcdf " + b for b in tested]
                if tested:
                    assert panel_texts(ax) == ""
                else:
                    seen_empty = True
                    assert "could be tested" in panel_texts(ax)
                for b, bj in pj["blocks"].items():
                    if bj[key]["best"] is None:
                        assert any(t.startswith(b + ": not tested") for t in legend_texts(ax))
    assert seen_empty  # the input projection of these small circuits is skipped per neuron


# ---- the command line ----------------------------------------------------------------------------

def test_command_line_writes_the_pngs(runs, tmp_path):
    m = runs["eg"]
    report = tmp_path / "report.json"
    report.write_text(json.dumps(m.report))
    out = tmp_path / "figs"
    p = subprocess.run([sys.executable, SCRIPT, m.path, report, out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(out)) == sorted(m.figures)
    for name in m.figures:
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_command_line_errors(tmp_path):
    p = subprocess.run([sys.executable, SCRIPT, "only-one"], capture_output=True, text=True)
    assert p.returncode == 2 and "usage" in p.stderr
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('not here', name='matplotlib')\n")
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    p = subprocess.run([sys.executable, SCRIPT, "a.h5", "r.json", str(tmp_path)], capture_output=True, text=True, env=env)
    assert p.returncode == 3 and "matplotlib" in p.stderr


def test_the_heldout_accuracy_is_drawn_where_it_was_measured(runs):
    m = runs["decision"]
    bottom = m.figure("loss.png").axes[1]
    with h5py.File(m.path, "r") as f:
        steps = f["trajectory/step"][:].ravel()
        heldout = f["trajectory/heldout_accuracy"][:].ravel()
    measured = np.isfinite(heldout)
    assert measured[0] and measured[-1] and not measured.all()  # the first and final states, not every snapshot
    line = line_with_gid(bottom, "/trajectory/heldout_accuracy")
    np.testing.assert_array_equal(line.get_xdata(), steps[measured])
    np.testing.assert_array_equal(line.get_ydata(), heldout[measured])
    assert any("512 trials never learned from" in t for t in legend_texts(bottom))
    # a teacher task has no held-out set: nothing drawn for it
    assert not [l for l in runs["eg"].figure("loss.png").axes[1].get_lines() if l.get_gid() == "/trajectory/heldout_accuracy"]
