"""`husk exec`: a new process in a live container. It must see what the
container's init sees (namespaces, root, cgroup), get the container's
identity and restrictions (user, env, capabilities, no_new_privs, seccomp)
with the command line's overrides, and report its exit or failure the way
runc does (podman and containerd read the message; the pid file and pidfd
are how they find the process)."""

import json
import os
import select
import signal

import pytest

import helpers as h
from helpers import probe

PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NS = ["mnt", "uts", "ipc", "net", "pid", "cgroup", "user"]


def running(husk, bundle, cid="c1", args=None, patch=None):
    """A started container whose init waits; returns (bundle, init pid)."""
    b = bundle(args=args or probe("sleep 1000"), patch=patch)
    husk.create_ok(cid, b)
    husk.start_ok(cid)
    return b, husk.state(cid)["pid"]


def exec_ok(husk, *args, **kw):
    r = husk("exec", *args, **kw)
    assert r.rc == 0, r
    return r.out


def container_pids(husk, cid="c1"):
    r = husk("ps", "--format", "json", cid)
    assert r.rc == 0, r
    return sorted(json.loads(r.out))


def kill_pid(pid):
    """SIGKILL a detached exec'd process and reap it: it was reparented to us
    (a subreaper), and until its parent reaps it the container's init cannot
    finish exiting (its pid namespace still holds the zombie)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    h.wait_for(lambda: not h.alive(pid), what=f"exec'd process {pid} gone")
    h.reap_orphans()


def status_of(pid, key):
    for line in h.read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {key} in /proc/{pid}/status")


# ---- what the process sees ------------------------------------------------

def test_exec_enters_every_namespace_of_the_init(husk, bundle):
    b, init = running(husk, bundle, patch={"hostname": "exec-box"})
    cmds = [f"readlink /proc/self/ns/{n}" for n in NS]
    out = exec_ok(husk, "c1", *probe("pid", "hostname", *cmds)).splitlines()
    assert int(out[0]) > 1  # not the init, but numbered inside the container
    assert out[1] == "exec-box"
    for n, line in zip(NS, out[2:]):
        assert line == os.readlink(f"/proc/{init}/ns/{n}"), n
    assert os.readlink(f"/proc/{init}/ns/pid") != os.readlink("/proc/self/ns/pid")


def test_exec_sees_the_container_processes(husk, bundle):
    running(husk, bundle)
    out = exec_ok(husk, "c1", *probe("pid", "ls /proc")).splitlines()
    me = out[0]
    pids = sorted(int(x) for x in out[1:] if x.isdigit())
    # Only the init (1) and the exec'd process itself: a pid namespace view.
    assert pids == sorted({1, int(me)}), out


def test_exec_shares_mounts_and_root_with_init(husk, bundle):
    # /dev/shm is a tmpfs of the container's own mount namespace: what the
    # init wrote there exists nowhere else.
    b, _ = running(husk, bundle, args=probe("write /dev/shm/marker from-init", "sleep 1000"))
    with open(b.host_path("/rootfs-file"), "w") as f:
        f.write("in-rootfs")
    h.wait_for(lambda: exec_ok(husk, "c1", *probe("ls /dev/shm")) == "marker\n",
               what="init's marker")
    out = exec_ok(husk, "c1", *probe("cat /dev/shm/marker", "cat /rootfs-file", "cwd"))
    assert out == "from-initin-rootfs/\n"


def test_exec_joins_the_container_cgroup(husk, bundle, tmp):
    _, init = running(husk, bundle)
    pid_file = os.path.join(tmp, "pid")
    exec_ok(husk, "--detach", "--pid-file", pid_file, "c1", *probe("sleep 1000"))
    pid = int(h.read_text(pid_file))
    try:
        assert h.read_text(f"/proc/{pid}/cgroup") == h.read_text(f"/proc/{init}/cgroup")
        assert pid in container_pids(husk)
    finally:
        kill_pid(pid)


STD_NS = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_exec_in_user_namespace_container(husk, bundle, tmp):
    # The user namespace is entered with the others in one setns(2): the
    # process is the container's root, i.e. the mapped uid on the host.
    _, init = running(husk, bundle, patch={"linux": {
        "namespaces": STD_NS + [{"type": "user"}], "uidMappings": MAP, "gidMappings": MAP}})
    out = exec_ok(husk, "c1", *probe("id", "readlink /proc/self/ns/user")).splitlines()
    assert out == ["uid=0 gid=0 groups=", os.readlink(f"/proc/{init}/ns/user")]
    pid_file = os.path.join(tmp, "pid")
    exec_ok(husk, "-d", "--pid-file", pid_file, "-u", "1000", "c1", *probe("sleep 1000"))
    pid = int(h.read_text(pid_file))
    try:
        assert status_of(pid, "Uid").split()[:3] == ["101000"] * 3
        assert status_of(pid, "Gid").split()[:3] == ["100000"] * 3
    finally:
        kill_pid(pid)


def test_exec_in_time_namespace_container(husk, bundle):
    days = 300
    _, init = running(husk, bundle, patch={"linux": {
        "namespaces": STD_NS + [{"type": "time"}],
        "timeOffsets": {"boottime": {"secs": days * 86400, "nanosecs": 0},
                        "monotonic": {"secs": days * 86400, "nanosecs": 0}}}})
    out = exec_ok(husk, "c1", *probe("readlink /proc/self/ns/time", "cat /proc/uptime"))
    lines = out.splitlines()
    assert lines[0] == os.readlink(f"/proc/{init}/ns/time")
    inside = float(lines[1].split()[0])
    host = float(h.read_text("/proc/uptime").split()[0])
    assert days * 86400 <= inside - host + 5 < days * 86400 + 60


def test_exec_in_created_container(husk, bundle):
    # runc allows exec before start; the container stays created.
    b = bundle(args=probe("sleep 1000"), patch={"hostname": "not-started"})
    husk.create_ok("c1", b)
    assert exec_ok(husk, "c1", *probe("hostname")) == "not-started\n"
    assert husk.status("c1") == "created"


# ---- process settings: config and overrides -------------------------------

def test_exec_uses_config_process_settings(husk, bundle):
    running(husk, bundle, patch={"process": {
        "env": [PATH, "FROM_CONFIG=yes"], "cwd": "/etc",
        "user": {"uid": 1000, "gid": 1001, "additionalGids": [5]}}})
    out = exec_ok(husk, "c1", *probe("id", "cwd", "env")).splitlines()
    assert out[0] == "uid=1000 gid=1001 groups=5"
    assert out[1] == "/etc"
    assert "FROM_CONFIG=yes" in out[2:]
    assert PATH in out[2:]


def test_exec_overrides_env_cwd_user_groups(husk, bundle):
    running(husk, bundle, patch={"process": {"env": [PATH, "A=config", "KEEP=1"]}})
    out = exec_ok(husk, "--env", "A=flag", "-e", "NEW=x y", "--cwd=/usr", "-u", "1000:1001",
                  "-g", "10", "--additional-gids", "20", "c1", "--",
                  *probe("id", "cwd", "env")).splitlines()
    assert out[0] == "uid=1000 gid=1001 groups=10,20"
    assert out[1] == "/usr"
    env = out[2:]
    assert [e for e in env if e.startswith("A=")] == ["A=flag"]  # replaced, not duplicated
    assert "NEW=x y" in env and "KEEP=1" in env


def test_exec_user_without_gid_keeps_config_gid(husk, bundle):
    running(husk, bundle, patch={"process": {"user": {"uid": 0, "gid": 42}}})
    assert exec_ok(husk, "-u", "7", "c1", *probe("id")) == "uid=7 gid=42 groups=\n"


def test_exec_capabilities_match_the_init(husk, bundle):
    _, init = running(husk, bundle)
    out = exec_ok(husk, "c1", *probe("caps"))
    caps = h.parse_kv(out)
    for key, field in (("inh", "CapInh"), ("prm", "CapPrm"), ("eff", "CapEff"),
                       ("bnd", "CapBnd"), ("amb", "CapAmb")):
        assert caps[key] == status_of(init, field), key
    want = h.caps_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    assert int(caps["eff"], 16) == want
    assert int(caps["inh"], 16) == 0 and int(caps["amb"], 16) == 0


def test_exec_cap_unknown_is_an_error(husk, bundle):
    _, init = running(husk, bundle)
    r = husk("exec", "--cap", "CAP_TEST", "c1", *probe("caps"))
    assert r.rc != 0, r
    assert '--cap: unknown capability "CAP_TEST"' in r.err, r
    assert container_pids(husk) == [init]


@h.requires("capsh")
def test_exec_cap_husk_lacks_is_an_error(husk, bundle):
    # The exec'd process is husk's clone, bounded by husk's own bounding set,
    # whatever the container's init has.
    _, init = running(husk, bundle)
    without = h.without_cap("CAP_SYS_BOOT")
    r = husk("exec", "--cap", "CAP_SYS_BOOT", "c1", *probe("caps"), wrapper=without)
    assert r.rc != 0, r
    assert ("process.capabilities.bounding: CAP_SYS_BOOT cannot be granted: it is not in "
            "husk's own bounding set") in r.err, r
    assert container_pids(husk) == [init]
    # Not asked for, it is no error.
    out = exec_ok(husk, "--cap", "CAP_NET_ADMIN", "c1", *probe("caps"), wrapper=without)
    assert "CAP_NET_ADMIN" in h.caps_names(int(h.parse_kv(out)["bnd"], 16))


def test_exec_cap_flag_adds_to_all_but_inheritable(husk, bundle):
    running(husk, bundle)
    caps = h.parse_kv(exec_ok(husk, "--cap", "CAP_NET_ADMIN", "-c", "CAP_SYS_PTRACE", "c1",
                              *probe("caps")))
    want = h.caps_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
                        "CAP_NET_ADMIN", "CAP_SYS_PTRACE"])
    for key in ("prm", "eff", "bnd"):
        assert int(caps[key], 16) == want, key
    # CVE-2022-29162: never inheritable (nor ambient) unless the config says so.
    assert int(caps["inh"], 16) == 0 and int(caps["amb"], 16) == 0


@pytest.mark.parametrize("config_nnp,flags,expect", [
    (True, [], "1"), (False, [], "0"), (False, ["--no-new-privs"], "1")])
def test_exec_no_new_privs(husk, bundle, config_nnp, flags, expect):
    running(husk, bundle, patch={"process": {"noNewPrivileges": config_nnp}})
    assert exec_ok(husk, *flags, "c1", *probe("nnp")) == expect + "\n"


def test_exec_gets_the_container_seccomp_filter(husk, bundle):
    seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                             "errnoRet": 1}]}
    running(husk, bundle, patch={"linux": {"seccomp": seccomp}})
    out = exec_ok(husk, "c1", *probe("seccomp", "syscall mkdir /tmp/x")).splitlines()
    assert out == ["2", "errno=EPERM"]


def test_exec_without_seccomp_config_has_none(husk, bundle):
    running(husk, bundle)
    assert exec_ok(husk, "c1", *probe("seccomp")) == "0\n"


def test_exec_rlimits_from_config(husk, bundle):
    running(husk, bundle, patch={"process": {"rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]}})
    assert exec_ok(husk, "c1", *probe("rlimit NOFILE")) == "123 456\n"


def test_exec_process_file(husk, bundle, tmp):
    running(husk, bundle)
    spec = {"args": ["/probe", "id", ";", "cwd", ";", "env"], "cwd": "/var",
            "env": [PATH, "FROM_FILE=1"], "user": {"uid": 33, "gid": 44},
            "terminal": False, "noNewPrivileges": True}
    path = os.path.join(tmp, "process.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    out = exec_ok(husk, "--process", path, "c1").splitlines()
    assert out[0] == "uid=33 gid=44 groups="
    assert out[1] == "/var"
    assert "FROM_FILE=1" in out[2:]


# ---- fds, stdio, pid file, pidfd -------------------------------------------

def test_exec_stdio_is_inherited(husk, bundle):
    running(husk, bundle)
    r = husk("exec", "c1", "/bin/sh", "-c", "read l; echo \"got $l\"; echo err >&2",
             stdin="line1\n")
    assert r.rc == 0, r
    assert r.out == "got line1\n"
    assert r.err == "err\n"


def test_exec_closes_every_other_fd(husk, bundle):
    running(husk, bundle)
    r = husk("exec", "c1", *probe("fds"), extra_fds={3: "/dev/null", 4: "/dev/null",
                                                    9: "/dev/null"})
    assert r.rc == 0, r
    assert r.out == "0 1 2\n"


def test_exec_preserve_fds(husk, bundle, tmp):
    running(husk, bundle)
    paths = [os.path.join(tmp, f"f{i}") for i in range(3)]
    for i, p in enumerate(paths):
        with open(p, "w") as f:
            f.write(f"content{i}")
    r = husk("exec", "--preserve-fds", "2", "c1",
             *probe("fds", "cat /proc/self/fd/3", "cat /proc/self/fd/4"),
             extra_fds={3: paths[0], 4: paths[1], 5: paths[2]})
    assert r.rc == 0, r
    assert r.out == "0 1 2 3 4\ncontent0content1"


def test_exec_detach_pid_file_and_reparenting(husk, bundle, tmp):
    _, init = running(husk, bundle)
    pid_file = os.path.join(tmp, "exec.pid")
    # single-dash long flags, as go-runc may send them
    r = husk("exec", "-detach", "-pid-file", pid_file, "c1", *probe("sleep 1000"))
    assert r.rc == 0, r
    text = h.read_text(pid_file)
    assert text == text.strip() and text.isdigit()  # no newline: strconv.Atoi
    pid = int(text)
    try:
        assert h.alive(pid)
        assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init}/ns/pid")
        # husk has exited; the process is ours now (we are a subreaper).
        assert h.proc_ppid(pid) == os.getpid()
        assert os.readlink(f"/proc/{pid}/exe").endswith("/probe")
    finally:
        kill_pid(pid)


def test_exec_pidfd_socket(husk, bundle, tmp):
    running(husk, bundle)
    sock = os.path.join(tmp, "pidfd.sock")
    pid_file = os.path.join(tmp, "pid")
    listener = h.listen(sock)
    proc = husk.spawn("exec", "--detach", "--pid-file", pid_file, "--pidfd-socket", sock, "c1",
                      *probe("sleep 1000"))
    msg, fds = h.recv_fds(listener)
    r = proc.wait()
    assert r.rc == 0, r
    assert len(fds) == 1, (msg, fds)
    pidfd = fds[0]
    try:
        pid = int(h.read_text(pid_file))
        info = h.read_text(f"/proc/self/fdinfo/{pidfd}")
        assert f"Pid:\t{pid}\n" in info, info
        # It is a pidfd of that very process: signalling through it kills it,
        # and it becomes readable at exit.
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        ready, _, _ = select.select([pidfd], [], [], 20)
        assert ready == [pidfd]
    finally:
        os.close(pidfd)
        listener.close()
        kill_pid(int(h.read_text(pid_file)))


# ---- terminals --------------------------------------------------------------

def test_exec_tty_console_socket(husk, bundle, tmp):
    running(husk, bundle)
    sock = os.path.join(tmp, "console.sock")
    pid_file = os.path.join(tmp, "pid")
    listener = h.listen(sock)
    spec = {"args": ["/bin/sh", "-c", "tty; stty size; echo console-ok; read x; echo got-$x"],
            "cwd": "/", "env": [PATH], "terminal": True,
            "consoleSize": {"height": 33, "width": 111}, "user": {"uid": 0, "gid": 0}}
    path = os.path.join(tmp, "process.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    proc = husk.spawn("exec", "--detach", "--tty", "--console-socket", sock,
                      "--pid-file", pid_file, "--process", path, "c1")
    name, fds = h.recv_fds(listener)
    r = proc.wait()
    assert r.rc == 0, r
    assert name.startswith("/dev/pts/") and len(fds) == 1, (name, fds)
    master = fds[0]
    try:
        out = h.read_until(master, "console-ok")
        lines = [ln.strip() for ln in out.splitlines()]
        assert lines[0] == name, out
        assert "33 111" in lines, out
        os.write(master, b"through-the-pty\n")
        assert "got-through-the-pty" in h.read_until(master, "got-through-the-pty")
    finally:
        os.close(master)
        listener.close()
        kill_pid(int(h.read_text(pid_file)))


def test_exec_tty_foreground_relays_the_terminal(husk, bundle):
    # husk itself on a terminal (as a user would run it): it puts its terminal
    # in raw mode, relays the container's pty, and copies the window size.
    running(husk, bundle)
    proc, master = h.spawn_on_pty(
        lambda **io: husk.spawn("exec", "-t", "c1", "/bin/sh", "-c",
                                "tty; stty size; read x; echo got-$x; exit 3", **io), 27, 93)
    try:
        out = h.read_until(master, "27 93")
        assert "/dev/pts/" in out and "27 93" in out, out
        r = h.answer_read(proc, master)
        assert r.rc == 3, r
    finally:
        os.close(master)


def test_exec_tty_detach_needs_console_socket(husk, bundle):
    running(husk, bundle)
    before = container_pids(husk)
    r = husk("exec", "-t", "-d", "c1", *probe("pid"))
    assert r.rc != 0
    assert "cannot allocate tty if husk will detach without setting console socket" in r.err, r
    assert container_pids(husk) == before


# ---- exit status and signals ----------------------------------------------

def test_exec_exit_code(husk, bundle):
    running(husk, bundle)
    r = husk("exec", "c1", *probe("exit 7"))
    assert r.rc == 7, r


def test_exec_signal_death_is_128_plus_signal(husk, bundle):
    running(husk, bundle)
    r = husk("exec", "c1", "/bin/sh", "-c", "kill -9 $$")
    assert r.rc == 128 + 9, r


def test_exec_forwards_signals(husk, bundle):
    running(husk, bundle)
    proc = husk.spawn("exec", "c1", *probe("wait-signal"))
    h.wait_file_contains(proc.out_path, "waiting")
    os.kill(proc.pid, signal.SIGUSR1)
    r = proc.wait()
    assert r.rc == 0, r
    assert r.out == f"waiting\n{int(signal.SIGUSR1)}\n"


def test_exec_not_found_reports_runc_text(husk, bundle):
    running(husk, bundle)
    before = container_pids(husk)
    r = husk("exec", "c1", "nonexistent", "arg")
    assert r.rc == 255, r
    # podman maps this text to exit status 127
    assert 'exec: "nonexistent": executable file not found in $PATH' in r.err, r
    assert container_pids(husk) == before


def test_exec_not_executable_reports_permission_denied(husk, bundle):
    b, _ = running(husk, bundle)
    with open(b.host_path("/not-exec"), "w") as f:
        f.write("#!/bin/sh\n")
    r = husk("exec", "c1", "/not-exec")
    assert r.rc == 255, r
    assert 'exec: "/not-exec": permission denied' in r.err, r


def test_exec_bad_cwd(husk, bundle):
    running(husk, bundle)
    r = husk("exec", "--cwd", "/no/such/dir", "c1", *probe("cwd"))
    assert r.rc == 255, r
    assert "/no/such/dir" in r.err, r


# ---- refusals ---------------------------------------------------------------

def test_exec_paused_container_refused(husk, bundle):
    running(husk, bundle)
    assert husk("pause", "c1").rc == 0
    before = container_pids(husk)
    r = husk("exec", "c1", *probe("pid"))
    assert r.rc != 0
    assert "cannot exec in a paused container (use --ignore-paused to override)" in r.err, r
    assert container_pids(husk) == before
    assert husk("resume", "c1").rc == 0


def test_exec_ignore_paused_runs_once_resumed(husk, bundle):
    running(husk, bundle, patch={"hostname": "paused-box"})
    assert husk("pause", "c1").rc == 0
    proc = husk.spawn("exec", "--ignore-paused", "c1", *probe("hostname"))
    # Accepted: the process is in the frozen cgroup, waiting to be thawed.
    h.wait_for(lambda: len(container_pids(husk)) == 2, what="exec'd process in the cgroup")
    assert husk("resume", "c1").rc == 0
    r = proc.wait()
    assert r.rc == 0, r
    assert r.out == "paused-box\n"


def test_exec_stopped_container_refused(husk, bundle):
    b = bundle(args=probe("exit 0"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk("exec", "c1", *probe("pid"))
    assert r.rc != 0
    assert "cannot exec in a stopped container" in r.err, r
    assert husk.status("c1") == "stopped"
    assert container_pids(husk) == []


def test_exec_nonexistent_container(husk):
    r = husk("exec", "nope", "/probe", "pid")
    assert r.rc != 0
    assert 'container "nope" does not exist' in r.err, r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("args,message", [
    (["--bogus", "c1", "x"], "flag provided but not defined: -bogus"),
    (["c1"], "process args cannot be empty"),
    (["-u", "root", "c1", "x"], "--user: invalid uid \"root\""),
    # (uid_t)-1 would leave the process root (crun CVE-2026-30892)
    (["-u", "4294967295", "c1", "x"], "--user: invalid uid \"4294967295\""),
    (["-u", "0:4294967295", "c1", "x"], "--user: invalid gid \"4294967295\""),
    (["-g", "x", "c1", "y"], "--additional-gids: \"x\""),
    (["--preserve-fds", "two", "c1", "x"], "-preserve-fds"),
    (["--apparmor", "docker-default", "c1", "x"], "--apparmor: AppArmor is not enabled"),
    (["--process-label", "system_u:r:t:s0", "c1", "x"], "--process-label: SELinux"),
    (["--cgroup", "../x", "c1", "x"], "--cgroup"),
    (["--cgroup", "no-such-sub", "c1", "x"], "no-such-sub"),
    (["-e", "NOVALUE", "c1", "x"], "--env: \"NOVALUE\" is not KEY=VALUE"),
    (["--console-socket", "/nonexistent.sock", "c1", "x"], "cannot use console socket"),
])
def test_exec_bad_arguments(husk, bundle, args, message):
    running(husk, bundle)
    before = container_pids(husk)
    r = husk("exec", *args)
    assert r.rc != 0
    assert message in r.err, r
    assert container_pids(husk) == before


def test_exec_bad_process_file_names_the_field(husk, bundle, tmp):
    running(husk, bundle)
    before = container_pids(husk)
    path = os.path.join(tmp, "process.json")
    with open(path, "w") as f:
        json.dump({"args": ["/probe", "pid"], "cwd": "/", "user": {"uid": "zero", "gid": 0}}, f)
    r = husk("exec", "--process", path, "c1")
    assert r.rc != 0
    assert "user.uid" in r.err and path in r.err, r
    r = husk("exec", "--process", os.path.join(tmp, "missing.json"), "c1")
    assert r.rc != 0
    assert "--process" in r.err and "missing.json" in r.err, r
    with open(path, "w") as f:
        json.dump({"args": [], "cwd": "/"}, f)
    r = husk("exec", "--process", path, "c1")
    assert r.rc != 0
    assert "process.args" in r.err, r
    with open(path, "w") as f:
        json.dump({"args": ["/probe", "pid"], "cwd": "/", "apparmorProfile": "docker-default"}, f)
    r = husk("exec", "--process", path, "c1")
    assert r.rc != 0
    assert "process.apparmorProfile: AppArmor is not enabled" in r.err, r
    assert container_pids(husk) == before


def test_exec_refuses_the_runtime_binary(husk, bundle):
    # CVE-2019-5736: the host's husk binary, bind-mounted into the container,
    # must never be executed inside it.
    b = bundle(args=probe("sleep 1000"))
    b.config["mounts"].append({"destination": "/husk-bin", "type": "bind",
                               "source": os.path.realpath(h.HUSK_BIN), "options": ["bind", "ro"]})
    b.write()
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    before = container_pids(husk)
    r = husk("exec", "c1", "/husk-bin", "--version")
    assert r.rc != 0
    assert "refusing to execute the container runtime binary" in r.err, r
    assert "husk version" not in r.out
    assert container_pids(husk) == before


# ---- --cgroup ---------------------------------------------------------------

def test_exec_into_sub_cgroup(husk, bundle, tmp):
    b, init = running(husk, bundle)
    leaves = [d for d in b.cgroup_dirs() if os.path.basename(d) == b.cgroup_name]
    assert leaves, "container cgroup not found"
    for d in leaves:
        sub = os.path.join(d, "sub")
        os.mkdir(sub)
        for knob in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset starts empty
            if os.path.exists(os.path.join(sub, knob)):
                with open(os.path.join(sub, knob), "w") as f:
                    f.write(h.read_text(os.path.join(d, knob)).strip())
    pid_file = os.path.join(tmp, "pid")
    exec_ok(husk, "-d", "--pid-file", pid_file, "--cgroup", "sub", "c1",
            *probe("sleep 1000"))
    pid = int(h.read_text(pid_file))
    try:
        mine = h.read_text(f"/proc/{pid}/cgroup").splitlines()
        theirs = h.read_text(f"/proc/{init}/cgroup").splitlines()
        assert len(mine) == len(theirs)
        for m, t in zip(mine, theirs):
            if t.endswith(":/") and m == t:
                continue  # a hierarchy not mounted on the host: the container is not in it
            assert m == t + "/sub", (m, t)
    finally:
        kill_pid(pid)


def test_exec_writes_the_log_file_as_every_verb(husk, bundle, tmp):
    """runc opens --log before any verb: after a successful exec the file
    exists (empty), with --debug it holds exec's debug lines, and a log path
    that cannot be opened fails the call."""
    running(husk, bundle)
    quiet = os.path.join(tmp, "quiet.log")
    r = husk("--log", quiet, "exec", "c1", "/probe", "pid")
    assert r.rc == 0, r
    assert os.path.isfile(quiet) and h.read_text(quiet) == ""
    debug = os.path.join(tmp, "debug.log")
    r = husk("--log", debug, "--log-format", "json", "--debug", "exec", "c1", "/probe", "pid")
    assert r.rc == 0 and r.err == "", r
    entries = [json.loads(line) for line in h.read_text(debug).splitlines()]
    assert entries and all(e["level"] == "debug" for e in entries), entries
    assert any(e["msg"].startswith("phase=exec ") for e in entries), entries
    bad = os.path.join(tmp, "missing-dir", "x.log")
    r = husk("--log", bad, "exec", "c1", "/probe", "pid")
    assert r.rc != 0 and bad in r.err, r
    assert husk.delete("c1", force=True).rc == 0
