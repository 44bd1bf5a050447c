#!/usr/bin/env python3
"""The fault-injection suite (issue 19): seeded cases of the faults a cluster and a careful user
meet, each checked against what eisim promises (README, "Runs that survive being killed").

  fault_injection.py --eisim BUILD/eisim --shim BUILD/tests/libeisim_enospc_shim.so --work DIR
                     [--cases N] [--seed S] [--timeout SECONDS] [--kinds K1,K2] [--keep]

The cases cycle through these kinds, with parameters drawn from the seed:
  kill           SIGKILL at a random moment of a run (creation included): the file is absent (the
                 start is redone) or resumes to the uninterrupted run's file, dataset for dataset
  kill_resume    SIGKILL of the run, then of its resume, then resume: the uninterrupted file
  two_writers    while a run writes (stopped with SIGSTOP), a second `run --overwrite` and a
                 `--resume` of its file: both exit 2 naming the holder; the writer ends as if alone
  enospc         a full disk (the LD_PRELOAD shim fails writes with ENOSPC after a byte budget and
                 reports the budget's rest as the disk's free space): exit 4 naming the disk, then a
                 resume after space is freed ends in the uninterrupted file
  enospc_blind   the same with a free space that does not shrink (a quota): exit 4 naming the
                 disk; the resume ends in the uninterrupted file or exits 2 calling the file
                 damaged, whose committed snapshots still analyse
  fsize          a file-size limit (RLIMIT_FSIZE): exit 4 naming the limit, then the resume without
                 it ends in the uninterrupted file
  tmpfs          a real small disk, where mounting is allowed (root with CAP_SYS_ADMIN; elsewhere
                 the kind is left out, and the suite says so): the run writes on a tmpfs of a
                 random size: exit 0 with the uninterrupted file, or exit 4 naming the disk; then
                 the tmpfs is enlarged (space freed) and the resume ends in the uninterrupted file
  damaged        a copy of a finished run with 1 to 200 bytes flipped, given to analyze, export csv,
                 export sonata, observe and --resume: exit 0 or 2
  bad_config     a mutated config (characters deleted or repeated, values replaced by others of any
                 type, very long integers, deep nesting): exit 0 or 2
Every command must end within --timeout (no hang) and never by a signal (no crash). Exit 0 when
every case keeps its promise, 1 when one does not (each is printed), 77 when h5py is missing.
"""
import argparse
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))

SETS = ["populations.E.size=80", "populations.I.size=20", "task.duration_ms=200", "task.batch=4", "training.steps=150",
        "training.record_every=3", "plasticity.momentum=0.9"]
KINDS = ["kill", "kill_resume", "two_writers", "enospc", "enospc_blind", "fsize", "tmpfs", "damaged", "bad_config"]


