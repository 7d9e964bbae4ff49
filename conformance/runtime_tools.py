#!/usr/bin/env python3
"""Run the OCI runtime-tools validation suite against husk.

Usage: conformance/runtime_tools.py [--husk PATH] [--work DIR] [--expected FILE] [--no-build]
                                    [NAME...]

The suite comes from RUNTIME_TOOLS_SRC: a runtime-tools source tree (a clone of
upstream at the pinned commit) or a tarball of one; by default the snapshot in
../shared/conformance/. It is built once per source into --work (Go >= 1.21,
modules vendored, nothing downloaded), then every validation/NAME/NAME.t runs
from the tree root with RUNTIME pointing at a wrapper that gives husk a
private --root, so no run sees another's containers.

A file passes when it exits 0 and prints no "not ok" line (TAP). Files expected
to fail on this host are listed in runtime-tools.expected beside this script
(--expected: another host's list, e.g. runtime-tools-vm.expected for the
AppArmor guest of scripts/vm-test), each with its reason; the run fails on an
unexpected failure and on an unexpected pass, so the list stays exact.
--no-build: use the suite already built in --work (a guest without Go, or a
run that must not spend minutes building), and fail if there is none.

After each file, whatever it left is removed: containers in its root
(delete --force), the root itself, and the suite's own cgroups (/cgrouptest
and testdir/cgrouptest/container, under each hierarchy's root; husk never
places a cgroup relative to the caller's own).
"""

import argparse
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
DEFAULT_SRC = os.path.join(SOURCE, "..", "shared", "conformance", "runtime-tools-5e63903.tar.gz")
EXPECTED = os.path.join(HERE, "runtime-tools.expected")
GO_DIRS = ["/usr/lib/go-1.23/bin", "/usr/lib/go-1.22/bin", "/usr/lib/go-1.21/bin"]
# The suite's own cgroup paths (runtime-tools cgroups/cgroups.go), relative
# to a hierarchy's root; deepest first for rmdir.
SUITE_CGROUPS = ["testdir/cgrouptest/container", "testdir/cgrouptest", "testdir", "cgrouptest"]
FILE_TIMEOUT = 180


def log(msg):
    print(f"conformance: {msg}", flush=True)


def mounted_v1_controllers():
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            post = line.partition(" - ")[2].split(" ")
            if post and post[0] == "cgroup":
                out.update(post[2].strip().split(","))
    return out


def read_expected(path):
    """NAME: reason lines; '#' starts a comment line. A reason starting with
    "without CONTROLLER:" applies only while no v1 hierarchy of CONTROLLER is
    mounted (the file is expected to pass on a host that has one)."""
    out = {}
    have = mounted_v1_controllers()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, reason = line.partition(":")
            if not sep or not reason.strip():
                sys.exit(f"{path}:{n}: expected 'NAME: reason', got {line!r}")
            reason = reason.strip()
            m = re.match(r"without (\S+): (.*)", reason)
            if m:
                if m.group(1) in have:
                    continue
                reason = m.group(2)
            out[name.strip()] = reason
    return out


def go_env(work):
    env = dict(os.environ)
    for d in GO_DIRS:
        if os.path.exists(os.path.join(d, "go")):
            env["PATH"] = d + ":" + env["PATH"]
            break
    else:
        if not shutil.which("go"):
            sys.exit("conformance: no Go toolchain (golang-1.23-go from bookworm-backports)")
    env.update(GOFLAGS="-mod=vendor", GOPROXY="off", GOTOOLCHAIN="local",
               GOCACHE=os.path.join(work, "go-build-cache"), CGO_ENABLED="0")
    return env


def source_key(src):
    """Identifies a source so the build is redone only when it changes."""
    if os.path.isfile(src):
        h = hashlib.sha256()
        with open(src, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return "tar:" + h.hexdigest()
    rev = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True)
    return "dir:" + os.path.abspath(src) + ":" + (rev.stdout.strip() or str(os.stat(src).st_mtime))


