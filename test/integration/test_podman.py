"""husk as podman's OCI runtime: `podman --runtime HUSK_BIN ...` (podman 4.3 and
conmon 2.1, Debian's `podman`, `conmon` and `catatonit` packages), doing what a
user does with runc: run (attached, -it, -i, -d), kill -s, stop, pause and
unpause, update, restart, rm -f, top, resource limits, --user, volumes,
--preserve-fds, --init, exit codes, --sdnotify=container, exec.

Nothing on the host is touched: one private store for the whole module (root,
runroot, tmpdir, containers.conf, storage.conf, registries.conf, network config
and events log all under the session's temporary directory), one busybox image
(scripts/mkrootfs + /probe, `podman import`ed, no registry). The only file
podman writes outside it, c/image's blob-info cache under /var/lib/containers,
is removed again when this module made it.

HUSK_PODMAN_CGROUP_MANAGER=systemd (the systemd guest, scripts/vm-test) runs the
module with podman's systemd cgroup manager, the default on systemd hosts:
podman then passes husk --systemd-cgroup and cgroupsPath "SLICE:libpod:ID", and
each test's containers go in a slice of their own, husk_test-<test>.slice, as
libpod-<ID>.scope units (conmon's in libpod-conmon-<ID>.scope beside them).

Every container gets --cgroup-parent /husk-test/<TAG>-<test>-podman and the
test's leak-tracking mark (with -e: podman starts conmon, and so husk, with an
environment of its own making), so the per-test leak check sees its processes
and cgroups. podman's cgroupfs manager puts conmon into <cgroup-parent>/conmon
and never removes that directory (it does the same with runc): each test
removes it, and the parent, once its conmon exited; a conmon still running
keeps them, and the leak check reports them.
"""

import glob
import os
import shutil
import socket
import subprocess
import tarfile
import time

import pytest

import helpers as h

IMAGE = "localhost/husk-busybox:test"
SLICE = "husk_test.slice"  # the tests' slices' parent (systemd cgroup manager)
TIMEOUT = 60  # seconds, any single podman call
V2_HOST = h.V2_HOST
BLOB_CACHE = "/var/lib/containers/cache"

CGROUP_MANAGER = os.environ.get("HUSK_PODMAN_CGROUP_MANAGER", "cgroupfs")
SYSTEMD = CGROUP_MANAGER == "systemd"

pytestmark = [h.requires("podman"),
              pytest.mark.skipif(SYSTEMD and not os.path.isdir("/run/systemd/system"),
                                 reason="HUSK_PODMAN_CGROUP_MANAGER=systemd: systemd is not "
                                 "PID 1 on this host")]


# ---- the private store and the image -------------------------------------------

def _conf(d):
    catatonit = shutil.which("catatonit") or "/usr/libexec/podman/catatonit"
    runtime_names = sorted({"husk", os.path.basename(h.HUSK_BIN)})
    files = {
        # runtime_supports_json: conmon passes --log-format=json --log FILE only to
        # runtimes named there, and podman then reads husk's errors from that file.
        # default_ulimits: podman's default (1048576) is above what conmon may set
        # here (no CAP_SYS_RESOURCE in root's bounding set).
        "containers.conf": f"""
[containers]
netns = "none"
log_driver = "k8s-file"
init_path = "{catatonit}"
default_ulimits = ["nofile=16384:16384", "nproc=16384:16384"]

[engine]
runtime = "husk"
runtime_supports_json = {runtime_names!r}
cgroup_manager = "{CGROUP_MANAGER}"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/tmp"
volume_path = "{d}/volumes"

[engine.runtimes]
husk = ["{h.HUSK_BIN}"]

[network]
network_config_dir = "{d}/net"
""".replace("'", '"'),
        "storage.conf": f"""
[storage]
driver = "overlay"
graphroot = "{d}/root"
runroot = "{d}/runroot"
""",
        "registries.conf": "unqualified-search-registries = []\n",
    }
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)


