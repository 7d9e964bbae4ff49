"""husk as containerd's runtime: `ctr run --runc-binary HUSK_BIN` through
containerd-shim-runc-v2 (containerd 1.6, Debian's `containerd` package).

One private containerd for the whole module: its config, root, state, sockets,
runc root, FIFOs, TMPDIR and XDG_RUNTIME_DIR all live under the session's
temporary directory; the CRI plugin and the snapshotters that could touch the
host are disabled. It is started in the background and stopped by PID at module
end. No registry: a busybox image is written as an OCI image layout by
helpers.make_oci_archive() and imported with `ctr images import`.

Every container gets `--cgroup /husk-test/<TAG>-<test>-c<n>` (ctr's default
would be /<namespace>/<id> at the hierarchy root) and the test's leak-tracking
mark in its environment, so the per-test leak check sees its processes and
cgroups. containerd and the shims carry the mark <TAG>.containerd, checked at
session end.
"""

import json
import os
import platform
import subprocess
import time

import pytest

import helpers as h

NS = "husktest"
IMAGE = "docker.io/husk/busybox:test"
CTR_TIMEOUT = 60
CTRD_MARK = f"{h.TAG}.containerd"
V2_HOST = h.V2_HOST

pytestmark = h.requires("containerd")


# ---- the daemon -------------------------------------------------------------------

# The CRI plugin is test_cri.py's; here only the task API is driven.
PLUGINS = """\
[plugins."io.containerd.runtime.v1.linux"]
  runtime = "{husk}"
  runtime_root = "{d}/runtime-v1"
"""


describe = h.describe_run


