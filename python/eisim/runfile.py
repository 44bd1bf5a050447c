"""Reading run files from Python: eisim.RunFile (h5py underneath; the layout is the README's "Run file").

Weights are read lazily: run.weights("recurrent") is a [T x nnz] array-like whose slices read
only the rows and columns asked for. Only complete snapshots are shown: the committed ones
(/trajectory attribute `committed`, written last for each snapshot), and never more than every
per-snapshot dataset (step, loss, every weight) holds.
"""
import os

import numpy as np


def _text(v):
    """An HDF5 string attribute or element as str (h5py gives bytes for fixed-length strings)."""
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO":
        return [_text(x) for x in v.tolist()]
    return v


def _series(ds, n=None):
    """A per-step series as 1-D (formats 1 to 4 store [T x 1], format 5 [T])."""
    a = ds[()] if n is None else ds[:n]
    return a.reshape(a.shape[0]) if a.ndim == 2 and a.shape[1] == 1 else a


class Weights:
    """The signed weights of one projection at every snapshot: [T x nnz], read on demand.

    w[k] is snapshot k (all synapses), w[:, ids] synapse ids over time, w[-1] the final weights;
    np.asarray(w) reads everything.
    """

    def __init__(self, dataset, rows):
        self._ds = dataset
        self.shape = (rows, dataset.shape[1])
        self.dtype = dataset.dtype

    def __len__(self):
        return self.shape[0]

    @staticmethod
    def _axis(k, n):
        """One axis of a selection for h5py (an int, an increasing slice or list) and the numpy
        index that puts what it reads in the order asked (None: already in order)."""
        if isinstance(k, (int, np.integer)):
            if not -n <= int(k) < n:
                raise IndexError(f"index {int(k)} out of range for {n}")
            return int(k) % n, None
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            if step > 0:
                return slice(start, stop, step), None
            idx = np.arange(start, stop, step)
        else:
            idx = np.asarray(k)
            if idx.dtype == bool:
                if idx.shape != (n,):
                    raise IndexError(f"boolean index of length {idx.shape} for an axis of {n}")
                idx = np.flatnonzero(idx)
            if idx.ndim != 1 or idx.dtype.kind not in "iu":
                raise IndexError("index with an int, a slice, or a 1-D list of ints or booleans")
            if ((idx < -n) | (idx >= n)).any():
                raise IndexError(f"index out of range for {n}")
            idx = idx % n
        if len(idx) == 0:
            return slice(0, 0), None
        uniq, inverse = np.unique(idx, return_inverse=True)
        return uniq.tolist(), inverse

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        if len(key) > 2:
            raise IndexError("Weights has two axes: snapshot and synapse")
        rows, rfix = self._axis(key[0], self.shape[0])
        cols, cfix = self._axis(key[1] if len(key) == 2 else slice(None), self.shape[1])
        if isinstance(rows, list) and isinstance(cols, list):  # h5py takes one list per read
            block = self._ds[rows, :][..., cols]
        else:
            block = self._ds[rows, cols]
        if rfix is not None:
            block = block[rfix]
        if cfix is not None:
            block = block[..., cfix]
        return block

    def __array__(self, dtype=None):
        a = self._ds[: self.shape[0]]
        return a if dtype is None else a.astype(dtype)

    def __repr__(self):
        return f"<eisim.Weights [{self.shape[0]} snapshots x {self.shape[1]} synapses] of {self._ds.name}>"


