"""eisim from Python: build, train, read and analyse Dale's-law E/I circuits (docs/python.md).

    import eisim
    cfg = eisim.Config.default()
    cfg["plasticity.geometry"] = "eg"          # validated at once: eisim.ConfigError names the key
    net = eisim.build(cfg)                      # the network: synapses as numpy arrays
    eisim.train(cfg, out="run.h5", callback=lambda step, loss, acc: print(step, loss))
    run = eisim.RunFile("run.h5")               # weights, loss, accuracy, spikes, config (h5py, lazy)
    report = eisim.analyze("run.h5")            # the JSON report of `eisim analyze`, as a dict

The module runs the CLI's own C++ functions: a run written from Python equals the CLI's for the
same config and seed, dataset for dataset.
"""
import json as _json
import os as _os

from . import _eisim
from ._eisim import (Config, ConfigError, DivergenceError, Network, Projection, StorageError, UserError, build, set_threads,
                     threads)
from .runfile import RunFile, Weights

__version__ = _eisim.version
git_revision = _eisim.git_revision

__all__ = ["Config", "ConfigError", "DivergenceError", "Network", "Projection", "RunFile", "StorageError", "UserError", "Weights",
           "analyze", "build", "export_csv", "export_sonata", "observe", "resume", "set_threads", "simulate", "sweep_plan",
           "threads", "train"]


def simulate(config, out, overwrite=False):
    """Build the network and simulate one batch of trials into `out` (as `eisim simulate`)."""
    _eisim.simulate(config, _os.fspath(out), overwrite)


def train(config, out, callback=None, overwrite=False, quiet=True, threads=None):
    """Train the network of `config` and record the run to `out` (as `eisim run`); returns a summary dict.

    callback(step, loss, accuracy) is called for every evaluated state: step = learning steps done
    (0 before learning, config["training.steps"] at the end). The GIL is released while C++ runs and
    taken back once a step for the callback and to check for signals: Ctrl-C (KeyboardInterrupt)
    stops at the end of the step with everything written, and `eisim.resume(out)` continues. An
    exception raised by the callback stops the run the same way and is re-raised.
    threads: the hot products' thread count (results do not depend on it).
    """
    return _eisim.train(config, _os.fspath(out), callback, overwrite, quiet, threads)


def resume(path, callback=None, quiet=True, threads=None):
    """Continue a stopped or killed run from its newest checkpoint (as `eisim run --resume`)."""
    return _eisim.resume(_os.fspath(path), callback, quiet, threads)


def analyze(path, from_step=None, to_step=None, standardize="per-neuron", **measure):
    """The report of `eisim analyze` as a dict (schema eisim.analysis, analysis/README.md).

    measure: the realism transforms of `--observe-synapses` ... as keywords (observe_synapses,
    observe_neurons, noise_multiplicative, noise_additive, detection_threshold, time_points,
    realism_seed).
    """
    return _json.loads(_eisim.analyze_json(_os.fspath(path), from_step, to_step, standardize, **measure))


def export_sonata(run, out_dir, step="last", trajectory=False, overwrite=False, **measure):
    """Write the run's circuit at a snapshot as SONATA (as `eisim export sonata`); returns what was written."""
    return _eisim.export_sonata(_os.fspath(run), _os.fspath(out_dir), str(step), trajectory, overwrite, **measure)


def export_csv(run, out, overwrite=False, **measure):
    """Write one row per synapse and snapshot (as `eisim export csv`); returns the number of rows."""
    return _eisim.export_csv(_os.fspath(run), _os.fspath(out), overwrite, **measure)


def sweep_plan(path):
    """The runs of a sweep file (as `eisim sweep plan`, docs/sweeps.md): a dict with `points`, one per
    distinct run: its `id` (the run file's name in `eisim sweep run`), `combination`, swept
    `values` and validated `config` (an eisim.Config). Run them with `eisim sweep run` (child
    processes, shards, MPI, resumable), or in Python: eisim.train(p["config"], f"{p['id']}.h5").
    """
    return _eisim.sweep_plan(_os.fspath(path))


def observe(inputs, out, noise=0.0, subsample_period=0, probe_trials=32, probe_seed=1, geometry_test=True,
            overwrite=False, quiet=True, **measure):
    """The observables table of `eisim observe` (docs/identify.md) for run files or sweep directories."""
    if isinstance(inputs, (str, bytes)) or hasattr(inputs, "__fspath__"):
        inputs = [inputs]
    return _eisim.observe([_os.fspath(i) for i in inputs], _os.fspath(out), noise, subsample_period, probe_trials,
                          probe_seed, geometry_test, overwrite, quiet, **measure)