def build_suite(src, work, build=True):
    """Returns the built tree (the directory holding validation/)."""
    tree = os.path.join(work, "runtime-tools")
    stamp = os.path.join(work, "built-from")
    key = source_key(src)
    if os.path.exists(stamp) and open(stamp).read() == key:
        return tree
    if not build:
        sys.exit(f"conformance: --no-build, and {work} holds no suite built from {src}")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    if os.path.isfile(src):
        tmp = tempfile.mkdtemp(dir=work)
        subprocess.run(["tar", "xzf", src, "-C", tmp], check=True)
        top = [d for d in os.listdir(tmp) if os.path.isdir(os.path.join(tmp, d))]
        if len(top) != 1:
            sys.exit(f"conformance: {src}: expected one top directory, got {top}")
        os.rename(os.path.join(tmp, top[0]), tree)
        os.rmdir(tmp)
    else:
        shutil.copytree(src, tree, symlinks=True)
    t0 = time.monotonic()
    env = go_env(work)
    jobs = str(os.cpu_count() or 2)
    for target in (["runtimetest"], ["-j" + jobs, "validation-executables"]):
        r = subprocess.run(["make"] + target, cwd=tree, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout + r.stderr)
            sys.exit(f"conformance: building the suite failed (make {' '.join(target)})")
    with open(stamp, "w") as f:
        f.write(key)
    log(f"built the suite in {time.monotonic() - t0:.0f} s")
    return tree


def cgroup_roots():
    """Mount points of every cgroup hierarchy (v1 controllers and cgroup2)."""
    roots = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split(" ", 1)[0] in ("cgroup", "cgroup2"):
                roots.append(pre.split(" ")[4])
    return roots


def remove_suite_cgroups():
    left = []
    for root in cgroup_roots():
        for rel in SUITE_CGROUPS:
            d = os.path.join(root, rel)
            if not os.path.isdir(d) or "process_api" in d:
                continue
            left.append(d)
            try:
                os.rmdir(d)
            except OSError as e:
                log(f"could not remove {d}: {e}")
    return left