class Store:
    def __init__(self, d):
        self.d = d
        for sub in ("root", "runroot", "tmp", "net", "volumes", "tmpdir"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        _conf(d)

    def env(self, mark=None, extra=None):
        # Not a systemd service's (the VM guests run the tests as one): podman
        # keeps conmon in a service's cgroup (INVOCATION_ID) rather than in a
        # scope of its own, as it does for a user at a shell.
        e = {k: v for k, v in os.environ.items()
             if k not in ("NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
                          "INVOCATION_ID")}
        e.update({
            "CONTAINERS_CONF": f"{self.d}/containers.conf",
            "CONTAINERS_STORAGE_CONF": f"{self.d}/storage.conf",
            "CONTAINERS_REGISTRIES_CONF": f"{self.d}/registries.conf",
            "TMPDIR": f"{self.d}/tmpdir",  # podman update's resources file
        })
        if mark:
            e[h.MARK_VAR] = mark
        e.update(extra or {})
        return e

    def cmd(self, *args):
        # --runtime with a path, as a user would type it; the rest pins podman
        # to the private store whatever the host's configuration says.
        return ["podman", "--runtime", h.HUSK_BIN, "--root", f"{self.d}/root",
                "--runroot", f"{self.d}/runroot", "--tmpdir", f"{self.d}/tmp",
                "--cgroup-manager", CGROUP_MANAGER, "--events-backend", "file"] + list(args)

    def run(self, *args, timeout=TIMEOUT):
        return subprocess.run(self.cmd(*args), env=self.env(), capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)


def _import_image(store, rootfs):
    tarball = os.path.join(store.d, "busybox.tar")
    with tarfile.open(tarball, "w") as t:
        for name in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, name), arcname=name)
    try:
        r = store.run("import", "--change", 'CMD ["/bin/sh"]', tarball, IMAGE)
    finally:
        os.unlink(tarball)
    assert r.returncode == 0, f"podman import failed:\n{r.stderr}"


def _drop_blob_cache(had_dir, had_cache):
    """c/image writes its blob-info cache to /var/lib/containers/cache for root
    whatever the store: remove what the import created, nothing else."""
    if not had_cache and os.path.isdir(BLOB_CACHE):
        shutil.rmtree(BLOB_CACHE, ignore_errors=True)
    if not had_dir:
        try:
            os.rmdir(os.path.dirname(BLOB_CACHE))
        except OSError:
            pass


@pytest.fixture(scope="module")
def store(session_dir, rootfs_template):
    s = Store(os.path.join(session_dir, "podman"))
    # podman import and the pod's pause image (podman builds it) write there.
    had = os.path.exists(os.path.dirname(BLOB_CACHE)), os.path.exists(BLOB_CACHE)
    try:
        _import_image(s, rootfs_template)
    finally:
        _drop_blob_cache(*had)
    yield s
    _drop_blob_cache(*had)
    s.run("rm", "--all", "--force", "--time", "0")
    s.run("rmi", "--all", "--force")
    if SYSTEMD:
        subprocess.run(["systemctl", "stop", SLICE], capture_output=True, timeout=TIMEOUT)
    if h.mounts_under(s.d):
        h.unmount_all_under(s.d)
    if not h.mounts_under(s.d):
        shutil.rmtree(s.d, ignore_errors=True)


# ---- per test ------------------------------------------------------------------