class RunFile:
    """A run file written by `eisim run`/`simulate` or eisim.train, opened read-only.

        run = eisim.RunFile("run.h5")
        run.steps, run.loss, run.accuracy          # per snapshot (1-D)
        run.weights("recurrent")[-1]               # the final signed weights
        run.training["loss"]                       # per learning step: the loss before step k + 1
        run.network["recurrent"]["pre"]            # synapse lists; run.populations; run.spikes("E")
        run.config["plasticity.geometry"]          # the eisim.Config it was written with
    """

    def __init__(self, path):
        import h5py

        self.path = os.fspath(path)
        self._f = h5py.File(self.path, "r")
        if _text(self._f.attrs.get("format", b"")) != "eisim.run":
            fmt = _text(self._f.attrs.get("format", ""))
            self._f.close()
            raise ValueError(f"'{self.path}' is not an eisim run file (format attribute {fmt!r})")

    def close(self):
        self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def attrs(self):
        """The root attributes (format_version, seed, software_version, git_revision, created_utc, config)."""
        return {k: _text(v) for k, v in self._f.attrs.items()}

    @property
    def format_version(self):
        return int(self._f.attrs["format_version"])

    @property
    def config(self):
        """The eisim.Config the run was written with."""
        from ._eisim import Config

        return Config.from_run(self.path)

    # ---- the learning trajectory -----------------------------------------------------------------

    @property
    def projections(self):
        """The names of the recorded projections, in the file's order."""
        if "trajectory" not in self._f:
            return []
        t = self._f["trajectory"]
        recorded = [k for k in t if hasattr(t[k], "keys") and "weight" in t[k]]  # the groups
        order = _text(self._f["network"].attrs.get("projections", "")).split(",")  # the circuit's order
        return [k for k in order if k in recorded] + sorted(set(recorded) - set(order))

    def _snapshots(self):
        """The complete snapshots: the rows every per-snapshot dataset holds."""
        t = self._f["trajectory"]
        lengths = [t[k].shape[0] for k in ("step", "loss", "accuracy", "heldout_loss", "heldout_accuracy") if k in t]
        lengths += [t[p]["weight"].shape[0] for p in self.projections]
        n = min(lengths) if lengths else 0
        committed = t.attrs.get("committed")  # written last for each snapshot (files from before it lack it)
        return n if committed is None else max(0, min(n, int(committed)))

    def _need_trajectory(self):
        if "trajectory" not in self._f:
            raise KeyError(f"'{self.path}' has no /trajectory (written by `eisim simulate`: no learning)")

    @property
    def steps(self):
        """Learning steps done at each snapshot (0 = before learning), int64."""
        self._need_trajectory()
        return _series(self._f["trajectory/step"], self._snapshots()).astype(np.int64)

    @property
    def loss(self):
        """The loss at each snapshot."""
        self._need_trajectory()
        return _series(self._f["trajectory/loss"], self._snapshots())

    @property
    def accuracy(self):
        """The task's accuracy at each snapshot (choice accuracy or R^2; NaN where not recorded)."""
        self._need_trajectory()
        if "accuracy" not in self._f["trajectory"]:
            return np.full(self._snapshots(), np.nan)
        return _series(self._f["trajectory/accuracy"], self._snapshots())

    @property
    def heldout_accuracy(self):
        """The fraction correct on the decision task's held-out set at each snapshot (training.heldout_trials
        trials never learned from); NaN at the snapshots where it was not measured, and for other tasks."""
        return self._heldout("heldout_accuracy")

    @property
    def heldout_loss(self):
        """The task's loss on the held-out set at each snapshot (NaN where not measured)."""
        return self._heldout("heldout_loss")

    def _heldout(self, name):
        self._need_trajectory()
        if name not in self._f["trajectory"]:
            return np.full(self._snapshots(), np.nan)
        return _series(self._f["trajectory"][name], self._snapshots())

    def weights(self, projection):
        """The signed weights of `projection` at every snapshot, [T x nnz], read lazily (Weights)."""
        self._need_trajectory()
        if projection not in self.projections:
            raise KeyError(f"no projection '{projection}' in '{self.path}'; recorded: {', '.join(self.projections)}")
        return Weights(self._f["trajectory"][projection]["weight"], self._snapshots())

    @property
    def training(self):
        """Per learning step (1-D): loss (before step k + 1), accuracy, learning_rate, held_at_bound."""
        if "training" not in self._f:
            return {}
        return {k: _series(v) for k, v in self._f["training"].items() if hasattr(v, "shape")}

    # ---- the circuit ----------------------------------------------------------------------------

    @property
    def populations(self):
        """One dict per population in the circuit's order: name, model, side, first, size, sign, tau_ms, bias, transfer."""
        g = self._f["network/populations"]
        cols = {k: _text(g[k][()]) for k in g}
        n = len(cols["name"])
        return [{k: (v[i] if isinstance(v, list) else v[i].item()) for k, v in cols.items()} for i in range(n)]

    @property
    def network(self):
        """/network as dicts: the attributes, tau, cell_sign, and per projection pre, post, sign and its attributes."""
        g = self._f["network"]
        out = {k: _text(v) for k, v in g.attrs.items()}
        for k, v in g.items():
            if k == "populations":
                continue
            if hasattr(v, "shape"):
                out[k] = v[()]
            else:
                d = {kk: (_text(vv[()]) if vv.dtype.kind in "SO" else vv[()]) for kk, vv in v.items() if hasattr(vv, "shape")}
                d.update({kk: _text(vv) for kk, vv in v.attrs.items()})
                out[k] = d
        return out

    def spikes(self, population, step=None):
        """Spikes of a spiking population in SONATA's layout: dict of timestamps (ms), node_ids, trial_ids.

        step=None: /spikes (`eisim simulate`) or, for a learning run, the last recorded activity step.
        """
        if step is None and "spikes" in self._f:
            g = self._f["spikes"]
        else:
            if "activity" not in self._f:
                raise KeyError(f"'{self.path}' has no spikes")
            steps = sorted(int(k.split("_")[1]) for k in self._f["activity"] if k.startswith("step_"))
            s = steps[-1] if step is None else int(step)
            if s not in steps:
                raise KeyError(f"no activity at learning step {s} in '{self.path}'; recorded at {steps}")
            g = self._f["activity"][f"step_{s}"].get("spikes")
            if g is None:
                raise KeyError(f"'{self.path}' holds a rate circuit: no spikes")
        if population not in g:
            raise KeyError(f"no spikes of population '{population}'; recorded: {', '.join(g)}")
        p = g[population]
        return {k: p[k][()] for k in ("timestamps", "node_ids", "trial_ids") if k in p}

    def __repr__(self):
        n = self._snapshots() if "trajectory" in self._f else 0
        return f"<eisim.RunFile '{self.path}': {n} snapshots, projections {self.projections}>"