def clean_root(husk, root):
    """delete --force every container the file left; returns their ids."""
    ids = []
    if os.path.isdir(root):
        r = subprocess.run([husk, "--root", root, "list", "-q"], capture_output=True, text=True)
        ids = r.stdout.split()
        for cid in ids:
            subprocess.run([husk, "--root", root, "delete", "--force", cid], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    return ids


def orphan_error(out):
    """The suite's lifecycle files (hooks, poststart, ...) report a failed
    container run as a YAML diagnostic with an "error" key outside any test
    point, then an empty plan, and exit 0: that is a failure, not a pass.
    Returns the error text, or None."""
    attached = False
    block = None
    for line in out.splitlines():
        if re.match(r"(not )?ok\b", line):
            attached = True
        elif line.strip() == "---" and line.startswith(" "):
            block = [] if not attached else None
        elif line.strip() == "..." and line.startswith(" "):
            if block is not None:
                m = re.search(r'"error":\s*"([^"]*)"', "\n".join(block))
                if m:
                    return m.group(1)
            block = None
            attached = False
        elif block is not None:
            block.append(line)
    return None


def become_subreaper():
    """The suite's containers outlive the `create` that made them; without a
    subreaper they are reparented to PID 1, and a PID 1 that does not reap
    (a container's, a VM supervisor's) keeps them as zombies forever, each
    pinning its cgroups. With PR_SET_CHILD_SUBREAPER they come to us."""
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log(f"prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}")


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run_file(tree, name, husk, work):
    root = tempfile.mkdtemp(prefix=f"root-{name}-", dir=work)
    os.rmdir(root)  # husk makes its root itself, as on a first run
    wrapper = os.path.join(work, f"husk-{name}")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec "{husk}" --root "{root}" "$@"\n')
    os.chmod(wrapper, 0o755)
    exe = os.path.join("validation", name, name + ".t")
    env = dict(os.environ, RUNTIME=wrapper)
    t0 = time.monotonic()
    try:
        r = subprocess.run([exe], cwd=tree, env=env, capture_output=True, text=True,
                           timeout=FILE_TIMEOUT, stdin=subprocess.DEVNULL)
        rc, out, err = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or "", e.stderr or ""
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    secs = time.monotonic() - t0
    left = clean_root(husk, root)
    reap_orphans()
    cgs = remove_suite_cgroups()
    os.unlink(wrapper)
    not_ok = [l for l in out.splitlines() if re.match(r"\s*not ok\b", l)]
    oks = [l for l in out.splitlines() if re.match(r"\s*ok\b", l)]
    orphan = orphan_error(out)
    passed = rc == 0 and not not_ok and orphan is None
    detail = ""
    if not passed:
        if not_ok:
            detail = not_ok[0].strip()
        elif orphan is not None:
            detail = "error outside any test: " + orphan
        else:
            detail = (err.strip().splitlines() or [f"exit {rc}"])[-1]
    return dict(name=name, passed=passed, rc=rc, secs=secs, oks=len(oks), not_ok=len(not_ok),
                detail=detail, out=out, err=err, left=left, cgroups=cgs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--husk", default=os.environ.get("HUSK_BIN"))
    ap.add_argument("--work", default=os.environ.get("RUNTIME_TOOLS_WORK"))
    ap.add_argument("--logs", help="write each file's TAP output and stderr here")
    ap.add_argument("--expected", default=EXPECTED,
                    help="the list of files expected to fail (default: runtime-tools.expected)")
    ap.add_argument("--no-build", action="store_true",
                    help="use the suite already built in --work; never build it")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("conformance: the suite runs as root")
    become_subreaper()
    husk = a.husk or os.path.join(SOURCE, "build", "husk")
    if not os.access(husk, os.X_OK):
        sys.exit(f"conformance: no husk binary at {husk} (--husk or HUSK_BIN)")
    husk = os.path.abspath(husk)
    src = os.path.abspath(os.environ.get("RUNTIME_TOOLS_SRC", DEFAULT_SRC))
    if not os.path.exists(src):
        sys.exit(f"conformance: no runtime-tools source at {src} (set RUNTIME_TOOLS_SRC)")
    work = os.path.abspath(a.work or os.path.join(os.path.dirname(husk), "runtime-tools-work"))
    tree = build_suite(src, work, build=not a.no_build)
    all_names = sorted(d for d in os.listdir(os.path.join(tree, "validation"))
                       if os.path.exists(os.path.join(tree, "validation", d, d + ".t")))
    expected = read_expected(a.expected)
    unknown = sorted(set(expected) - set(all_names))
    if unknown:
        sys.exit(f"conformance: {a.expected} names files the suite does not have: {unknown}")
    names = a.names or all_names
    results = []
    for name in names:
        if name not in all_names:
            sys.exit(f"conformance: no validation file {name!r}")
        res = run_file(tree, name, husk, work)
        results.append(res)
        if a.logs:
            os.makedirs(a.logs, exist_ok=True)
            with open(os.path.join(a.logs, name + ".log"), "w") as f:
                f.write(f"exit: {res['rc']}\n--- stdout\n{res['out']}\n--- stderr\n{res['err']}")
    return report(results, expected, os.path.basename(a.expected))


def report(results, expected, expected_name):
    bad = []
    print(f"{'file':36} {'result':8} {'ok':>4} {'not ok':>6} {'secs':>5}  note")
    for r in results:
        reason = expected.get(r["name"])
        flaky = reason is not None and reason.startswith("flaky:")
        exp_fail = reason is not None and not flaky
        if r["passed"]:
            verdict = "PASS"
            note = f"UNEXPECTED PASS: remove it from {expected_name}" if exp_fail else ""
            note = "flaky, passed this time" if flaky else note
        else:
            verdict = "xfail" if reason is not None else "FAIL"
            note = reason if reason is not None else r["detail"]
        if r["left"]:
            note += f" [left containers: {' '.join(r['left'])}]"
        if (r["passed"] and exp_fail) or (not r["passed"] and reason is None):
            bad.append(r)
        print(f"{r['name']:36} {verdict:8} {r['oks']:>4} {r['not_ok']:>6} {r['secs']:5.1f}  {note[:150]}")
    for r in bad:
        if not r["passed"]:
            print(f"\n--- {r['name']} (exit {r['rc']}): unexpected failure\n{r['out'][-3000:]}\n"
                  f"--- stderr\n{r['err'][-2000:]}")
    npass = sum(r["passed"] for r in results)
    nfail = len(results) - npass
    nexp = sum(1 for r in results if not r["passed"] and r["name"] in expected)
    print(f"runtime-tools: {npass} of {len(results)} files pass; {nexp} failures expected on this "
          f"host; {len(bad)} unexpected")
    print(f"{npass} passed, {nfail} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
