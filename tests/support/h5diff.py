"""Two run files compared dataset for dataset and attribute for attribute, as the tests that
promise "the same file" need it (a resumed run against the uninterrupted one, a sweep's run or a
run from Python against a direct `eisim run`). The creation time and the software's version and
revision, which differ between two writes of the same run, are left aside.
"""
IGNORED_ROOT_ATTRS = {"created_utc", "software_version", "git_revision"}


def differences(a_path, b_path):
    """Every dataset and attribute of two HDF5 files that differs (the ignored root attributes aside)."""
    import h5py
    import numpy as np

    out = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        def attrs(x, y, name, root):
            ka = set(x.attrs) - (IGNORED_ROOT_ATTRS if root else set())
            kb = set(y.attrs) - (IGNORED_ROOT_ATTRS if root else set())
            if ka != kb:
                out.append(f"{name}: attributes {sorted(ka ^ kb)} in one file only")
            for k in ka & kb:
                va, vb = x.attrs[k], y.attrs[k]
                if not np.array_equal(np.asarray(va), np.asarray(vb)):
                    out.append(f"{name}: attribute {k} differs")

        names_a, names_b = [], []
        a.visit(names_a.append)
        b.visit(names_b.append)
        if sorted(names_a) != sorted(names_b):
            out.append(f"objects in one file only: {sorted(set(names_a) ^ set(names_b))}")
        attrs(a, b, "/", True)
        for n in sorted(set(names_a) & set(names_b)):
            x, y = a[n], b[n]
            attrs(x, y, n, False)
            if isinstance(x, h5py.Dataset):
                if x.shape != y.shape or x.dtype != y.dtype:
                    out.append(f"{n}: shape/dtype {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
                elif not np.array_equal(x[()], y[()], equal_nan=x.dtype.kind == "f"):
                    out.append(f"{n}: values differ")
    return out
