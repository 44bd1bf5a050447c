#!/usr/bin/env python3
"""eisim sweep end to end, as a user meets it: a 12-run sweep (2 geometries x 2 credit rules x
3 seeds of examples/perceptual_decision.toml) is stopped part way and run again, and must end with
every run done, a manifest row per run that matches its status file and its run file, and each run
file equal, dataset for dataset and attribute for attribute (the creation time and the software's
version and revision aside), to a direct `eisim run` of the same config.

  sweep_e2e.py --eisim BUILD/eisim --source SOURCE_DIR --work DIR --engine mpi|local

  mpi:   `mpirun -n 3 --oversubscribe eisim sweep run`, its whole process group killed with
         SIGKILL once a few runs are done, then the same command again.
  local: `eisim sweep run --jobs 2` stopped by SIGTERM (the runs finish their step and exit 143;
         the sweep exits 143), then the same command resumes them from their checkpoints; and two
         shards (--shard 1/2, 2/2) run at once into one directory.
Exit 0 when every check passes, 1 when one fails, 77 when h5py/numpy (or, for mpi, mpirun) is missing.
"""
import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from h5diff import differences  # noqa: E402

SWEEP = """base = "{base}"
[set]
"training.steps" = {steps}
"task.batch" = 16
[grid]
"plasticity.geometry" = ["eg", "euclidean"]
"plasticity.credit" = ["exact", "rflo"]
"training.seed" = {{ range = [1, 3] }}
"""
KEYS = ["plasticity.geometry", "plasticity.credit", "training.seed"]

failures = []


def check(ok, what):
    print(("ok:   " if ok else "FAIL: ") + what, flush=True)
    if not ok:
        failures.append(what)


def kill_session(sid):
    """SIGKILL every process of session `sid` (mpirun puts its ranks in process groups of their own)."""
    for _ in range(50):
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":  # field 6 of stat: the session
                found.append(int(pid))
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def manifest(dir_):
    with open(os.path.join(dir_, "manifest.csv"), newline="") as f:
        return list(csv.DictReader(f))


def statuses(dir_):
    out = {}
    sdir = os.path.join(dir_, "status")
    for name in os.listdir(sdir) if os.path.isdir(sdir) else []:
        if name.endswith(".json"):
            try:
                with open(os.path.join(sdir, name)) as f:
                    s = json.load(f)
                out[s["id"]] = s
            except (OSError, ValueError):
                pass  # being replaced: status files are renamed into place, never seen half-written
    return out


