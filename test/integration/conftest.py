"""pytest harness for husk's integration tests (run as root by CTest).

Environment: HUSK_BIN (the binary under test), HUSK_PROBE (test/probe/probe.c,
static), HUSK_SOURCE_DIR. Any runc-compatible runtime can be pointed at with
HUSK_BIN, e.g. HUSK_BIN=/usr/sbin/runc to check the tests themselves.

Fixtures:
  husk    runs `HUSK_BIN --root <private dir> ...` -> Result(rc, out, err);
          stdout/stderr go to files (never pipes: a container inherits the
          caller's stdio and would hold a pipe open), so a call returns when
          husk exits.
  bundle  factory: bundle(args=None, patch=None) -> Bundle, a copy of the
          session rootfs (busybox + /probe) with the config from `husk spec`,
          made non-interactive, cgroupsPath /husk-test/<unique>, then patched.

Every test is checked for leftovers after its own cleanup (`delete --force` of
whatever is left in its root): state dirs, host mounts under its directory,
its cgroups, its processes. Leftovers are removed, recorded, and fail the
session at the end (pytest then exits non-zero).
"""

import copy
import itertools
import json
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import helpers as h

_counter = itertools.count(1)
_LEAKS = []  # (nodeid, [descriptions])


# ---- session --------------------------------------------------------------

@pytest.fixture(scope="session")
def session_dir():
    h.skip_unless("root")
    base = os.environ.get("HUSK_TEST_TMP", "/tmp")
    d = tempfile.mkdtemp(prefix=f"husk-it-{h.TAG}-", dir=base)
    os.chmod(d, 0o755)
    yield d
    if h.mounts_under(d):
        h.unmount_all_under(d)
    if not h.mounts_under(d):
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _session_leak_check(session_dir):
    """Runs first and ends last: makes us the subreaper of detached
    containers, then fails the session if anything was left behind."""
    h.set_child_subreaper()
    yield
    h.reap_orphans()
    leaks = list(_LEAKS)
    late = [d for _, d in h.marked_pids(prefix=f"{h.TAG}.")]
    late += h.cgroup_dirs(f"{h.TAG}-*")
    late += [f"mount {m}" for m in h.mounts_under(session_dir)]
    if late:
        leaks.append(("<session end>", late))
        h.kill_pids(p for p, _ in h.marked_pids(prefix=f"{h.TAG}."))
        h.reap_orphans()
        h.remove_cgroups(h.cgroup_dirs(f"{h.TAG}-*"))
        h.unmount_all_under(session_dir)
    # The tests' shared parent cgroup: some tests make it themselves on
    # purpose (husk must leave a parent it did not make), and podman's and
    # containerd's husk roots keep registries of their own, so no delete
    # takes it away. Removed here once empty (rmdir refuses otherwise).
    for d in glob.glob(f"{h.CGROUP_ROOT}/*/{h.CGROUP_PARENT}") + [
            f"{h.CGROUP_ROOT}/{h.CGROUP_PARENT}"]:
        try:
            os.rmdir(d)
        except OSError:
            pass
    if leaks:
        lines = [f"{nodeid}: {item}" for nodeid, items in leaks for item in items]
        pytest.fail("LEAK CHECK: husk left these behind:\n  " + "\n  ".join(lines),
                    pytrace=False)


