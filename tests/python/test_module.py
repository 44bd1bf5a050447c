"""The Python module (docs/python.md) against the CLI it binds: run by CTest (python_module) with
PYTHONPATH at the build's python/ folder and EISIM_EXE the CLI.

What it proves: configs refuse what the CLI refuses, with the CLI's message, and leave the
config as it was; the network's arrays are zero-copy views of the C++ memory where the layout
holds them (and copies, equal to the file's, where it does not); the callback sees every
evaluated state, equal to the file's; the GIL is released while C++ runs (a Python thread keeps
running); SIGINT stops at the end of a step with KeyboardInterrupt and a file that resumes to
the uninterrupted run; a file written from Python equals the CLI's, dataset for dataset; the
readers and analyze equal h5py's and the CLI's.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import eisim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from h5diff import differences  # noqa: E402

h5py = pytest.importorskip("h5py")

EXE = os.environ.get("EISIM_EXE", "eisim")

# A small circuit (50 cells) that trains in well under a second.
SMALL = {"populations.E.size": 40, "populations.I.size": 10, "task.batch": 4, "task.duration_ms": 100.0,
         "training.steps": 4, "training.activity_trials": 1}


def small(**extra):
    cfg = eisim.Config.default()
    cfg.update({**SMALL, **extra})
    return cfg


def cli(*args, check=True):
    p = subprocess.run([EXE, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"eisim {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def cli_run(cfg, tmp_path, name):
    """The CLI's run of the same config (its TOML written from Python)."""
    toml = tmp_path / f"{name}.toml"
    toml.write_text(cfg.to_toml())
    out = tmp_path / f"{name}.h5"
    cli("run", toml, "--out", out, "--quiet")
    return out


# ---- version and configs ---------------------------------------------------------------------------

def test_version_is_the_clis():
    words = cli("--version").stdout.split()
    assert words[0] == "eisim" and words[1] == eisim.__version__
    assert words[2] == f"({eisim.git_revision})"


@pytest.mark.parametrize("key,value,cli_value", [
    ("plasticity.geometry", "nope", "nope"),             # not a known component
    ("training.steps", -3, -3),                          # out of range
    ("training.steps", "many", '"many"'),                # wrong type (a TOML string)
    ("plasticity.no_such_key", 1, 1),                    # unknown key
    ("populations.E.size", 0, 0),                        # a circuit element's key
])
def test_config_errors_are_the_clis(key, value, cli_value):
    cfg = eisim.Config.default()
    before = cfg.to_toml()
    with pytest.raises(eisim.ConfigError) as e:
        cfg[key] = value
    assert isinstance(e.value, ValueError)
    p = cli("config", "--set", f"{key}={cli_value}", check=False)
    assert p.returncode == 2
    assert p.stderr.strip() == f"eisim: error: {e.value}"
    assert key.split(".")[-1] in str(e.value)
    assert cfg.to_toml() == before  # a refused value leaves the config as it was


def test_config_error_names_its_key():
    cfg = eisim.Config.default()
    with pytest.raises(eisim.ConfigError) as e:
        cfg["plasticity.geometry"] = "nope"
    assert e.value.key == "plasticity.geometry"


def test_config_values_round_trip():
    cfg = eisim.Config.default()
    cfg["plasticity.geometry"] = "pnorm"
    cfg["plasticity.p"] = 1.5
    cfg["populations.E.size"] = np.int64(120)  # numpy scalars are taken as their values
    cfg["projections.recurrent.p"] = [[0.1, 0.2], [0.3, 0.4]]
    assert cfg["plasticity.geometry"] == "pnorm" and cfg["plasticity.p"] == 1.5
    assert cfg["populations.E.size"] == 120
    assert cfg["projections.recurrent.p"] == [[0.1, 0.2], [0.3, 0.4]]
    assert "plasticity.p" in cfg and "plasticity.nothing" not in cfg
    with pytest.raises(KeyError):
        cfg["plasticity.nothing"]
    # the TOML is the CLI's, and reads back to the same config
    toml_cli = cli("config", "--set", "plasticity.geometry=pnorm", "--set", "plasticity.p=1.5",
                   "--set", "populations.E.size=120", "--set", "projections.recurrent.p=[[0.1, 0.2], [0.3, 0.4]]").stdout
    assert cfg.to_toml(comments=True) == toml_cli
    assert eisim.Config.from_string(cfg.to_toml()) == cfg
    assert set(cfg.keys()) >= {"plasticity.p", "populations.E.size", "training.steps"}