class Podman:
    """podman on the private store for one test: its containers carry the test's
    label, mark and cgroup parent."""

    def __init__(self, store, ctx):
        self.store, self.ctx = store, ctx
        self.parent_name = h.cgroup_name(ctx.index, "podman")
        if SYSTEMD:
            # A dash in a slice's name is one level down:
            # husk_test-X.slice is /husk_test.slice/husk_test-X.slice.
            self.parent = f"husk_test-{self.parent_name.replace('-', '_')}.slice"
            self.parent_path = f"/{SLICE}/{self.parent}"
        else:
            self.parent = f"/{h.CGROUP_PARENT}/{self.parent_name}"
            self.parent_path = self.parent
        self.label = f"husk.test={ctx.mark}"
        self.pods = []

    def env(self, extra=None):
        return self.store.env(self.ctx.mark, extra)

    def cmd(self, *args):
        return self.store.cmd(*[str(a) for a in args])

    def ctr_flags(self, network=True):
        """What every run/create of this test gets (in a pod: the pod's
        network and cgroup parent)."""
        return (["--cgroup-parent", self.parent] if network else []) + \
            ["--label", self.label, "-e", f"{h.MARK_VAR}={self.ctx.mark}"] + \
            (["--network", "none"] if network else [])

    def __call__(self, *args, timeout=TIMEOUT, stdin=None, env=None, extra_fds=None):
        """podman args... -> Result (conftest's). stdin: None (/dev/null) or
        text; extra_fds: {fd: path} opened read-only at that fd in podman."""
        return self.ctx.spawn(self.cmd(*args), self.env(env), stdin=stdin,
                              extra_fds=extra_fds).wait(timeout)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.rc == 0, r
        return r

    def run(self, *args, **kw):
        """podman run <this test's flags> args..."""
        return self("run", *self.ctr_flags(), *args, **kw)

    def detached(self, *args):
        """podman run -d ... -> the container id."""
        r = self.run("-d", *args)
        assert r.rc == 0, r
        return r.out.strip()

    def inspect(self, cid, fmt):
        return self.ok("inspect", "--format", fmt, cid).out.strip()

    def status(self, cid):
        return self.inspect(cid, "{{.State.Status}}")

    def pid(self, cid):
        return int(self.inspect(cid, "{{.State.Pid}}"))

    def logs(self, cid):
        return self.ok("logs", cid).out

    def wait_log(self, cid, text, timeout=20):
        return h.wait_for(lambda: text in self.logs(cid), timeout,
                          what=f"{text!r} in the logs of {cid[:12]}")

    def exists(self, cid):
        return self("container", "exists", cid).rc == 0

    # -- cgroups --
    def cgroup_of(self, cid):
        if SYSTEMD:
            return f"{self.parent_path}/libpod-{cid}.scope"
        return f"{self.parent}/libpod-{cid}"

    def cgroup_file(self, cid, controller, v1_name, v2_name):
        return h.controller_file(self.cgroup_of(cid), controller, v1_name, v2_name)

    def container_cgroup_dirs(self, cid):
        return self.dirs(self.cgroup_of(cid))

    @staticmethod
    def dirs(path):
        """path's directory in every hierarchy where it exists."""
        return glob.glob(f"{h.CGROUP_ROOT}/*{path}") + glob.glob(f"{h.CGROUP_ROOT}{path}")

    def cleanup(self):
        if self.pods:
            self("pod", "rm", "--force", "--time", "0", *self.pods)
        r = self("ps", "--all", "--quiet", "--no-trunc", "--filter", f"label={self.label}")
        ids = r.out.split()
        if ids:
            self("rm", "--force", "--time", "0", *ids)
        # conmon's cgroup (podman's, see the module docstring): once empty.
        conmon = self.dirs(f"{self.parent}/conmon") if not SYSTEMD else \
            self.dirs(f"{self.parent_path}/libpod-conmon-*.scope")
        try:
            h.wait_for(lambda: not any(h.cgroup_procs(d) for d in conmon), timeout=10,
                       what="conmon to exit")
        except h.WaitTimeout:
            if SYSTEMD:
                self.stop_slice()
                raise AssertionError(f"conmon still running in {conmon}")
            return  # the leak check reports it
        h.reap_orphans()
        if SYSTEMD:
            self.stop_slice()
            return
        for d in conmon:
            try:
                os.rmdir(d)
            except OSError:
                pass
        # The parent and podman's pod cgroups (podman removes a pod's only in
        # the controllers it made it in, not in name=systemd or the unified
        # hierarchy where husk made it as a container's parent), where empty:
        # a container cgroup husk left (libpod-*) keeps them, and stays visible.
        for top in glob.glob(f"{h.CGROUP_ROOT}/*{self.parent}") + \
                glob.glob(f"{h.CGROUP_ROOT}{self.parent}"):
            for d, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
                if os.path.basename(d).startswith("libpod-"):
                    continue
                try:
                    os.rmdir(d)
                except OSError:
                    pass

    def stop_slice(self):
        """systemd removes a scope once its processes are gone, but keeps
        the test's slice: stopped, which fails the test if a container's
        scope (one husk did not stop) was still in it."""
        left = [d for d in self.dirs(f"{self.parent_path}/libpod-*.scope")
                if "libpod-conmon-" not in d and h.cgroup_procs(d)]
        subprocess.run(["systemctl", "stop", self.parent], capture_output=True, timeout=TIMEOUT)
        assert left == [], f"containers' scopes left running: {left}"