@pytest.fixture(scope="session")
def rootfs_template(session_dir):
    """scripts/mkrootfs output plus the probe as /probe, built once."""
    d = os.path.join(session_dir, "rootfs-template")
    r = subprocess.run([os.path.join(h.SOURCE_DIR, "scripts", "mkrootfs"), d],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(h.HUSK_PROBE), f"probe not built: {h.HUSK_PROBE}"
    shutil.copy(h.HUSK_PROBE, os.path.join(d, "probe"))
    os.chmod(os.path.join(d, "probe"), 0o755)
    return d


@pytest.fixture(scope="session")
def spec_template(session_dir):
    """The default config of `husk spec`, written into an empty directory."""
    d = tempfile.mkdtemp(prefix="spec-", dir=session_dir)
    r = subprocess.run([h.HUSK_BIN, "spec"], cwd=d, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    path = os.path.join(d, "config.json")
    assert r.returncode == 0 and os.path.exists(path), f"`husk spec` failed: {r.stderr}"
    with open(path) as f:
        return json.load(f)


# ---- per test -------------------------------------------------------------

class TestCtx:
    def __init__(self, session_dir, nodeid, name):
        self.index = next(_counter)
        self.nodeid = nodeid
        short = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:48]
        self.dir = os.path.join(session_dir, f"{self.index:03d}-{short}")
        os.makedirs(self.dir, mode=0o755)
        self.mark = f"{h.TAG}.{self.index}"
        self.roots = []
        self.procs = []
        self._io = itertools.count(1)
        self._bundles = itertools.count(1)

    def io_paths(self):
        n = next(self._io)
        io = os.path.join(self.dir, "io")
        os.makedirs(io, exist_ok=True)
        return os.path.join(io, f"{n:03d}.out"), os.path.join(io, f"{n:03d}.err")

    def env(self, extra=None):
        e = dict(os.environ)
        e[h.MARK_VAR] = self.mark
        e.update(extra or {})
        return e

    def cgroup_glob(self):
        return h.cgroup_name(self.index, "*")

    def leaks(self):
        """What this test left: state dirs, processes, cgroups, host mounts."""
        out = []
        for root in self.roots:
            out += [f"state dir {os.path.join(root, c)}" for c in container_dirs(root)]
        out += [d for _, d in h.marked_pids(value=self.mark)]
        out += [f"cgroup {d}" for d in h.cgroup_dirs(self.cgroup_glob())]
        out += [f"mount {m}" for m in h.mounts_under(self.dir)]
        return out

    def force_clean(self):
        h.kill_pids(p for p, _ in h.marked_pids(value=self.mark))
        h.reap_orphans(self.live_proc_pids())
        h.remove_cgroups(h.cgroup_dirs(self.cgroup_glob()))
        h.unmount_all_under(self.dir)

    def live_proc_pids(self):
        return {p.popen.pid for p in self.procs if p.popen.poll() is None}

    def spawn(self, cmd, env, stdin=None, stdout=None, stderr=None, extra_fds=None, cwd=None):
        """Start cmd (husk, or an engine driving it) without waiting, killed at
        teardown if still running. stdin: None (/dev/null), str/bytes (fed
        from a file) or a file object; stdout and stderr: None (fresh files in
        the test's directory), a path, or a file object; never pipes, which a
        container would inherit and hold open. extra_fds: {fd: path} opened
        read-only (without O_CLOEXEC) at that fd. cwd: the working directory."""
        out_default, err_default = self.io_paths()
        out, out_path = _open_io(stdout, out_default, "ab")
        err, err_path = _open_io(stderr, err_default, "ab")
        if stdin is None:
            inp = subprocess.DEVNULL
        elif isinstance(stdin, (str, bytes)):
            data = stdin.encode() if isinstance(stdin, str) else stdin
            with open(out_default + ".in", "wb") as f:
                f.write(data)
            inp = open(out_default + ".in", "rb")
        else:
            inp = stdin
        try:
            popen = subprocess.Popen(cmd, stdin=inp, stdout=out, stderr=err, env=env,
                                     close_fds=True, cwd=cwd, pass_fds=tuple(extra_fds or ()),
                                     preexec_fn=_fd_opener(extra_fds) if extra_fds else None)
        finally:
            for f, mine in ((out, stdout is None or isinstance(stdout, str)),
                            (err, stderr is None or isinstance(stderr, str)),
                            (inp, isinstance(stdin, (str, bytes)))):
                if mine:
                    f.close()
        p = Proc(cmd, popen, out_path, err_path)
        self.procs.append(p)
        return p


def _open_io(target, default_path, mode):
    if target is None:
        return open(default_path, mode), default_path
    if isinstance(target, str):
        return open(target, mode), target
    return target, None


def container_dirs(root):
    """Container state directories; husk's own dot-directories (the seccomp
    cache) are not containers and no valid id."""
    try:
        return sorted(e for e in os.listdir(root)
                      if not e.startswith(".") and os.path.isdir(os.path.join(root, e)))
    except OSError:
        return []


@pytest.fixture(autouse=True)
def _ctx(request, session_dir):
    ctx = TestCtx(session_dir, request.node.nodeid, request.node.name)
    yield ctx
    _teardown(ctx)


def _teardown(ctx):
    for p in ctx.procs:
        if p.popen.poll() is None:
            p.popen.kill()
            p.popen.wait()
    for root in ctx.roots:
        for cid in container_dirs(root):
            subprocess.run([h.HUSK_BIN, "--root", root, "delete", "--force", cid],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60, env=ctx.env())
    h.reap_orphans()
    try:
        h.wait_for(lambda: not h.marked_pids(value=ctx.mark), timeout=3)
    except h.WaitTimeout:
        pass
    leaks = ctx.leaks()
    if leaks:
        _LEAKS.append((ctx.nodeid, leaks))
        ctx.force_clean()
    if not h.mounts_under(ctx.dir):
        shutil.rmtree(ctx.dir, ignore_errors=True)


# ---- husk runner ----------------------------------------------------------

class Result:
    """rc, out, err of one husk call; unpacks as a tuple. repr() shows the
    command and output, for assertion messages: `assert r.rc == 0, r`."""

    def __init__(self, cmd, rc, out_path, err_path):
        self.cmd, self.rc = cmd, rc
        self.out_path, self.err_path = out_path, err_path
        self.out = h.read_text(out_path, "") if out_path else ""
        self.err = h.read_text(err_path, "") if err_path else ""

    def __iter__(self):
        return iter((self.rc, self.out, self.err))

    def __repr__(self):
        return (f"\n$ {' '.join(self.cmd)}\nrc={self.rc}\n--- stdout\n{self.out[-3000:]}"
                f"\n--- stderr\n{self.err[-3000:]}")


class Proc:
    """A husk call running in the background (husk.spawn)."""

    def __init__(self, cmd, popen, out_path, err_path):
        self.cmd, self.popen = cmd, popen
        self.out_path, self.err_path = out_path, err_path

    @property
    def pid(self):
        return self.popen.pid

    def running(self):
        return self.popen.poll() is None

    def wait(self, timeout=30):
        try:
            rc = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            partial = Result(self.cmd, None, self.out_path, self.err_path)
            raise AssertionError(f"did not finish within {timeout}s:{partial!r}") from None
        return Result(self.cmd, rc, self.out_path, self.err_path)


def _fd_opener(extra_fds):
    def place():
        for target, path in extra_fds.items():
            fd = os.open(path, os.O_RDONLY)
            if fd != target:
                os.dup2(fd, target)
                os.close(fd)
    return place


class Husk:
    def __init__(self, ctx, root, make=True):
        self.ctx, self.root = ctx, root
        if make:
            os.makedirs(root, mode=0o700, exist_ok=True)
        ctx.roots.append(root)

    def with_root(self, root, make=True):
        """Another runner using a different --root (registered for cleanup);
        make=False leaves creating it to husk."""
        return Husk(self.ctx, root, make)

    def spawn(self, *args, env=None, root=True, wrapper=None, **kw):
        """Start `husk [--root R] args...` without waiting (TestCtx.spawn
        tells the other keywords). wrapper: argv that runs husk's argv (e.g.
        helpers.without_cap)."""
        cmd = (list(wrapper or []) + [h.HUSK_BIN] + (["--root", self.root] if root else [])
               + [str(a) for a in args])
        return self.ctx.spawn(cmd, env=self.ctx.env(env), **kw)

    def __call__(self, *args, timeout=30, **kw):
        return self.spawn(*args, **kw).wait(timeout)

    def reaping(self, proc, timeout=60):
        """Wait for a spawned call while reaping orphans, as the supervisor
        of a crashed or interrupted husk does (we are the subreaper,
        _session_leak_check). A process husk cloned into the container's pid
        namespace and orphaned stays a zombie until reaped, and until then
        the namespace's init cannot finish exiting (pid_namespaces(7)):
        a delete would wait for it."""
        deadline = time.monotonic() + timeout
        while proc.running() and time.monotonic() < deadline:
            h.reap_orphans(self.ctx.live_proc_pids())
            time.sleep(0.02)
        return proc.wait(5)

    # -- lifecycle shorthands (no assertions) --
    def create(self, cid, bundle, *flags, **kw):
        return self("create", "--bundle", bundle.path, *flags, cid, **kw)

    def start(self, cid, **kw):
        return self("start", cid, **kw)

    def run(self, cid, bundle, *flags, **kw):
        return self("run", "--bundle", bundle.path, *flags, cid, **kw)

    def kill(self, cid, *sig, all=False, **kw):
        return self("kill", *(["--all"] if all else []), cid, *sig, **kw)

    def delete(self, cid, force=False, **kw):
        return self("delete", *(["--force"] if force else []), cid, **kw)

    def ids(self):
        return container_dirs(self.root)

    # -- state --
    def state(self, cid):
        r = self("state", cid)
        assert r.rc == 0, r
        return json.loads(r.out)

    def status(self, cid):
        """The status string, or None if the container does not exist."""
        r = self("state", cid)
        if r.rc != 0:
            assert "does not exist" in r.err, r
            return None
        return json.loads(r.out)["status"]

    def wait_status(self, cid, *statuses, timeout=10):
        def check():
            st = self.status(cid)
            return st if st in statuses else None
        return h.wait_for(check, timeout, what=f"container {cid} status in {statuses}")

    def run_ok(self, cid, bundle, *flags, **kw):
        """`run` to completion, asserting it exits 0 -> its stdout."""
        r = self.run(cid, bundle, *flags, **kw)
        assert r.rc == 0, r
        return r.out

    def create_ok(self, cid, bundle, *flags, **kw):
        r = self.create(cid, bundle, *flags, **kw)
        assert r.rc == 0, r
        assert self.status(cid) == "created"
        return r

    def start_ok(self, cid, **kw):
        r = self.start(cid, **kw)
        assert r.rc == 0, r
        return r

    def nothing_left(self, grace=2.0):
        """Everything this test's husk calls left behind (state dirs, cgroups,
        host mounts, live processes), after a short grace for processes."""
        try:
            h.wait_for(lambda: not h.marked_pids(value=self.ctx.mark), timeout=grace)
        except h.WaitTimeout:
            pass
        return self.ctx.leaks()


@pytest.fixture
def husk(_ctx):
    return Husk(_ctx, os.path.join(_ctx.dir, "root"))


# ---- bundles --------------------------------------------------------------

class Bundle:
    def __init__(self, path, config, cgroup_name, mark):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        self.config = config
        self.cgroup_name = cgroup_name
        self.cgroup_path = f"/{h.CGROUP_PARENT}/{cgroup_name}"
        self._mark = f"{h.MARK_VAR}={mark}"

    @property
    def config_path(self):
        return os.path.join(self.path, "config.json")

    def write(self):
        """Write self.config. The leak-tracking mark is appended to
        process.env when that is a list (tests comparing env see it)."""
        proc = self.config.get("process")
        if isinstance(proc, dict) and isinstance(proc.get("env"), list):
            if self._mark not in proc["env"]:
                proc["env"].append(self._mark)
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        return self

    def write_raw(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)
        return self

    def patch(self, patch):
        h.deep_merge(self.config, patch)
        return self.write()

    def host_path(self, container_path):
        """Where a rootfs path lives on the host."""
        return os.path.join(self.rootfs, container_path.lstrip("/"))

    def cgroup_dirs(self):
        return h.cgroup_dirs(self.cgroup_name)


@pytest.fixture
def bundle(_ctx, rootfs_template, spec_template):
    def make(args=None, patch=None, rootfs=True):
        n = next(_ctx._bundles)
        path = os.path.join(_ctx.dir, f"bundle{n}")
        os.makedirs(path, mode=0o755)
        if rootfs:
            subprocess.run(["cp", "-a", rootfs_template, os.path.join(path, "rootfs")], check=True)
        cfg = copy.deepcopy(spec_template)
        proc = cfg.setdefault("process", {})
        proc["terminal"] = False
        proc["args"] = list(args) if args else ["/probe", "pid"]
        cfg.setdefault("linux", {})["cgroupsPath"] = \
            f"/{h.CGROUP_PARENT}/{h.cgroup_name(_ctx.index, n)}"
        b = Bundle(path, cfg, h.cgroup_name(_ctx.index, n), _ctx.mark)
        if patch:
            h.deep_merge(cfg, patch)
        return b.write()
    return make


@pytest.fixture
def tmp(_ctx):
    """A scratch directory inside the test's directory (removed with it)."""
    d = os.path.join(_ctx.dir, "scratch")
    os.makedirs(d, exist_ok=True)
    return d