def wait_until(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    check(False, f"{what} within {timeout} s")
    return False


def check_finished(a, dir_, direct_dir, env, label):
    """Every run done; manifest = status files = run files; each run file = a direct eisim run."""
    rows = manifest(dir_)
    st = statuses(dir_)
    check(len(rows) == 12, f"{label}: the manifest has a row per run ({len(rows)})")
    check(all(r["status"] == "done" for r in rows), f"{label}: every run done: {[r['status'] for r in rows]}")
    check(sorted(r["id"] for r in rows) == sorted(st), f"{label}: a status file per manifest row")
    import h5py

    os.makedirs(direct_dir, exist_ok=True)
    for r in rows:
        run = os.path.join(dir_, "runs", r["id"] + ".h5")
        s = st.get(r["id"], {})
        check(s.get("status") == r["status"] and int(r["attempts"]) == s.get("attempts"),
              f"{label}: {r['id']}: the manifest row is its status file")
        with h5py.File(run, "r") as f:
            loss = float(f["trajectory/loss"][()].ravel()[-1])
            acc = float(f["trajectory/accuracy"][()].ravel()[-1])
        check(abs(float(r["final_loss"]) - loss) <= 1e-8 * abs(loss) and abs(float(r["final_accuracy"]) - acc) <= 1e-8,
              f"{label}: {r['id']}: final loss and accuracy in the manifest are the run file's")
        # The same config run directly: base + the fixed overrides + this run's values.
        direct = os.path.join(direct_dir, r["id"] + ".h5")
        if not os.path.exists(direct):
            sets = [f"training.steps={a.steps}", "task.batch=16"] + [f"{k}={r[k]}" for k in KEYS]
            cmd = [a.eisim, "run", a.base, "--out", direct, "--quiet", "--threads", "1"]
            for s_ in sets:
                cmd += ["--set", s_]
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            check(p.returncode == 0, f"direct run of {r['id']}: {p.stderr.strip()}")
        d = differences(run, direct)
        check(not d, f"{label}: {r['id']} ({', '.join(r[k] for k in KEYS)}) equals a direct eisim run" + (f": {d[:3]}" if d else ""))


def run_mpi(a, env):
    mpirun = shutil.which("mpirun")
    if not mpirun:
        print("skipped: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)")
        return 77
    env = dict(env, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
    dir_ = os.path.join(a.work, "mpi")
    cmd = [mpirun, "-n", "3", "--oversubscribe", a.eisim, "sweep", "run", a.sweep, "--out", dir_]
    log = open(os.path.join(a.work, "mpi-first.log"), "w")
    p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def some_done_some_running():
        s = statuses(dir_).values()
        return sum(x["status"] == "done" for x in s) >= 3 and any(x["status"] == "running" for x in s)

    killed_mid_run = wait_until(some_done_some_running, 120, "3 runs done and one running under mpirun")
    kill_session(p.pid)  # mpirun, every rank and every run, at once
    p.wait()
    log.close()
    before = statuses(dir_)
    check(killed_mid_run and any(s["status"] == "running" for s in before.values()), "the kill left runs running (status files)")
    done_before = {i for i, s in before.items() if s["status"] == "done"}

    p2 = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    print(p2.stdout[-3000:], p2.stderr[-2000:])
    check(p2.returncode == 0, f"the same mpirun again ends with exit code 0 ({p2.returncode})")
    rows = manifest(dir_)
    check({r["rank"] for r in rows} - {""} <= {"0", "1", "2"} and len({r["rank"] for r in rows}) >= 2,
          f"runs spread over the ranks: {sorted({r['rank'] for r in rows})}")
    check(all(r["host"] for r in rows), "every row names its host")
    after = statuses(dir_)
    check(all(after[i]["attempts"] == before[i]["attempts"] for i in done_before),
          "runs finished before the kill are not run again")
    check(any(after[i]["attempts"] >= 2 for i in before if before[i]["status"] == "running"),
          "a run killed while running was started again")
    check_finished(a, dir_, os.path.join(a.work, "direct"), env, "mpi")
    return 0


def run_local(a, env):
    dir_ = os.path.join(a.work, "local")
    cmd = [a.eisim, "sweep", "run", a.sweep, "--out", dir_, "--jobs", "2"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def two_done_one_checkpointed():
        s = statuses(dir_).values()
        running = [x["id"] for x in s if x["status"] == "running"]
        return sum(x["status"] == "done" for x in s) >= 2 and any(
            os.path.exists(os.path.join(dir_, "runs", i + ".h5")) for i in running)  # past its first checkpoint

    wait_until(two_done_one_checkpointed, 120, "2 runs done and one running past its first checkpoint")
    p.send_signal(signal.SIGTERM)  # the sweep alone: it stops its runs
    out, _ = p.communicate(timeout=120)
    print(out[-2000:])
    check(p.returncode == 143, f"a sweep stopped by SIGTERM exits 143 ({p.returncode})")
    st = statuses(dir_)
    stopped = [i for i, s in st.items() if s["status"] == "pending"]
    check(len(stopped) >= 1 and all(st[i]["exit_code"] == 143 for i in stopped),
          f"its running runs stopped with 143 and are pending ({len(stopped)})")
    # The run waited for was past its first checkpoint and keeps it; another run may have been
    # started just before the signal, with no checkpoint yet (only its .partial): it starts again.
    checkpointed = [i for i in stopped if os.path.exists(os.path.join(dir_, "runs", i + ".h5"))]
    check(len(checkpointed) >= 1, f"the stopped runs past their first checkpoint kept it ({len(checkpointed)} of {len(stopped)})")
    check(not any(s["status"] == "running" for s in st.values()), "nothing is left running")

    p2 = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    print(p2.stdout[-2000:])
    check(p2.returncode == 0, f"the same command again ends with exit code 0 ({p2.returncode})")
    for i in checkpointed:
        with open(os.path.join(dir_, "logs", i + ".log")) as f:
            check("--resume" in f.read(), f"{i} was resumed from its checkpoint")
    check_finished(a, dir_, os.path.join(a.work, "direct"), env, "local")

    # Two shards at once into one directory: disjoint, together everything, one manifest.
    shards = os.path.join(a.work, "shards")
    ps = [subprocess.Popen([a.eisim, "sweep", "run", a.sweep, "--out", shards, "--jobs", "1", "--shard", f"{i}/2"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for i in (1, 2)]
    outs = [q.communicate(timeout=600)[0] for q in ps]
    check(all(q.returncode == 0 for q in ps), f"both shards end with 0: {[q.returncode for q in ps]} {outs[0][-500:]} {outs[1][-500:]}")
    check(all("6 runs" in o for o in outs), "each shard runs 6 of the 12")
    check_finished(a, shards, os.path.join(a.work, "direct"), env, "shards")
    # Again: nothing left to run.
    again = subprocess.run(cmd[:-4] + ["--out", shards], env=env, capture_output=True, text=True, timeout=120)
    check(again.returncode == 0 and "0 to run" in again.stdout, f"a finished sweep run again runs nothing: {again.stdout[:200]}")
    # The summary of the finished sweep (its numbers are tests/sweep/test_summary.cpp's to check).
    summ = subprocess.run([a.eisim, "sweep", "summary", shards, "--analyze", "--no-figure"], env=env, capture_output=True, text=True)
    check(summ.returncode == 0 and os.path.exists(os.path.join(shards, "summary.csv"))
          and os.path.exists(os.path.join(shards, "identification.csv")), f"sweep summary --analyze: {summ.stderr[-300:]}")
    with open(os.path.join(shards, "summary.csv"), newline="") as f:
        total = [r for r in csv.DictReader(f) if r["group"] == "all"]
    check(len(total) == 1 and total[0]["done"] == "12", "the summary counts the 12 done runs")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eisim", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--engine", choices=["mpi", "local"], required=True)
    # Runs long enough (about a second alone) that a signal sent while one runs finds it running.
    ap.add_argument("--steps", type=int, default=120)
    a = ap.parse_args()
    a.eisim, a.source, a.work = (os.path.abspath(x) for x in (a.eisim, a.source, a.work))
    try:
        import h5py  # noqa: F401
        import numpy  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (apt-get install python3-h5py python3-numpy)")
        return 77
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    a.base = os.path.join(a.source, "examples", "perceptual_decision.toml")
    a.sweep = os.path.join(a.work, "sweep.toml")
    with open(a.sweep, "w") as f:
        f.write(SWEEP.format(base=a.base, steps=a.steps))
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    code = run_mpi(a, env) if a.engine == "mpi" else run_local(a, env)
    if code:
        return code
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