class Suite:
    def __init__(self, a):
        self.a = a
        self.counts = {k: [0, 0] for k in KINDS}  # kept, broken
        self.broken = []
        self.run_args = [x for s in SETS for x in ("--set", s)]

    # ---- running eisim -----------------------------------------------------------------------------

    def call(self, args, env=None, preexec=None):
        """(exit code, stderr + stdout) of one eisim command; a hang or a crash is a broken promise."""
        t0 = time.monotonic()
        try:
            p = subprocess.run([self.a.eisim, *args], capture_output=True, timeout=self.a.timeout,
                               env=dict(os.environ, **(env or {})), preexec_fn=preexec)
        except subprocess.TimeoutExpired:
            raise Broken(f"eisim {' '.join(args)} did not end within {self.a.timeout} s (a hang)")
        try:  # every message is UTF-8, whatever bytes the input held
            err, out = p.stderr.decode("utf-8"), p.stdout.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Broken(f"eisim {' '.join(args)} wrote what is not UTF-8 ({e}): {(p.stderr + p.stdout)[-300:]!r}")
        if p.returncode < 0:
            raise Broken(f"eisim {' '.join(args)} died of signal {-p.returncode} after {time.monotonic() - t0:.1f} s (a crash): "
                         f"{err[-500:]}")
        return p.returncode, err + out

    def start(self, out, env=None):
        return subprocess.Popen([self.a.eisim, "run", "-q", *self.run_args, "--out", out], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})))

    @staticmethod
    def wait_for_file(proc, out):
        """Until the run's file appears at its path (after its first checkpoint) or the run ends."""
        while not os.path.exists(out) and proc.poll() is None:
            time.sleep(0.005)

    def finish(self, proc, what):
        try:
            _, err = proc.communicate(timeout=self.a.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise Broken(f"{what} did not end within {self.a.timeout} s (a hang)")
        if proc.returncode < 0 and proc.returncode != -signal.SIGKILL:
            raise Broken(f"{what} died of signal {-proc.returncode} (a crash): {err[-500:]}")
        return proc.returncode, err

    def expect_reference(self, out, what):
        from h5diff import differences

        d = differences(out, self.ref)
        if d:
            raise Broken(f"{what}: the file differs from the uninterrupted run's: {d[:5]}")

    def complete(self, out, what):
        """A stopped run ends, by --resume where its file exists (else by starting again), in the
        uninterrupted run's file."""
        if os.path.exists(out):
            rc, msg = self.call(["run", "-q", "--resume", out])
            if rc != 0:
                raise Broken(f"{what}: --resume exited {rc}: {msg[-400:]}")
        else:
            rc, msg = self.call(["run", "-q", *self.run_args, "--out", out])
            if rc != 0:
                raise Broken(f"{what}: starting again exited {rc}: {msg[-400:]}")
        self.expect_reference(out, what)

    # ---- the cases ---------------------------------------------------------------------------------

    def kill(self, rng, out):
        p = self.start(out)
        time.sleep(rng.uniform(0, 1.3) * self.ref_seconds)
        p.kill()
        self.finish(p, "the killed run")
        self.complete(out, "after SIGKILL")
        return "killed"

    def kill_resume(self, rng, out):
        p = self.start(out)
        self.wait_for_file(p, out)
        time.sleep(rng.uniform(0, 0.6) * self.ref_seconds)
        p.kill()
        self.finish(p, "the killed run")
        if os.path.exists(out):
            r = subprocess.Popen([self.a.eisim, "run", "-q", "--resume", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(rng.uniform(0, 0.5) * self.ref_seconds)
            r.kill()
            self.finish(r, "the killed resume")
        self.complete(out, "after SIGKILL of the run and of its resume")
        return "killed twice"

    def two_writers(self, rng, out):
        p = self.start(out)
        self.wait_for_file(p, out)
        p.send_signal(signal.SIGSTOP)
        try:
            for args in (["run", "-q", *self.run_args, "--out", out, "--overwrite"], ["run", "-q", "--resume", out]):
                rc, msg = self.call(args)
                if rc != 2 or str(p.pid) not in msg:
                    raise Broken(f"a second writer ({' '.join(args[:3])}...) of a file being written exited {rc} without naming "
                                 f"the holder (pid {p.pid}): {msg[-300:]}")
        finally:
            p.send_signal(signal.SIGCONT)
        rc, err = self.finish(p, "the first writer")
        if rc != 0:
            raise Broken(f"the first writer exited {rc}: {err[-300:]}")
        self.expect_reference(out, "the first writer's file")
        return "refused"

    def enospc(self, rng, out, blind=False):
        budget = int(rng.uniform(0.05, 1.2) * self.ref_size)
        env = {"LD_PRELOAD": self.a.shim, "EISIM_SHIM_BUDGET": str(budget), "EISIM_SHIM_STATVFS": "0" if blind else "1"}
        rc, msg = self.call(["run", "-q", *self.run_args, "--out", out], env=env)
        if rc == 0:
            self.expect_reference(out, f"a run within its budget of {budget} bytes")
            return "fitted"
        if rc != 4 or "no space left on the disk" not in msg:
            raise Broken(f"a full disk (budget {budget} bytes) ended with exit {rc}, not 4 naming the disk: {msg[-400:]}")
        if blind and os.path.exists(out):
            rc, msg = self.call(["run", "-q", "--resume", out])
            if rc == 2 and "damaged" in msg:
                rc, amsg = self.call(["analyze", out])
                if rc not in (0, 2):
                    raise Broken(f"analyze of a damaged file exited {rc}: {amsg[-300:]}")
                return "damaged, named"
            if rc != 0:
                raise Broken(f"--resume after a quota exited {rc}: {msg[-400:]}")
            self.expect_reference(out, "resumed after a quota")
            return "resumed"
        self.complete(out, f"after a full disk (budget {budget} bytes)")
        return "exit 4, resumed"

    def fsize(self, rng, out):
        limit = int(rng.uniform(0.05, 1.2) * self.ref_size)

        def lower():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        rc, msg = self.call(["run", "-q", *self.run_args, "--out", out], preexec=lower)
        if rc == 0:
            self.expect_reference(out, f"a run within the file-size limit of {limit} bytes")
            return "fitted"
        if rc != 4 or "file-size limit" not in msg:
            raise Broken(f"a file-size limit of {limit} bytes ended with exit {rc}, not 4 naming the limit: {msg[-400:]}")
        self.complete(out, f"after a file-size limit of {limit} bytes")
        return "exit 4, resumed"

    @staticmethod
    def mount_tmpfs(where, size):
        """Mount a tmpfs of `size` bytes at `where`; None, or why it cannot be done here."""
        os.makedirs(where, exist_ok=True)
        try:
            p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", where], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            return str(e)
        return None if p.returncode == 0 else (p.stderr.strip() or f"mount exited {p.returncode}")

    @staticmethod
    def unmount(where):
        subprocess.run(["umount", where], capture_output=True, timeout=30)

    def tmpfs(self, rng, out):
        disk = out + ".disk"
        size = max(4096, int(rng.uniform(0.01, 2.0) * self.ref_size))
        why = self.mount_tmpfs(disk, size)
        if why:
            raise Broken(f"a tmpfs of {size} bytes could not be mounted although one could at the start: {why}")
        try:
            on_disk = os.path.join(disk, "run.h5")
            rc, msg = self.call(["run", "-q", *self.run_args, "--out", on_disk])
            if rc == 0:
                self.expect_reference(on_disk, f"a run on a tmpfs of {size} bytes")
                return "fitted"
            if rc != 4 or "no space left on the disk" not in msg:
                raise Broken(f"a full tmpfs ({size} bytes) ended with exit {rc}, not 4 naming the disk: {msg[-400:]}")
            # Space freed: the same disk, larger.
            p = subprocess.run(["mount", "-o", f"remount,size={4 * self.ref_size + (1 << 20)}", disk], capture_output=True, text=True, timeout=30)
            if p.returncode != 0:
                raise Broken(f"the tmpfs could not be enlarged: {p.stderr.strip()}")
            self.complete(on_disk, f"after a full tmpfs ({size} bytes)")
            return "exit 4, resumed"
        finally:
            self.unmount(disk)

    def damaged(self, rng, out):
        shutil.copyfile(self.ref, out)
        size = os.path.getsize(out)
        n = rng.randint(1, 200)
        with open(out, "r+b") as f:
            for _ in range(n):
                at = rng.randrange(size)
                f.seek(at)
                b = f.read(1)
                f.seek(at)
                f.write(bytes([b[0] ^ (1 << rng.randrange(8))]))
        codes = []
        for args in (["analyze", out], ["export", "csv", out, "--out", out + ".csv"], ["export", "sonata", out, "--out", out + ".sonata"],
                     ["observe", out, "--out", out + ".table.h5"], ["run", "-q", "--resume", out]):
            rc, msg = self.call(args)
            if rc not in (0, 2):
                raise Broken(f"{args[0]} of a file with {n} flipped bytes exited {rc}: {msg[-300:]}")
            codes.append(rc)
        return f"{n} bytes flipped: exits {codes}"

    def bad_config(self, rng, out):
        text = self.config_text
        lines = text.splitlines()
        how = rng.choice(["delete", "repeat", "value", "long_int", "nesting", "garbage"])
        if how == "delete":
            for _ in range(rng.randint(1, 5)):
                at = rng.randrange(len(text))
                text = text[:at] + text[at + 1:]
        elif how == "repeat":
            k = rng.randrange(len(lines))
            lines.insert(k, lines[k])
            text = "\n".join(lines)
        elif how in ("value", "long_int"):
            keyed = [i for i, l in enumerate(lines) if " = " in l]
            k = rng.choice(keyed)
            key = lines[k].split(" = ")[0]
            value = ("9" * rng.randint(19, 40)) if how == "long_int" else rng.choice(
                ["-1", "0", "1e308", "-1e308", "nan", "inf", '""', '"x"', "[]", "[[1, 2], [3]]", "{ a = 1 }", "true", "1979-05-27",
                 '"' + "é" * 50 + '"', "0x7fffffffffffffff", "1_000", "+0.0", "[\"E\", 3]"])
            lines[k] = f"{key} = {value}"
            text = "\n".join(lines)
        elif how == "nesting":
            d = rng.choice([10, 200, 2000, 10000])
            text += f"\n[extra]\nv = {'[' * d}{']' * d}\n"
        else:
            at = rng.randrange(len(text))
            text = text[:at] + "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randint(1, 20))) + text[at:]
        path = out + ".toml"
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(text)
        rc, msg = self.call(["config", path])
        if rc not in (0, 2):
            raise Broken(f"a config ({how}) gave exit {rc}: {msg[-300:]}")
        return f"{how}: exit {rc}"

    # ---- the suite ---------------------------------------------------------------------------------

    def unmount_all(self, root):
        root = os.path.abspath(root)
        try:
            with open("/proc/mounts") as f:
                points = [line.split()[1] for line in f]
        except OSError:
            return
        for m in points:
            if m.startswith(root + os.sep):
                self.unmount(m)

    def run(self):
        a = self.a
        self.unmount_all(a.work)  # a tmpfs a killed suite left mounted
        shutil.rmtree(a.work, ignore_errors=True)
        os.makedirs(a.work)
        self.ref = os.path.join(a.work, "reference.h5")
        t0 = time.monotonic()
        rc, msg = self.call(["run", "-q", *self.run_args, "--out", self.ref])
        if rc != 0:
            print(f"FAIL: the reference run exited {rc}: {msg}")
            return 1
        self.ref_seconds = time.monotonic() - t0
        self.ref_size = os.path.getsize(self.ref)
        self.config_text = self.call(["config", *self.run_args])[1]
        print(f"reference run: {self.ref_seconds:.2f} s, {self.ref_size} bytes; {a.cases} cases, seed {a.seed}", flush=True)
        rng = random.Random(a.seed)
        kinds = a.kinds.split(",") if a.kinds else list(KINDS)
        if "tmpfs" in kinds:
            probe = os.path.join(a.work, "probe.disk")
            why = self.mount_tmpfs(probe, 1 << 16)
            if why:
                kinds.remove("tmpfs")
                print(f"tmpfs: left out, mounting is not allowed here ({why})", flush=True)
            else:
                self.unmount(probe)
        if not kinds:
            print("FAIL: no kind of case can run here")
            return 1
        for i in range(a.cases):
            kind = kinds[i % len(kinds)]
            out = os.path.join(a.work, f"case{i}.h5")
            try:
                what = getattr(self, kind)(rng, out) if kind != "enospc_blind" else self.enospc(rng, out, blind=True)
                self.counts[kind][0] += 1
                print(f"ok    {i:4d} {kind:12s} {what}", flush=True)
            except Broken as e:
                self.counts[kind][1] += 1
                self.broken.append(f"case {i} ({kind}): {e}")
                print(f"FAIL  {i:4d} {kind:12s} {e}", flush=True)
                if a.keep:
                    continue
            for f in os.listdir(a.work):
                if f.startswith(f"case{i}."):
                    p = os.path.join(a.work, f)
                    shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
        print("\nkind          kept  broken")
        for k, (ok, bad) in self.counts.items():
            if ok + bad == 0:
                continue
            print(f"{k:12s} {ok:5d} {bad:7d}")
        print(f"{a.cases - len(self.broken)} of {a.cases} cases kept their promise")
        return 1 if self.broken else 0


class Broken(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eisim", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--cases", type=int, default=48)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--kinds", default="", help=f"comma-separated kinds to cycle through (default: all of {','.join(KINDS)})")
    ap.add_argument("--keep", action="store_true", help="keep the files of a broken case in --work")
    a = ap.parse_args()
    bad = [k for k in a.kinds.split(",") if k and k not in KINDS]
    if bad:
        ap.error(f"unknown kind(s) {', '.join(bad)}; the kinds are {', '.join(KINDS)}")
    try:
        import h5py  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (apt-get install python3-h5py)")
        return 77
    return Suite(a).run()


if __name__ == "__main__":
    sys.exit(main())