def test_learning_rates_per_geometry_are_a_dict():
    cfg = eisim.Config.default()
    cfg["plasticity.learning_rates"] = {"eg": 0.2, "euclidean": 0.05}
    cfg["plasticity.learning_rates.pnorm"] = 0.001  # one entry by its dotted name, as --set
    assert cfg["plasticity.learning_rates"] == {"eg": 0.2, "euclidean": 0.05, "pnorm": 0.001}
    toml_cli = cli("config", "--set", "plasticity.learning_rates={ eg = 0.2, euclidean = 0.05, pnorm = 0.001 }").stdout
    assert cfg.to_toml(comments=True) == toml_cli
    with pytest.raises(eisim.ConfigError) as e:
        cfg["plasticity.learning_rates"] = {"hebb": 1.0}
    assert e.value.key == "plasticity.learning_rates"
    assert cfg["plasticity.learning_rates"]["eg"] == 0.2  # the refused value changed nothing


def test_a_setting_without_effect_is_the_clis_note_and_trains_with_a_warning(tmp_path):
    # learning_rate beside the chosen geometry's (EG's) entry of learning_rates: the entry wins.
    cfg = small()
    cfg["plasticity.learning_rates"] = {"eg": 0.2}
    cfg["plasticity.learning_rate"] = 0.05
    p = cli("config", "--set", "plasticity.learning_rates={ eg = 0.2 }", "--set", "plasticity.learning_rate=0.05")
    printed = [line.removeprefix("eisim: note: ") for line in p.stderr.splitlines() if line.startswith("eisim: note: ")]
    assert len(printed) == 1 and "has no effect" in printed[0]
    assert cfg.notes == printed
    with pytest.warns(UserWarning, match="plasticity.learning_rate = 0.05 has no effect"):
        eisim.train(cfg, str(tmp_path / "run.h5"))
    cfg["plasticity.geometry"] = "pnorm"  # no entry for pnorm: learning_rate is its rate, nothing to note
    assert cfg.notes == []


def test_update_validates_together():
    cfg = eisim.Config.default()
    with pytest.raises(eisim.ConfigError):
        cfg.update({"training.steps": 10, "plasticity.geometry": "nope"})
    assert cfg["training.steps"] == 25  # nothing of a refused update is kept
    cfg.update({"training.steps": 10, "plasticity.geometry": "euclidean"})
    assert (cfg["training.steps"], cfg["plasticity.geometry"]) == (10, "euclidean")