@pytest.fixture
def pm(store, _ctx):
    p = Podman(store, _ctx)
    yield p
    p.cleanup()


# A busybox sh that reports the signals it gets; pid 1 of a pid namespace only
# gets the signals it has handlers for.
TRAP = ("trap 'echo got USR1' USR1; trap 'echo got HUP' HUP; "
        "trap 'echo got TERM; exit 7' TERM; echo ready; "
        "while :; do sleep 1000 & wait $!; kill $! 2>/dev/null; done")


# ---- terminals -----------------------------------------------------------------

def pty(pm, args, rows=24, cols=80):
    """podman args... on a new pty (its controlling terminal)."""
    return h.Pty(pm.cmd(*args), pm.env(), rows, cols)


# ---- run -----------------------------------------------------------------------

def test_run_rm_prints_output_and_propagates_exit_code(pm):
    r = pm.run("--rm", "--name", f"{pm.parent_name}-rm", IMAGE, "sh", "-c",
               "echo hello from husk; exit 42")
    assert r.rc == 42, r
    assert r.out == "hello from husk\n", r
    assert not pm.exists(f"{pm.parent_name}-rm")


def test_run_interactive_tty(pm):
    t = pty(pm, ["run", "--rm", "-it", *pm.ctr_flags(), IMAGE, "sh"], rows=33, cols=111)
    assert b"/dev/pts/0" in t.shell_session(3)


def test_run_interactive_stdin_pipe(pm):
    r = pm.run("--rm", "-i", IMAGE, "sh", "-c", "cat; [ -t 0 ] || echo not a tty",
               stdin="line one\nline two\n")
    assert r.rc == 0, r
    assert r.out == "line one\nline two\nnot a tty\n", r


@pytest.mark.parametrize("debug", [False, True], ids=["json-log", "stderr"])
def test_exit_code_127_for_missing_executable(pm, debug):
    # Without --log-level=debug podman reads husk's error from the JSON log file
    # (--log-format=json), with it from husk's stderr relayed by conmon.
    r = pm(*(["--log-level=debug"] if debug else []), "run", "--rm", *pm.ctr_flags(), IMAGE,
           "/no/such/binary")
    assert r.rc == 127, r
    assert "/no/such/binary" in r.err and "no such file or directory" in r.err, r


@pytest.mark.parametrize("debug", [False, True], ids=["json-log", "stderr"])
def test_exit_code_126_for_permission_denied(pm, debug):
    r = pm(*(["--log-level=debug"] if debug else []), "run", "--rm", *pm.ctr_flags(), IMAGE,
           "/etc/passwd")
    assert r.rc == 126, r
    assert "permission denied" in r.err, r