@pytest.fixture(scope="module")
def ctrd(session_dir):
    d = os.path.join(session_dir, "containerd")
    os.makedirs(d, mode=0o711)
    c = h.Containerd(d, CTRD_MARK, NS, PLUGINS, disabled=("io.containerd.grpc.v1.cri",))
    try:
        rootfs = os.path.join(d, "rootfs")
        r = subprocess.run([os.path.join(h.SOURCE_DIR, "scripts", "mkrootfs"), rootfs],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        c.start()
        c.import_image(rootfs, IMAGE)
        yield c
    finally:
        _stop_all(c)


def _stop_all(c):
    if c.proc and c.proc.poll() is None:
        for line in c.ctr("tasks", "ls", "-q", check=False).stdout.split():
            c.ctr("tasks", "rm", "-f", line, check=False)
        for line in c.ctr("containers", "ls", "-q", check=False).stdout.split():
            c.ctr("containers", "rm", line, check=False)
    c.shutdown()


# ---- per test ---------------------------------------------------------------------

class Ctr:
    """ctr for one test: names containers, gives them this test's cgroup and
    leak mark, and removes what is left at the end."""

    def __init__(self, ctrd, ctx):
        self.d, self.ctx = ctrd, ctx
        self.ids = []
        self._n = 0

    def new_id(self):
        self._n += 1
        cid = f"{h.TAG}-{self.ctx.index}-c{self._n}"
        self.ids.append(cid)
        return cid

    def cgroup(self, cid):
        return f"/{h.CGROUP_PARENT}/{cid}"

    def cgroup_file(self, cid, controller, v1_name, v2_name):
        return h.controller_file(self.cgroup(cid), controller, v1_name, v2_name)

    def run_args(self, cid, *flags, cmd=(), cgroup=None):
        return ["run", "--runc-binary", h.HUSK_BIN, "--runc-root", self.d.runc_root,
                "--fifo-dir", self.d.fifo_dir, "--cgroup", cgroup or self.cgroup(cid),
                "--env", f"{h.MARK_VAR}={self.ctx.mark}", *flags, IMAGE, cid, *cmd]

    def __call__(self, *args, **kw):
        kw.setdefault("mark", self.ctx.mark)
        return self.d.ctr(*args, **kw)

    def run(self, *flags, cmd=(), cid=None, cgroup=None, **kw):
        cid = cid or self.new_id()
        return cid, self(*self.run_args(cid, *flags, cmd=cmd, cgroup=cgroup), **kw)

    def detached(self, *cmd, flags=()):
        """`ctr run -d` of cmd; returns the id once the task is RUNNING."""
        cid, _ = self.run("-d", *flags, cmd=cmd)
        self.wait_task(cid, "RUNNING")
        return cid

    def tasks(self):
        """{id: (pid, status)} from `ctr task ls`."""
        out = {}
        for line in self("tasks", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if len(f) >= 3:
                out[f[0]] = (int(f[1]), f[2])
        return out

    def task_status(self, cid):
        return self.tasks().get(cid, (None, None))[1]

    def wait_task(self, cid, status, timeout=20):
        return h.wait_for(lambda: self.task_status(cid) == status, timeout,
                          what=f"task {cid} {status}")

    def task_pid(self, cid):
        return self.tasks()[cid][0]

    def log_json(self, cid):
        """The runtime's --log file the shim reads errors from."""
        return h.read_text(os.path.join(self.d.dir, "state", "io.containerd.runtime.v2.task",
                                        NS, cid, "log.json"), "")

    def cleanup(self):
        for cid in self.ids:
            self("tasks", "rm", "-f", cid, check=False)
            self("containers", "rm", cid, check=False)


@pytest.fixture
def ctr(ctrd, _ctx):
    c = Ctr(ctrd, _ctx)
    yield c
    c.cleanup()
    h.reap_orphans()


def husk_state(ctrd, cid):
    """husk's own view of the container in the runc root the shim uses."""
    root = os.path.join(ctrd.runc_root, NS)
    r = subprocess.run([h.HUSK_BIN, "--root", root, "state", cid], capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=30)
    return json.loads(r.stdout) if r.returncode == 0 else None


# ---- helpers for the scenarios ----------------------------------------------------

def _varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _pb_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def update_resources(ctrd, cid, resources):
    """containerd's Tasks.Update gRPC call (ctr 1.6 has no `task update`):
    UpdateTaskRequest{container_id=1, resources=2 (Any)}. containerd's typeurl
    carries runtime-spec's LinuxResources as JSON in the Any; the shim hands it
    to the runtime as `update --resources - <id>`. Encoded by hand: Debian has
    python3-grpcio but no containerd protobuf stubs."""
    grpc = pytest.importorskip("grpc", reason="python3-grpcio not installed (scripts/deps)")
    any_msg = (_pb_bytes(1, "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources")
               + _pb_bytes(2, json.dumps(resources)))
    req = _pb_bytes(1, cid) + _pb_bytes(2, any_msg)
    with grpc.insecure_channel(f"unix://{ctrd.sock}") as ch:
        call = ch.unary_unary("/containerd.services.tasks.v1.Tasks/Update")
        call(req, metadata=[("containerd-namespace", NS)], timeout=CTR_TIMEOUT)


class Foreground:
    """A foreground `ctr run` in the background, its output in a file."""

    def __init__(self, ctr, cid, args):
        self.ctr, self.cid = ctr, cid
        self.out = os.path.join(ctr.ctx.dir, f"{cid}.out")
        with open(self.out, "wb") as f:
            self.p = subprocess.Popen(ctr.d.ctr_cmd(*args), stdin=subprocess.DEVNULL, stdout=f,
                                      stderr=subprocess.STDOUT, env=ctr.d.env(ctr.ctx.mark))

    def text(self):
        return h.read_text(self.out, "")

    def wait_output(self, text, timeout=20):
        try:
            h.wait_for(lambda: text in self.text() or self.p.poll() is not None, timeout)
        except h.WaitTimeout:
            pass
        assert text in self.text(), f"{text!r} not in output of ctr run:\n{self.text()}"

    def wait(self, timeout=CTR_TIMEOUT):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise AssertionError(f"ctr run did not exit:\n{self.text()}") from None

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


@pytest.fixture
def foreground(ctr):
    started = []

    def start(*cmd, flags=()):
        cid = ctr.new_id()
        f = Foreground(ctr, cid, ctr.run_args(cid, *flags, cmd=cmd))
        started.append(f)
        return f
    yield start
    for f in started:
        f.stop()


# A shell that reports the signals it gets (busybox sh runs traps between
# commands, hence the short sleeps) and says when its traps are set.
def trap_script(*sigs, final="TERM", code=42):
    traps = [f'trap "echo got {s}" {s}' for s in sigs]
    traps.append(f'trap "echo got {final}; exit {code}" {final}')
    return ["sh", "-c", "; ".join(traps) + "; echo ready; while :; do sleep 0.1; done"]


def mounts_of(ctrd, cid):
    return h.mounts_under(os.path.join(ctrd.dir, "state", "io.containerd.runtime.v2.task", NS, cid))


def assert_gone(ctr, cid):
    """What a user checks after the task and container are removed."""
    assert cid not in ctr("tasks", "ls", "-q").stdout.split()
    assert cid not in ctr("containers", "ls", "-q").stdout.split()
    assert husk_state(ctr.d, cid) is None
    assert h.cgroup_dirs_named(cid) == []
    assert mounts_of(ctr.d, cid) == []


# ---- tests ------------------------------------------------------------------------

def test_run_rm_prints_output_propagates_exit_code_leaves_nothing(ctr):
    cid, r = ctr.run("--rm", cmd=["sh", "-c", "echo hello; echo pid=$$; echo oops >&2; exit 3"],
                     check=False)
    assert r.returncode == 3, describe(r, ctr.d)
    assert r.stdout == "hello\npid=1\n" and r.stderr == "oops\n", describe(r)
    assert_gone(ctr, cid)


def test_run_rm_exit_zero(ctr):
    cid, r = ctr.run("--rm", cmd=["true"], check=False)
    assert r.returncode == 0, describe(r, ctr.d)
    assert_gone(ctr, cid)


def test_run_missing_executable_reports_runtime_error(ctr):
    cid, r = ctr.run("--rm", cmd=["/no/such/binary"], check=False)
    assert r.returncode != 0
    assert "OCI runtime create failed" in r.stderr, describe(r, ctr.d)
    assert "/no/such/binary" in r.stderr and "no such file or directory" in r.stderr, describe(r)
    assert_gone(ctr, cid)


def test_detached_task_is_in_its_cgroup_with_pid_from_pid_file(ctr):
    cid = ctr.detached("sleep", "1000")
    pid = ctr.task_pid(cid)
    assert h.read_text(f"/proc/{pid}/cmdline") == "sleep\x001000\x00"
    st = husk_state(ctr.d, cid)
    assert st and st["status"] == "running" and st["pid"] == pid, st
    procs_file = ctr.cgroup_file(cid, "pids", "cgroup.procs", "cgroup.procs")
    assert h.cgroup_procs(os.path.dirname(procs_file)) == [pid]
    # Nothing of this container's anywhere else: not at /<namespace>/<id>
    # (ctr's default) and nowhere under the caller's cgroup.
    for d in h.cgroup_dirs_named(cid):
        assert f"/{h.CGROUP_PARENT}/{cid}" in d, d
    assert h.cgroup_dirs_named(NS) == []
    r = ctr("tasks", "kill", "-s", "SIGKILL", cid)
    ctr.wait_task(cid, "STOPPED")
    r = ctr("tasks", "rm", cid)
    assert "exit with non-zero exit code 137" in r.stderr, describe(r, ctr.d)
    assert not h.alive(pid)
    ctr("containers", "rm", cid)
    assert_gone(ctr, cid)


@pytest.mark.skipif(os.path.basename(h.HUSK_BIN) != "husk",
                    reason="runc nests a relative cgroupsPath under its own cgroup")
def test_relative_cgroup_path_is_under_the_hierarchy_root(ctr):
    cid = ctr.new_id()
    # ctr passes --cgroup as linux.cgroupsPath; husk reads a relative path
    # from each hierarchy's root, never from its caller's cgroup.
    ctr.run("-d", cmd=["sleep", "1000"], cid=cid, cgroup=ctr.cgroup(cid).lstrip("/"))
    ctr.wait_task(cid, "RUNNING")
    dirs = h.cgroup_dirs_named(cid)
    assert dirs and all(d.endswith(f"/{h.CGROUP_PARENT}/{cid}") for d in dirs), dirs
    assert ctr.task_pid(cid) in h.cgroup_procs(
        os.path.dirname(ctr.cgroup_file(cid, "pids", "cgroup.procs", "cgroup.procs")))


def test_foreground_run_gets_signals_and_propagates_exit_code(ctr, foreground):
    f = foreground(*trap_script("USR1", "HUP"))
    f.wait_output("ready")
    ctr("tasks", "kill", "-s", "SIGUSR1", f.cid)
    f.wait_output("got USR1")
    ctr("tasks", "kill", "-s", "HUP", f.cid)  # name without SIG
    f.wait_output("got HUP")
    ctr("tasks", "kill", f.cid)  # default SIGTERM
    assert f.wait() == 42, f.text()
    assert f.text().split() == ["ready", "got", "USR1", "got", "HUP", "got", "TERM"], f.text()


def test_foreground_run_killed_exits_137(ctr, foreground):
    f = foreground("sleep", "1000", flags=("--rm",))
    ctr.wait_task(f.cid, "RUNNING")
    ctr("tasks", "kill", "-s", "SIGKILL", f.cid)
    assert f.wait() == 137, f.text()
    h.wait_for(lambda: f.cid not in ctr("containers", "ls", "-q").stdout.split(),
               what="ctr run --rm to remove the container")
    assert_gone(ctr, f.cid)


def test_task_ps_lists_host_pids_of_all_processes(ctr):
    cid = ctr.detached("sh", "-c", "sleep 1000 & sleep 1001 & wait")
    cg = os.path.dirname(ctr.cgroup_file(cid, "pids", "cgroup.procs", "cgroup.procs"))
    h.wait_for(lambda: len(h.cgroup_procs(cg)) == 3, what="3 processes in the cgroup")
    r = ctr("tasks", "ps", cid)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "INFO"], r.stdout
    pids = sorted(int(l.split()[0]) for l in lines[1:])
    assert pids == sorted(h.cgroup_procs(cg))
    cmds = sorted(h.read_text(f"/proc/{p}/cmdline").replace("\0", " ").strip() for p in pids)
    assert cmds == ["sh -c sleep 1000 & sleep 1001 & wait", "sleep 1000", "sleep 1001"]


def test_kill_all_signals_every_process(ctr, foreground):
    child = 'trap "echo child got USR1; exit 0" USR1; echo child ready; while :; do sleep 0.1; done'
    f = foreground("sh", "-c", f'( {child} ) & trap "echo parent got USR1" USR1; '
                   'echo ready; while :; do sleep 0.1; done')
    f.wait_output("ready")
    f.wait_output("child ready")
    ctr("tasks", "kill", "--all", "-s", "SIGUSR1", f.cid)
    f.wait_output("parent got USR1")
    f.wait_output("child got USR1")
    ctr("tasks", "kill", "-a", "-s", "SIGKILL", f.cid)
    assert f.wait() == 137, f.text()


def test_pause_and_resume(ctr, foreground):
    f = foreground("sh", "-c", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done")
    f.wait_output("tick 3")
    ctr("tasks", "pause", f.cid)
    assert ctr.task_status(f.cid) == "PAUSED"
    assert husk_state(ctr.d, f.cid)["status"] == "paused"
    if V2_HOST:
        assert h.read_text(ctr.cgroup_file(f.cid, "", "", "cgroup.freeze")).strip() == "1"
    else:
        assert h.read_text(ctr.cgroup_file(f.cid, "freezer", "freezer.state", "")).strip() \
            == "FROZEN"
    ticks = f.text().count("tick")
    time.sleep(0.5)  # not a timed assertion: a frozen task makes no progress at all
    assert f.text().count("tick") == ticks
    ctr("tasks", "resume", f.cid)
    assert ctr.task_status(f.cid) == "RUNNING"
    f.wait_output(f"tick {ticks + 3}")
    ctr("tasks", "kill", "-s", "SIGKILL", f.cid)
    assert f.wait() == 137


def test_task_rm_force_running(ctr):
    cid = ctr.detached("sh", "-c", "sleep 1000 & exec sleep 1001")
    pid = ctr.task_pid(cid)
    cg = os.path.dirname(ctr.cgroup_file(cid, "pids", "cgroup.procs", "cgroup.procs"))
    h.wait_for(lambda: len(h.cgroup_procs(cg)) == 2, what="2 processes in the cgroup")
    others = [p for p in h.cgroup_procs(cg) if p != pid]
    r = ctr("tasks", "rm", "-f", cid)
    assert "exit code 137" in r.stderr, describe(r, ctr.d)
    assert cid not in ctr("tasks", "ls", "-q").stdout.split()
    assert not h.alive(pid) and not any(h.alive(p) for p in others)
    ctr("containers", "rm", cid)
    assert_gone(ctr, cid)


def test_task_rm_force_paused(ctr):
    cid = ctr.detached("sh", "-c", "sleep 1000 & exec sleep 1001")
    cg = os.path.dirname(ctr.cgroup_file(cid, "pids", "cgroup.procs", "cgroup.procs"))
    h.wait_for(lambda: len(h.cgroup_procs(cg)) == 2, what="2 processes in the cgroup")
    pids = h.cgroup_procs(cg)
    ctr("tasks", "pause", cid)
    r = ctr("tasks", "rm", "-f", cid)
    assert "exit code 137" in r.stderr, describe(r, ctr.d)
    assert not any(h.alive(p) for p in pids)
    ctr("containers", "rm", cid)
    assert_gone(ctr, cid)


def test_memory_limit_at_create_and_update(ctr):
    cid = ctr.detached("sleep", "1000", flags=("--memory-limit", str(96 << 20)))
    mem = ctr.cgroup_file(cid, "memory", "memory.limit_in_bytes", "memory.max")
    assert int(h.read_text(mem)) == 96 << 20
    update_resources(ctr.d, cid, {"memory": {"limit": 64 << 20}, "pids": {"limit": 42}})
    assert int(h.read_text(mem)) == 64 << 20
    assert h.read_text(ctr.cgroup_file(cid, "pids", "pids.max", "pids.max")).strip() == "42"
    # The task keeps running with the new limits, and the shim (which finds
    # the cgroup from the init pid) reports them.
    assert ctr.task_status(cid) == "RUNNING"
    metrics = dict(l.split()[:2] for l in ctr("tasks", "metrics", cid).stdout.splitlines()
                   if len(l.split()) == 2)
    if not V2_HOST:
        assert metrics["memory.limit_in_bytes"] == str(64 << 20), metrics
        assert metrics["pids.limit"] == "42" and metrics["pids.current"] == "1", metrics


def assert_half_a_cpu_at_512_shares(ctr, cid):
    if V2_HOST:
        assert h.read_text(ctr.cgroup_file(cid, "", "", "cpu.max")).split() == ["50000", "100000"]
    else:
        assert h.read_text(ctr.cgroup_file(cid, "cpu", "cpu.shares", "")).strip() == "512"
        assert h.read_text(ctr.cgroup_file(cid, "cpu", "cpu.cfs_quota_us", "")).strip() \
            == "50000"


def test_cpu_update(ctr):
    cid = ctr.detached("sleep", "1000")
    update_resources(ctr.d, cid, {"cpu": {"shares": 512, "quota": 50000, "period": 100000}})
    assert_half_a_cpu_at_512_shares(ctr, cid)


def test_cpu_options_at_create(ctr):
    cid = ctr.detached("sleep", "1000", flags=("--cpu-shares", "512", "--cpus", "0.5"))
    assert_half_a_cpu_at_512_shares(ctr, cid)


def run_in_pty(ctrd, mark, args, rows=24, cols=80):
    """ctr args... on a new pty of rows x cols (its controlling terminal)."""
    return h.Pty(ctrd.ctr_cmd(*args), ctrd.env(mark), rows, cols)


def test_interactive_tty(ctr):
    cid = ctr.new_id()
    t = run_in_pty(ctr.d, ctr.ctx.mark, ctr.run_args(cid, "--rm", "-t", cmd=["sh"]),
                   rows=33, cols=111)
    t.shell_session(7, CTR_TIMEOUT)
    h.wait_for(lambda: cid not in ctr("containers", "ls", "-q").stdout.split(),
               what="ctr run --rm to remove the container")
    assert_gone(ctr, cid)


def test_detached_tty_then_attach(ctr):
    cid = ctr.new_id()
    # ctr takes the size of the new pty from its own terminal: it needs one.
    t = run_in_pty(ctr.d, ctr.ctx.mark, ctr.run_args(cid, "-d", "-t", cmd=["sh"]))
    try:
        assert t.wait(CTR_TIMEOUT) == 0, t.buf
    finally:
        t.close()
    ctr.wait_task(cid, "RUNNING")
    t = run_in_pty(ctr.d, ctr.ctx.mark, ["tasks", "attach", cid])
    try:
        t.write(b"echo $((2+3))x; tty\n")
        out = t.read_until(b"/dev/pts/")
        assert b"5x" in out, out
        t.write(b"exit 3\n")
        # attach returns the task's exit status and deletes the task.
        assert t.wait(CTR_TIMEOUT) == 3
    finally:
        t.close()
    assert cid not in ctr("tasks", "ls", "-q").stdout.split()
    assert husk_state(ctr.d, cid) is None


def test_task_start_again_after_delete(ctr):
    """A second task of the same container: same id, same runc root."""
    cid, r = ctr.run("-d", cmd=["sh", "-c", "echo run; exit 5"])
    ctr.wait_task(cid, "STOPPED")
    assert "exit code 5" in ctr("tasks", "rm", cid).stderr
    assert husk_state(ctr.d, cid) is None
    r = ctr("tasks", "start", "--fifo-dir", ctr.d.fifo_dir, cid, check=False)
    assert r.returncode == 5 and r.stdout == "run\n", describe(r, ctr.d)
    # A foreground `ctr task start` deletes the task itself.
    assert cid not in ctr("tasks", "ls", "-q").stdout.split()
    ctr("containers", "rm", cid)
    assert_gone(ctr, cid)

def _host_cap(name):
    for line in h.read_text("/proc/self/status").splitlines():
        if line.startswith(name + ":"):
            return line.split()[1]
    raise AssertionError(f"no {name} in /proc/self/status")


# ctr run options that change the OCI config the runtime gets:
# (flags, command, expected stdout or a function of it, expected exit code).
RUN_OPTIONS = {
    # go-runc hands a read-only /dev/null as stdout/stderr (os.Open):
    # both echos must succeed for exit status 9.
    "null-io": (["--null-io"], "echo out && echo err >&2 && exit 9", "", 9),
    "read-only": (["--read-only"], "touch /x 2>&1; echo rc=$?",
                  "touch: /x: Read-only file system\nrc=1\n", 0),
    "env-cwd": (["--cwd", "/tmp", "--env", "FOO=bar baz"], 'pwd; echo "$FOO"',
                "/tmp\nbar baz\n", 0),
    "bind-mount-ro": (["--mount", "type=bind,src=/etc,dst=/hostetc,options=rbind:ro"],
                      "cat /hostetc/hostname; touch /hostetc/x 2>/dev/null; echo rc=$?",
                      lambda out: out == h.read_text("/etc/hostname") + "rc=1\n", 0),
    "caps": (["--cap-drop", "CAP_CHOWN"], "chown 1 /tmp 2>&1; echo rc=$?",
             "chown: /tmp: Operation not permitted\nrc=1\n", 0),
    "privileged": (["--privileged"], "grep CapEff /proc/self/status; test -c /dev/kmsg && echo kmsg",
                   lambda out: out.split() == ["CapEff:", _host_cap("CapBnd"), "kmsg"], 0),
    "seccomp": (["--seccomp"], "grep Seccomp: /proc/self/status", "Seccomp:\t2\n", 0),
    "userns": (["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"],
               "cat /proc/self/uid_map; id -u; ls -ln /bin/busybox | awk '{print $3}'",
               lambda out: out.split() == ["0", "100000", "65536", "0", "0"], 0),
    "net-host": (["--net-host"], "cat /proc/sys/kernel/hostname; ls /sys/class/net | grep -c .",
                 lambda out: out.split()[0] == platform.node() and int(out.split()[1]) > 1, 0),
}


@pytest.mark.parametrize("name", sorted(RUN_OPTIONS))
def test_run_option(ctr, name):
    flags, script, expect, code = RUN_OPTIONS[name]
    cid, r = ctr.run("--rm", *flags, cmd=["sh", "-c", script], check=False)
    assert r.returncode == code, describe(r, ctr.d) + "\n--- log.json\n" + ctr.log_json(cid)
    if callable(expect):
        assert expect(r.stdout), describe(r)
    else:
        assert r.stdout == expect, describe(r)
    assert_gone(ctr, cid)


# ---- ctr task exec (husk exec --process FILE --detach --pid-file ...) --------------

def test_exec_output_and_exit_code(ctr):
    cid = ctr.detached("sleep", "1000")
    r = ctr("tasks", "exec", "--exec-id", "e1", "--fifo-dir", ctr.d.fifo_dir, cid,
            "sh", "-c", "echo in $(cat /proc/1/cmdline | tr '\\0' ' '); echo err >&2; exit 4",
            check=False)
    assert r.returncode == 4, describe(r, ctr.d) + "\n--- log.json\n" + ctr.log_json(cid)
    assert r.stdout == "in sleep 1000\n" and r.stderr == "err\n", describe(r)
    # The exec'd process is gone; the task keeps running.
    assert ctr.task_status(cid) == "RUNNING"
    assert [int(l.split()[0]) for l in ctr("tasks", "ps", cid).stdout.splitlines()[1:]] \
        == [ctr.task_pid(cid)]


def test_exec_user_cwd_and_missing_binary(ctr):
    cid = ctr.detached("sleep", "1000")
    r = ctr("tasks", "exec", "--exec-id", "e1", "--fifo-dir", ctr.d.fifo_dir, "--user", "65534",
            "--cwd", "/tmp", cid, "sh", "-c", "id -u; pwd")
    assert r.stdout == "65534\n/tmp\n", describe(r)
    r = ctr("tasks", "exec", "--exec-id", "e2", "--fifo-dir", ctr.d.fifo_dir, cid,
            "/no/such/binary", check=False)
    assert r.returncode != 0
    assert "OCI runtime exec failed" in r.stderr and "/no/such/binary" in r.stderr, describe(r)
    assert ctr.task_status(cid) == "RUNNING"


def test_exec_tty(ctr):
    cid = ctr.detached("sleep", "1000")
    t = run_in_pty(ctr.d, ctr.ctx.mark, ["tasks", "exec", "-t", "--exec-id", "e1", "--fifo-dir",
                                         ctr.d.fifo_dir, cid, "sh"], rows=40, cols=100)
    t.shell_session(6, CTR_TIMEOUT)
    assert ctr.task_status(cid) == "RUNNING"


def test_exec_detached_is_listed_and_killed(ctr):
    cid = ctr.detached("sleep", "1000")
    init = ctr.task_pid(cid)
    ctr("tasks", "exec", "-d", "--exec-id", "e1", "--fifo-dir", ctr.d.fifo_dir, cid,
        "sleep", "1001")
    cg = os.path.dirname(ctr.cgroup_file(cid, "pids", "cgroup.procs", "cgroup.procs"))
    h.wait_for(lambda: len(h.cgroup_procs(cg)) == 2, what="exec'd process in the cgroup")
    pids = sorted(int(l.split()[0]) for l in ctr("tasks", "ps", cid).stdout.splitlines()[1:])
    assert pids == sorted(h.cgroup_procs(cg))
    (exec_pid,) = [p for p in pids if p != init]
    assert h.read_text(f"/proc/{exec_pid}/cmdline") == "sleep\x001001\x00"
    ctr("tasks", "kill", "--exec-id", "e1", "-s", "SIGKILL", cid)
    h.wait_for(lambda: not h.alive(exec_pid), what="exec'd process to die")
    assert ctr.task_status(cid) == "RUNNING" and h.alive(init)