def test_from_toml_and_errors(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[training]\nsteps = 7\n")
    assert eisim.Config.from_toml(f)["training.steps"] == 7
    f.write_text("[training]\nsteps = -7\n")
    with pytest.raises(eisim.ConfigError):
        eisim.Config.from_toml(f)
    with pytest.raises(eisim.UserError):
        eisim.Config.from_toml(tmp_path / "missing.toml")


def test_circuit_edited_from_python():
    cfg = small()
    cfg.add_population("PV", model="rate", size=6, sign="inhibitory", tau_ms=8.0)
    with pytest.raises(eisim.ConfigError, match="one per pre population"):  # p is still a 2 x 2 table
        cfg["projections.recurrent.pre"] = ["E", "I", "PV"]
    cfg.update({"projections.recurrent.pre": ["E", "I", "PV"], "projections.recurrent.post": ["E", "I", "PV"],
                "projections.recurrent.p": 0.3, "projections.recurrent.scale": 1.0,
                "projections.input.post": ["E", "I", "PV"]})
    assert cfg.populations == ["E", "I", "in", "out", "PV"]
    net = eisim.build(cfg)
    pv = [p for p in net.populations if p["name"] == "PV"][0]
    assert (pv["size"], pv["sign"], pv["tau_ms"]) == (6, -1, 8.0)
    assert net.n == 56 and np.all(net.cell_sign[50:] == -1)
    with pytest.raises(eisim.ConfigError):
        cfg.add_population("PV", model="rate", size=3)
    cfg.add_projection("pv_to_e", pre="PV", post="E", connectivity="all_to_all", weights="constant", mean=0.01)
    assert len(eisim.build(cfg).projections["pv_to_e"]) == 6 * 40
    cfg.remove_projection("pv_to_e")
    assert "pv_to_e" not in cfg.projections
    with pytest.raises(eisim.ConfigError):
        cfg.remove_population("nobody")


# ---- the network: zero-copy views ------------------------------------------------------------------

def test_lists_layout_arrays_are_views_of_the_cpp_memory(tmp_path):
    cfg = small(**{"integrator.products": "sparse"})
    net = eisim.build(cfg)
    p = net.projections["recurrent"]
    assert p.layout == "lists"
    for name in ("pre", "post", "sign", "magnitudes"):
        a = getattr(p, name)
        assert a.__array_interface__["data"][0] == p._address(name), name
        assert not a.flags.writeable
        assert np.shares_memory(a, getattr(p, name))
        assert len(a) == len(p)
    pre = p.pre
    del net, p  # the view keeps the network alive
    assert pre.sum() >= 0 and len(pre) > 0
    # the synapses and initial weights are those of the run the CLI writes from the same config
    net = eisim.build(cfg)
    out = cli_run(cfg, tmp_path, "lists")
    with h5py.File(out, "r") as f:
        for q in net.projections.values():
            g = f["network"][q.name]
            assert np.array_equal(q.pre, g["pre"][()]) and np.array_equal(q.post, g["post"][()])
            assert np.array_equal(q.sign, g["sign"][()])
            assert np.array_equal(q.sign * q.magnitudes, f["trajectory"][q.name]["weight"][0])
            assert np.array_equal(q.weights, f["trajectory"][q.name]["weight"][0])


def test_dense_layout_matrix_is_a_view():
    net = eisim.build(small())
    p = net.projections["recurrent"]
    assert p.layout == "dense"
    W = p.W
    assert W.shape == (p.n_post, p.n_pre) and W.flags.f_contiguous and not W.flags.writeable
    assert W.__array_interface__["data"][0] == p._address("W")
    mask = p.mask
    # the lists (copies) and the matrix agree: W[post, pre] = sign * m, zero off the synapses
    assert np.array_equal(W[p.post, p.pre], p.sign * p.magnitudes)
    assert mask.sum() == len(p) and np.all(W[~mask] == 0)
    assert np.all(np.sign(W[:, : net.n_e]) >= 0) and np.all(np.sign(W[:, net.n_e:]) <= 0)  # Dale's law


# ---- training ------------------------------------------------------------------------------------

def test_callback_sees_every_state_and_equals_the_file(tmp_path):
    seen = []
    out = tmp_path / "cb.h5"
    s = eisim.train(small(), out, callback=lambda step, loss, acc: seen.append((step, loss, acc)))
    run = eisim.RunFile(out)
    assert [k for k, _, _ in seen] == list(range(5)) == run.steps.tolist()
    assert np.array_equal([l for _, l, _ in seen], run.loss)
    assert np.array_equal([a for _, _, a in seen], run.accuracy, equal_nan=True)
    assert s["final_loss"] == run.loss[-1] and s["steps"] == 4 and len(s["step_seconds"]) == 4


def test_file_from_python_equals_the_clis(tmp_path):
    cfg = small(**{"plasticity.geometry": "euclidean"})
    py_out = tmp_path / "py.h5"
    eisim.train(cfg, py_out)
    assert differences(py_out, cli_run(cfg, tmp_path, "cli")) == []


def test_gil_is_released_while_training(tmp_path):
    # A few long steps: were the GIL held, a Python thread would stall for whole steps.
    cfg = small(**{"populations.E.size": 400, "populations.I.size": 100, "task.duration_ms": 300.0,
                   "task.batch": 8, "training.steps": 3})
    beats, done = [], threading.Event()

    def beat():
        while not done.is_set():
            beats.append(time.monotonic())
            time.sleep(0.002)

    t = threading.Thread(target=beat)
    t.start()
    try:
        t0 = time.monotonic()
        s = eisim.train(cfg, tmp_path / "gil.h5")
        t1 = time.monotonic()
    finally:
        done.set()
        t.join()
    during = np.array([b for b in beats if t0 <= b <= t1])
    step = float(np.median(s["step_seconds"]))
    assert step > 0.05, "the steps must be long enough to tell"
    gaps = np.diff(np.concatenate([[t0], during, [t1]]))
    assert gaps.max() < step / 2, f"the thread stalled {gaps.max():.3f} s during steps of {step:.3f} s"


def test_sigint_stops_at_a_step_and_the_file_resumes(tmp_path):
    # About 1.5 s of steps (1 ms each here) against a signal at 0.3 s: with 400 steps (0.4 s) a
    # timer thread delayed on busy cores fired after the run had ended.
    steps = 1500
    cfg = small(**{"training.steps": steps})
    out = tmp_path / "stopped.h5"
    # Python's own handler is the one in force: no handler of the module's replaces it.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt) as e:
        eisim.train(cfg, out)
    assert time.monotonic() - t0 < 60
    timer.join()
    notes = getattr(e.value, "__notes__", [])
    assert any("eisim.resume" in n for n in notes), notes
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    done = len(eisim.RunFile(out).steps) - 1
    assert 0 < done < steps
    eisim.resume(out)
    assert differences(out, cli_run(cfg, tmp_path, "whole")) == []


def test_exception_in_callback_stops_and_is_raised(tmp_path):
    out = tmp_path / "raised.h5"

    def fn(step, loss, acc):
        if step == 2:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        eisim.train(small(), out, callback=fn)
    # learning step 2 (from state 2 to 3) is taken and checkpointed; state 3 is the resumed run's first
    assert eisim.RunFile(out).steps.tolist() == [0, 1, 2]
    assert len(eisim.RunFile(out).training["loss"]) == 3
    eisim.resume(out)
    assert eisim.RunFile(out).steps.tolist() == [0, 1, 2, 3, 4]


def test_user_errors(tmp_path):
    out = tmp_path / "x.h5"
    eisim.train(small(), out)
    with pytest.raises(eisim.UserError, match="exists"):
        eisim.train(small(), out)
    with pytest.raises(eisim.UserError):
        eisim.analyze(tmp_path / "missing.h5")
    (tmp_path / "not.h5").write_text("not hdf5")
    with pytest.raises(eisim.UserError):
        eisim.resume(tmp_path / "not.h5")


def test_threads():
    n = eisim.threads()
    eisim.set_threads(1)
    assert eisim.threads() == 1
    eisim.set_threads(n)
    with pytest.raises(ValueError):
        eisim.set_threads(0)


# ---- reading and analysing ---------------------------------------------------------------------------

def test_runfile_reads_what_h5py_reads(tmp_path):
    out = tmp_path / "r.h5"
    cfg = small(**{"training.record_every": 2, "training.steps": 6})
    eisim.train(cfg, out)
    run = eisim.RunFile(out)
    with h5py.File(out, "r") as f:
        assert run.steps.tolist() == [0, 2, 4, 6]
        assert np.array_equal(run.loss, f["trajectory/loss"][:])  # format 5: 1-D series
        assert f["trajectory/step"].shape == (4,) and f["trajectory/step"].dtype == np.int64
        for name in ("recurrent", "input", "readout"):
            w, ds = run.weights(name), f["trajectory"][name]["weight"]
            assert w.shape == ds.shape
            assert np.array_equal(w[-1], ds[-1]) and np.array_equal(w[1:3], ds[1:3])
            ids = [5, 1, 3, 1]
            assert np.array_equal(w[:, ids], ds[()][:, ids])
            assert np.array_equal(w[[3, 0], 2], ds[()][[3, 0], 2])
            assert np.array_equal(w[::-1], ds[()][::-1])
            assert np.array_equal(np.asarray(w), ds[()])
        assert len(run.training["loss"]) == 6 and run.training["loss"].ndim == 1
        assert run.network["recurrent"]["pre"].dtype == np.int64
        assert [p["name"] for p in run.populations] == ["E", "I", "in", "out"]
    assert run.config == cfg
    with pytest.raises(KeyError):
        run.weights("nope")
    with pytest.raises(IndexError):
        run.weights("recurrent")[4]


def test_analyze_is_the_clis_report(tmp_path):
    out = tmp_path / "a.h5"
    eisim.train(small(**{"training.steps": 6}), out)
    report = eisim.analyze(out)
    cli("analyze", out, "--json", tmp_path / "a.json")
    assert report == json.loads((tmp_path / "a.json").read_text())
    noisy = eisim.analyze(out, observe_synapses=0.5, realism_seed=3)
    cli("analyze", out, "--json", tmp_path / "b.json", "--observe-synapses", 0.5, "--realism-seed", 3)
    assert noisy == json.loads((tmp_path / "b.json").read_text())
    with pytest.raises(TypeError, match="observe_synapse"):
        eisim.analyze(out, observe_synapse=0.5)
    with pytest.raises(eisim.UserError):
        eisim.analyze(out, observe_synapses=2.0)


def test_export_sonata_writes_every_synapse(tmp_path):
    out = tmp_path / "e.h5"
    cfg = small()
    eisim.train(cfg, out)
    s = eisim.export_sonata(out, tmp_path / "sonata")
    net = eisim.build(cfg)
    # the projections among cells are edges (the readout's targets are no SONATA nodes)
    assert s["edges"] == {k: len(net.projections[k]) for k in ("recurrent", "input")}
    assert all(os.path.exists(f) for f in s["files"])
    assert s["step"] == 4 and s["snapshot"] == 4
    rows = eisim.export_csv(out, tmp_path / "w.csv")
    with open(tmp_path / "w.csv") as f:
        assert rows == sum(1 for _ in f) - 1 > 0


# ---- spiking circuits and observables --------------------------------------------------------------

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")


def test_spikes_of_a_simulated_circuit_are_the_files(tmp_path):
    cfg = eisim.Config.from_toml(os.path.join(EXAMPLES, "cuba.toml"))
    cfg.update({"populations.E.size": 320, "populations.I.size": 80, "task.duration_ms": 200.0,
                "projections.recurrent.p": 0.2})
    out = tmp_path / "cuba.h5"
    eisim.simulate(cfg, out)
    run = eisim.RunFile(out)
    with h5py.File(out, "r") as f:
        for pop, n in (("E", 320), ("I", 80)):
            z = run.spikes(pop)
            assert np.array_equal(z["timestamps"], f[f"spikes/{pop}/timestamps"][()])
            assert np.array_equal(z["node_ids"], f[f"spikes/{pop}/node_ids"][()])
            assert len(z["timestamps"]) > 0 and np.all(np.diff(z["timestamps"]) >= 0)  # sorted by time
            assert z["node_ids"].min() >= 0 and z["node_ids"].max() < n
    with pytest.raises(KeyError, match="E, I"):
        run.spikes("nobody")


def test_spiking_circuit_trained_from_python(tmp_path):
    cfg = eisim.Config.from_toml(os.path.join(EXAMPLES, "spiking_decision.toml"))
    cfg.update({"training.steps": 3, "task.batch": 4})
    seen = []
    out = tmp_path / "eprop.h5"
    eisim.train(cfg, out, callback=lambda s, l, a: seen.append(s))
    run = eisim.RunFile(out)
    assert seen == [0, 1, 2, 3] and run.config["plasticity.credit"] == "eprop"
    first, last = run.spikes("E", step=0), run.spikes("E")
    with h5py.File(out, "r") as f:
        assert np.array_equal(last["timestamps"], f["activity/step_3/spikes/E/timestamps"][()])
        assert np.array_equal(first["trial_ids"], f["activity/step_0/spikes/E/trial_ids"][()])
    assert differences(out, cli_run(cfg, tmp_path, "eprop-cli")) == []


def test_observe_is_the_clis_table(tmp_path):
    runs = []
    for geometry in ("eg", "euclidean"):
        runs.append(tmp_path / f"{geometry}.h5")
        eisim.train(small(**{"plasticity.geometry": geometry, "training.steps": 6}), runs[-1])
    s = eisim.observe(runs, tmp_path / "table.h5", noise=0.1, observe_neurons=0.5)
    assert s["runs"] == 2 and s["rows"] == 2 * 7
    cli("observe", *runs, "--out", tmp_path / "cli.h5", "--noise", 0.1, "--observe-neurons", 0.5)
    assert differences(tmp_path / "table.h5", tmp_path / "cli.h5") == []


def test_sweep_plan_is_the_clis():
    sweep = os.path.join(EXAMPLES, "sweeps", "geometry_credit.toml")
    plan = eisim.sweep_plan(sweep)
    listed = [line.split()[0] for line in cli("sweep", "plan", sweep, "--show", 1000).stdout.splitlines()
              if line.startswith("  ")]
    assert [p["id"] for p in plan["points"]] == listed and len(listed) == plan["combinations"] == 20
    for p in plan["points"]:
        # each point is its base with the sweep's [set] and its values applied, as a user would do it
        cfg = eisim.Config.from_toml(plan["base"])
        cfg.update({"training.steps": 50, **p["values"]})
        assert p["config"] == cfg


def test_storage_error_then_resume(tmp_path):
    import resource

    out = tmp_path / "limited.h5"
    cfg = small(**{"training.steps": 20})
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1_200_000, hard))  # Python ignores SIGXFSZ: writes fail with EFBIG
    try:
        with pytest.raises(eisim.StorageError, match="file-size limit") as e:
            eisim.train(cfg, out)
        assert isinstance(e.value, OSError)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    eisim.resume(out)
    assert differences(out, cli_run(cfg, tmp_path, "unlimited")) == []