def test_container_cgroup_placement_and_nothing_under_the_callers_cgroup(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    cg = h.proc_cgroups(pm.pid(cid))
    controllers = ["memory", "pids", "cpu", "freezer", "devices"] if not V2_HOST else [""]
    for c in controllers:
        assert cg.get(c) == pm.cgroup_of(cid), cg
    conmon = int(pm.inspect(cid, "{{.State.ConmonPid}}"))
    unit = f"libpod-{cid}.scope"
    if SYSTEMD:
        # podman's systemd manager: husk made the container's scope in the
        # test's slice, with the cgroup below it delegated to it.
        props = h.systemd_show(unit, "ActiveState", "Slice", "Delegate", "ControlGroup")
        assert props == {"ActiveState": "active", "Slice": pm.parent, "Delegate": "yes",
                         "ControlGroup": pm.cgroup_of(cid)}, props
        assert h.proc_cgroups(conmon).get("" if V2_HOST else "name=systemd") == \
            f"{pm.parent_path}/libpod-conmon-{cid}.scope"
    elif not V2_HOST:
        assert h.proc_cgroups(conmon).get("memory") == f"{pm.parent}/conmon"
    # Nothing of podman's or husk's under our own cgroups (the supervisor's).
    for c, path in h.proc_cgroups(os.getpid()).items():
        if path in ("/", ""):
            continue
        base = f"{h.CGROUP_ROOT}/{c.replace('name=', '')}{path}" if c else \
            f"{h.CGROUP_ROOT}/unified{path}"
        for _, dirs, _ in os.walk(base):
            bad = [d for d in dirs if d.startswith("libpod") or d == "conmon" or
                   d == h.CGROUP_PARENT]
            assert not bad, f"{base}: {bad}"
    pm.ok("rm", "--force", "--time", "0", cid)
    assert pm.container_cgroup_dirs(cid) == []
    if SYSTEMD:
        assert h.systemd_show(unit, "LoadState")["LoadState"] == "not-found"


# ---- detached lifecycle --------------------------------------------------------

def test_kill_signal_reaches_the_container_and_stop_exit_code(pm):
    cid = pm.detached(IMAGE, "sh", "-c", TRAP)
    pm.wait_log(cid, "ready")
    assert pm.status(cid) == "running"
    pm.ok("kill", "--signal", "USR1", cid)
    pm.wait_log(cid, "got USR1")
    pm.ok("kill", "-s", "SIGHUP", cid)
    pm.wait_log(cid, "got HUP")
    assert pm.status(cid) == "running"
    pm.ok("stop", "--time", "30", cid)
    assert pm.status(cid) == "exited"
    assert pm.inspect(cid, "{{.State.ExitCode}}") == "7"
    assert "got TERM" in pm.logs(cid)
    pm.ok("rm", cid)
    assert not pm.exists(cid)
    assert pm.container_cgroup_dirs(cid) == []


def test_kill_exit_code_137(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    pid = pm.pid(cid)
    pm.ok("kill", cid)
    assert pm.ok("wait", cid).out.strip() == "137"
    assert pm.inspect(cid, "{{.State.ExitCode}}") == "137"
    assert not h.alive(pid)


def test_stop_kills_after_the_timeout_when_term_is_ignored(pm):
    cid = pm.detached(IMAGE, "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
    pm.wait_log(cid, "ready")
    pm.ok("stop", "--time", "1", cid)
    assert pm.inspect(cid, "{{.State.ExitCode}}") == "137"


def test_pause_and_unpause(pm):
    cid = pm.detached(IMAGE, "sh", "-c", TRAP)
    pm.wait_log(cid, "ready")
    freezer = pm.cgroup_file(cid, "freezer", "freezer.state", "cgroup.freeze")
    pm.ok("pause", cid)
    assert pm.status(cid) == "paused"
    assert h.read_text(freezer).strip() in ("FROZEN", "1")
    pm.ok("unpause", cid)
    assert pm.status(cid) == "running"
    assert h.read_text(freezer).strip() in ("THAWED", "0")
    pm.ok("kill", "-s", "USR1", cid)  # it runs again: the trap fires
    pm.wait_log(cid, "got USR1")


def test_restart_runs_the_container_again(pm):
    cid = pm.detached(IMAGE, "sh", "-c", "echo started; exec sleep 1000")
    pm.wait_log(cid, "started")
    pid = pm.pid(cid)
    pm.ok("restart", "--time", "0", cid)
    assert pm.status(cid) == "running"
    new = pm.pid(cid)
    assert new != pid and h.alive(new) and not h.alive(pid)
    h.wait_for(lambda: pm.logs(cid).count("started") == 2, what="a second start in the logs")
    assert h.proc_cgroups(new).get("" if V2_HOST else "memory") == pm.cgroup_of(cid)


def test_rm_force_running_container_leaves_nothing(pm):
    cid = pm.detached(IMAGE, "sh", "-c", "sleep 1000 & exec sleep 1001")
    pid = pm.pid(cid)
    assert pm.container_cgroup_dirs(cid)
    pm.ok("rm", "--force", "--time", "0", cid)
    assert not pm.exists(cid)
    assert not h.alive(pid)
    assert pm.container_cgroup_dirs(cid) == []


def test_top_lists_container_processes(pm):
    cid = pm.detached(IMAGE, "sh", "-c", "sleep 1000 & exec sleep 1001")
    h.wait_for(lambda: "sleep 1000" in pm.ok("top", cid).out, what="both sleeps in top")
    rows = [line.split(None, 2) for line in pm.ok("top", cid, "pid", "args").out.splitlines()]
    assert rows[0] == ["PID", "COMMAND"], rows
    assert ["1", "sleep 1001"] in [[r[0], " ".join(r[1:]).strip()] for r in rows[1:]], rows


# ---- resources -----------------------------------------------------------------

def test_memory_pids_cpu_limits_are_set_on_the_host(pm):
    cid = pm.detached("--memory", "32m", "--pids-limit", "50", "--cpus", "0.5",
                      "--cpu-shares", "512", IMAGE, "sleep", "1000")
    mem = h.read_text(pm.cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max"))
    assert mem.strip() == str(32 << 20)
    assert h.read_text(pm.cgroup_file(cid, "pids", "pids.max", "pids.max")).strip() == "50"
    if V2_HOST:
        assert h.read_text(pm.cgroup_file(cid, "", "", "cpu.max")).split() == ["50000", "100000"]
    else:
        assert h.read_text(pm.cgroup_file(cid, "cpu", "cpu.cfs_quota_us", "")).strip() == "50000"
        assert h.read_text(pm.cgroup_file(cid, "cpu", "cpu.cfs_period_us", "")).strip() \
            == "100000"
        assert h.read_text(pm.cgroup_file(cid, "cpu", "cpu.shares", "")).strip() == "512"


def test_pids_limit_is_enforced(pm):
    loop = "for i in 1 2 3 4 5 6 7 8; do sleep 1000 & done; echo loop done"
    r = pm.run("--rm", "--pids-limit", "20", IMAGE, "sh", "-c", loop)
    assert r.rc == 0 and r.out == "loop done\n", r
    r = pm.run("--rm", "--pids-limit", "5", IMAGE, "sh", "-c", loop)
    assert r.rc != 0 and "can't fork" in r.err, r
    assert "loop done" not in r.out, r


def test_update_memory_and_cpu_shares(pm):
    assert pm("update", "--help").rc == 0  # podman 4.3 has `podman update`
    cid = pm.detached("--memory", "32m", IMAGE, "sleep", "1000")
    mem = pm.cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max")
    assert h.read_text(mem).strip() == str(32 << 20)
    pm.ok("update", "--memory", "64m", "--cpu-shares", "256", cid)
    assert h.read_text(mem).strip() == str(64 << 20)
    if not V2_HOST:
        assert h.read_text(pm.cgroup_file(cid, "cpu", "cpu.shares", "")).strip() == "256"
    assert pm.status(cid) == "running"


# ---- process and mounts --------------------------------------------------------

@pytest.mark.parametrize("user,expect", [
    ("65534:65534", "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"),
    ("nobody", "uid=65534(nobody) gid=65534(nogroup)"),
    ("1234:100", "uid=1234(1234) gid=100(users)"),
])
def test_user(pm, user, expect):
    r = pm.run("--rm", "--user", user, IMAGE, "id")
    assert r.rc == 0, r
    assert r.out.startswith(expect), r


def test_volumes_read_only_and_read_write(pm, tmp):
    ro, rw = os.path.join(tmp, "ro"), os.path.join(tmp, "rw")
    os.makedirs(ro)
    os.makedirs(rw)
    with open(os.path.join(ro, "f"), "w") as f:
        f.write("host data\n")
    r = pm.run("--rm", "-v", f"{ro}:/ro:ro", "-v", f"{rw}:/rw", IMAGE, "sh", "-c",
               "cat /ro/f; echo x > /ro/g || echo ro-refused; echo from-ctr > /rw/out")
    assert r.rc == 0, r
    assert r.out == "host data\nro-refused\n", r
    assert "Read-only file system" in r.err, r
    assert sorted(os.listdir(ro)) == ["f"]
    assert h.read_text(os.path.join(rw, "out")) == "from-ctr\n"


def test_preserve_fds(pm, tmp):
    three, four = os.path.join(tmp, "three"), os.path.join(tmp, "four")
    for p in (three, four):
        with open(p, "w") as f:
            f.write(f"content of {os.path.basename(p)}\n")
    r = pm.run("--rm", "--preserve-fds", "1", IMAGE, "sh", "-c",
               "cat <&3; if [ -e /proc/$$/fd/4 ]; then echo fd4 leaked; fi",
               extra_fds={3: three, 4: four})
    assert r.rc == 0, r
    assert r.out == "content of three\n", r


def test_init_is_pid1_and_forwards_signals(pm):
    r = pm.run("--rm", "--init", IMAGE, "sh", "-c", "cat /proc/1/cmdline; echo; echo $$")
    assert r.rc == 0, r
    cmdline, mypid = r.out.splitlines()
    assert cmdline.split("\0")[0] == "/run/podman-init", r
    assert mypid != "1", r  # the shell runs under catatonit
    cid = pm.detached("--init", IMAGE, "sh", "-c", TRAP)
    pm.wait_log(cid, "ready")
    pm.ok("kill", "-s", "USR1", cid)
    pm.wait_log(cid, "got USR1")
    pm.ok("stop", "--time", "30", cid)
    assert pm.inspect(cid, "{{.State.ExitCode}}") == "7"


def test_sdnotify_container_ready_reaches_the_host(pm, _ctx):
    # podman --sdnotify=container: conmon proxies the host's NOTIFY_SOCKET at
    # /run/notify/notify.sock in the container (a bind mount husk makes).
    path = os.path.join(_ctx.dir, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind(path)
        r = pm.run("-d", "--sdnotify=container", IMAGE, "sh", "-c",
                   "echo $NOTIFY_SOCKET; /probe notify READY=1; exec sleep 1000",
                   env={"NOTIFY_SOCKET": path})
        assert r.rc == 0, r
        cid = r.out.strip()
        got = []
        deadline = time.monotonic() + 30
        s.settimeout(1)
        while not any(b"READY=1" in m for m in got) and time.monotonic() < deadline:
            try:
                got.append(s.recv(4096))
            except socket.timeout:
                pass
        assert any(b"READY=1" in m for m in got), (got, pm.logs(cid))
        assert pm.logs(cid).startswith("/run/notify/notify.sock\nnotified READY=1")
    finally:
        s.close()



def test_device_from_the_host(pm):
    # podman copies the host node's st_mode into fileMode, file type included.
    r = pm.run("--rm", "--device", "/dev/zero:/dev/myzero", IMAGE, "sh", "-c",
               "stat -c '%F %t:%T %a' /dev/myzero; head -c 4 /dev/myzero | od -An -tx1")
    assert r.rc == 0, r
    assert r.out.split("\n")[:2] == ["character special file 1:5 666", " 00 00 00 00"], r


def test_privileged(pm):
    bounding = [line.split()[1] for line in h.read_text("/proc/self/status").splitlines()
                if line.startswith("CapBnd:")][0]
    r = pm.run("--rm", "--privileged", IMAGE, "sh", "-c",
               "grep CapEff /proc/self/status; stat -c %F /dev/kmsg")
    assert r.rc == 0, r
    assert r.out.split("\n")[:2] == [f"CapEff:\t{bounding}", "character special file"], r



# ---- pods ----------------------------------------------------------------------

def test_pod_containers_join_the_infra_namespaces(pm):
    # husk joins the infra container's namespaces by their /proc/PID/ns paths.
    pod = f"{pm.parent_name}-pod"
    pm.ok("pod", "create", "--name", pod, "--cgroup-parent", pm.parent)
    pm.pods.append(pod)
    pm.ok("pod", "start", pod)
    infra = pm.ok("pod", "inspect", "--format", "{{.InfraContainerID}}", pod).out.strip()
    infra_pid = pm.pid(infra)
    want = [os.readlink(f"/proc/{infra_pid}/ns/{ns}") for ns in ("uts", "ipc", "net")]
    r = pm("run", "--rm", "--pod", pod, *pm.ctr_flags(network=False), IMAGE, "sh", "-c",
           "hostname; for ns in uts ipc net pid; do readlink /proc/self/ns/$ns; done")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0] == pod, r
    assert lines[1:4] == want, r
    assert lines[4] != os.readlink(f"/proc/{infra_pid}/ns/pid"), r  # pid ns: not shared


# ---- exec (conmon runs `husk exec --detach --process FILE`) --------------------


def test_exec_output_exit_code_env_workdir_and_placement(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    r = pm("exec", "-e", "FOO=bar", "--workdir", "/tmp", cid, "sh", "-c",
           "echo $FOO; pwd; echo $$; cat /proc/self/cgroup; exit 5")
    assert r.rc == 5, r
    foo, cwd, pid, *cgroups = r.out.splitlines()
    assert (foo, cwd) == ("bar", "/tmp"), r
    assert pid != "1", r  # in the container's pid namespace, not its init
    want = "memory" if not V2_HOST else ""
    # In a cgroup namespace of its own (podman's default on a v2 host) the
    # container's cgroup is the namespace's root, "/".
    own_ns = os.readlink(f"/proc/{pm.pid(cid)}/ns/cgroup") != os.readlink("/proc/self/ns/cgroup")
    where = "/" if own_ns else pm.cgroup_of(cid)
    assert any(line.split(":", 2)[1] == want and line.split(":", 2)[2] == where
               for line in cgroups), r


def test_exec_user(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    r = pm("exec", "--user", "nobody", cid, "id")
    assert r.rc == 0, r
    assert r.out.startswith("uid=65534(nobody) gid=65534(nogroup)"), r


def test_exec_stdin_pipe(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    r = pm("exec", "-i", cid, "sh", "-c", "cat; [ -t 0 ] || echo not a tty", stdin="piped\n")
    assert r.rc == 0, r
    assert r.out == "piped\nnot a tty\n", r


def test_exec_interactive_tty(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    pty(pm, ["exec", "-it", cid, "sh"], rows=21, cols=99).shell_session(4)
    assert pm.status(cid) == "running"


def test_exec_exit_codes_127_and_126(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    r = pm("exec", cid, "/no/such/binary")
    assert r.rc == 127, r
    assert "/no/such/binary" in r.err and "no such file or directory" in r.err, r
    r = pm("exec", cid, "/etc/passwd")
    assert r.rc == 126, r
    assert "permission denied" in r.err, r


def test_exec_preserve_fds(pm, tmp):
    cid = pm.detached(IMAGE, "sleep", "1000")
    path = os.path.join(tmp, "three")
    with open(path, "w") as f:
        f.write("content of three\n")
    r = pm("exec", "--preserve-fds", "1", cid, "sh", "-c", "cat <&3", extra_fds={3: path})
    assert r.rc == 0, r
    assert r.out == "content of three\n", r


def test_exec_detached_keeps_running(pm):
    cid = pm.detached(IMAGE, "sleep", "1000")
    pm.ok("exec", "--detach", cid, "sh", "-c", "echo done > /tmp/mark; exec sleep 1002")
    h.wait_for(lambda: pm("exec", cid, "cat", "/tmp/mark").out == "done\n",
               what="the detached exec's file")
    assert "sleep 1002" in pm.ok("top", cid).out


def test_top_with_ps_options_runs_ps_through_exec(pm):
    # Descriptors psgo does not know make podman exec ps(1) in the container.
    cid = pm.detached(IMAGE, "sleep", "1000")
    r = pm.ok("top", cid, "-o", "pid,comm")
    rows = [line.split() for line in r.out.splitlines()]
    assert rows[0] == ["PID", "COMMAND"], r
    # sleep is a symlink to busybox: named after the program asked for, as under runc
    assert ["1", "sleep"] in rows[1:], r