def test_heldout_accuracy_of_a_decision_task(tmp_path):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    cfg = eisim.Config.from_toml(os.path.join(root, "examples", "perceptual_decision.toml"))
    cfg.update({"training.steps": 4, "training.heldout_trials": 40, "training.heldout_every": 2})
    s = eisim.train(cfg, str(tmp_path / "pd.h5"))
    run = eisim.RunFile(str(tmp_path / "pd.h5"))
    with h5py.File(tmp_path / "pd.h5", "r") as f:
        np.testing.assert_array_equal(run.heldout_accuracy, f["trajectory/heldout_accuracy"][:].ravel())
        np.testing.assert_array_equal(run.heldout_loss, f["trajectory/heldout_loss"][:].ravel())
    assert list(np.isfinite(run.heldout_accuracy)) == [True, False, True, False, True]  # steps 0, 2, 4
    assert np.allclose(run.heldout_accuracy[::2] * 40, np.round(run.heldout_accuracy[::2] * 40))  # of 40 trials
    assert s["heldout_trials"] == 40
    assert (s["initial_heldout_accuracy"], s["final_heldout_accuracy"]) == (run.heldout_accuracy[0], run.heldout_accuracy[-1])
    assert run.projections == ["recurrent", "input", "readout"]
    # a teacher task has none: NaN at every snapshot, and the summary says 0 trials
    s = eisim.train(small(), str(tmp_path / "t.h5"))
    assert s["heldout_trials"] == 0 and np.isnan(eisim.RunFile(str(tmp_path / "t.h5")).heldout_accuracy).all()


def test_a_task_brings_its_channel_counts_unless_given():
    cfg = eisim.Config.default()
    cfg["task.kind"] = "perceptual_decision"
    assert (cfg["populations.in.size"], cfg["populations.out.size"]) == (3, 2)
    cfg.update({"task.kind": "context_integration"})
    assert cfg["populations.in.size"] == 7
    cfg = eisim.Config.default()
    cfg["populations.in.size"] = 3  # given: kept, and named by the refusal
    with pytest.raises(eisim.ConfigError) as e:
        cfg["task.kind"] = "context_integration"
    assert "needs 7" in str(e.value)
    assert cfg["task.kind"] == "teacher_student"  # the refused value changed nothing
