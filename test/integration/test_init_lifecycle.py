"""create/start/run behaviour owned by the init and its protocol: the
console socket (runc's wire format), start against a dead init, failures
after start reported by `start`, `run` forwarding signals and returning the
container's status, socket activation fds, the session keyring, rollback."""

import fcntl
import os
import signal
import struct
import subprocess
import termios
import time

import helpers as h
from helpers import sh


def test_console_socket_gets_pty_master(husk, bundle, tmp):
    path = os.path.join(tmp, "console.sock")
    listener = h.listen(path)
    b = bundle(args=sh("tty; stat -c %t,%T /dev/console; echo console-ok; sleep 100"))
    b.patch({"process": {"terminal": True, "consoleSize": {"height": 33, "width": 111}}})
    proc = husk.spawn("create", "--bundle", b.path, "--console-socket", path, "c1")
    name, fds = h.recv_fds(listener)
    r = proc.wait()
    assert r.rc == 0, r
    assert name.startswith("/dev/pts/"), name
    assert len(fds) == 1
    master = fds[0]
    try:
        husk.start_ok("c1")
        out = h.read_until(master, "console-ok")
        lines = [ln.strip() for ln in out.splitlines()]
        # stdio is the pty slave, and /dev/console is that same pty.
        assert lines[0] == name, out
        assert "console-ok" in lines, out
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(master, termios.TIOCGWINSZ,
                                                              b"\0" * 8))
        assert (rows, cols) == (33, 111)
    finally:
        os.close(master)
        listener.close()


def test_terminal_without_console_socket_fails(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    b.patch({"process": {"terminal": True}})
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "cannot allocate tty if husk will detach without setting console socket" in r.err, r
    assert husk.nothing_left() == []


def test_console_socket_without_terminal_fails(husk, bundle, tmp):
    b = bundle(args=h.probe("exit 0"))
    r = husk.create("c1", b, "--console-socket", os.path.join(tmp, "x.sock"))
    assert r.rc != 0
    assert "console socket" in r.err, r
    assert husk.nothing_left() == []


def test_start_after_init_died_fails_fast(husk, bundle):
    b = bundle(args=h.probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    os.kill(pid, signal.SIGKILL)
    h.wait_for(lambda: not h.alive(pid), 5)
    t0 = time.monotonic()
    r = husk.start("c1", timeout=10)
    assert r.rc != 0
    assert time.monotonic() - t0 < 5
    assert "stopped" in r.err, r


def test_start_twice(husk, bundle):
    b = bundle(args=h.probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk.start("c1")
    assert r.rc != 0
    assert "cannot start an already running container" in r.err, r


def test_start_stopped(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk.start("c1")
    assert r.rc != 0
    assert "cannot start a container that has stopped" in r.err, r


def test_start_returns_once_the_program_runs(husk, bundle, tmp):
    # start waits for execve: right after it returns, /proc shows the probe.
    b = bundle(args=h.probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    husk.start_ok("c1")
    assert h.read_text(f"/proc/{pid}/cmdline").split("\0")[0] == "/probe"


def test_exec_failure_after_start_is_reported_by_start(husk, bundle, tmp):
    # The program passes create's check, then disappears before start.
    b = bundle(args=["/bin/vanishing"])
    os.link(b.host_path("/bin/busybox"), b.host_path("/bin/vanishing"))
    husk.create_ok("c1", b)
    os.unlink(b.host_path("/bin/vanishing"))
    r = husk.start("c1")
    assert r.rc != 0
    assert "/bin/vanishing" in r.err, r
    assert "no such file or directory" in r.err, r


def test_run_forwards_signals(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=h.probe("wait-signal"))
    proc = husk.spawn("run", "--bundle", b.path, "c1", stdout=out)
    h.wait_file_contains(out, "waiting")
    os.kill(proc.pid, signal.SIGUSR1)
    r = proc.wait()
    assert h.read_text(out) == "waiting\n10\n"
    assert r.rc == 0, r
    assert husk.nothing_left() == []


def test_run_exit_status_of_killed_container(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=h.probe("wait-signal"))
    proc = husk.spawn("run", "--bundle", b.path, "c1", stdout=out)
    h.wait_file_contains(out, "waiting")
    assert husk.kill("c1", "KILL").rc == 0
    r = proc.wait()
    assert r.rc == 128 + signal.SIGKILL, r
    assert husk.nothing_left() == []


def test_run_reaps_orphans_as_subreaper(husk, bundle):
    # Without a pid namespace of its own, the container's orphans are
    # reparented to husk run (a subreaper) and must not stay zombies.
    b = bundle(args=sh("sleep 0.2 & exit 0"))
    b.config["linux"]["namespaces"] = [ns for ns in b.config["linux"]["namespaces"]
                                       if ns["type"] != "pid"]
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert husk.nothing_left() == []


def test_listen_fds_are_passed(husk, bundle, tmp):
    data = os.path.join(tmp, "listen")
    with open(data, "w") as f:
        f.write("socket-activated\n")
    b = bundle(args=sh('echo "$LISTEN_FDS $LISTEN_PID"; cat <&3'))
    out, err = husk.ctx.io_paths()
    fd = os.open(data, os.O_RDONLY)
    try:
        # LISTEN_PID must name husk itself: exec keeps the shell's pid.
        cmd = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"', "sh", h.HUSK_BIN,
               "--root", husk.root, "run", "--bundle", b.path, "c1"]
        with open(out, "wb") as o, open(err, "wb") as e:
            rc = subprocess.run(cmd, stdout=o, stderr=e, stdin=subprocess.DEVNULL,
                                pass_fds=(3,), env=husk.ctx.env(),
                                preexec_fn=lambda: os.dup2(fd, 3) if fd != 3 else None,
                                timeout=30).returncode
    finally:
        os.close(fd)
    assert rc == 0, h.read_text(err)
    assert h.read_text(out) == "1 1\nsocket-activated\n"


def keys_bundle(bundle):
    b = bundle(args=sh("cat /proc/keys"))
    # The default config masks /proc/keys.
    b.config["linux"]["maskedPaths"] = [p for p in b.config["linux"].get("maskedPaths", [])
                                        if p != "/proc/keys"]
    return b.write()


@h.requires("keys")
def test_listen_fds_must_be_open(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    cmd = ["/bin/sh", "-c", 'exec 3>&- 4>&- 5>&-; LISTEN_PID=$$ LISTEN_FDS=3 exec "$@"', "sh",
           h.HUSK_BIN, "--root", husk.root, "create", "--bundle", b.path, "c1"]
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                       env=husk.ctx.env(), timeout=30)
    assert r.returncode != 0
    assert "LISTEN_FDS" in r.stderr, r.stderr
    assert husk.nothing_left() == []


def test_new_session_keyring(husk, bundle):
    r = husk.run("mykeyring", keys_bundle(bundle))
    assert r.rc == 0, r
    assert "keyring   mykeyring: empty" in r.out, r
    r = husk.run("otherid", keys_bundle(bundle), "--no-new-keyring")
    assert r.rc == 0, r
    assert "otherid" not in r.out, r


def test_failure_inside_init_leaves_nothing(husk, bundle):
    # The init fails during mounts, after the cgroup and state exist.
    b = bundle(args=h.probe("exit 0"))
    b.config["mounts"].append({"destination": "/x", "type": "bind",
                               "source": "/no/such/dir", "options": ["rbind"]})
    b.write()
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "/no/such/dir" in r.err, r
    assert husk.nothing_left() == []


def test_debug_prints_phase_durations(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    r = husk("--debug", "run", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    for phase in ("parse", "plan", "clone", "rootfs"):
        assert f"phase={phase} duration=" in r.err, r


def test_run_foreground_with_terminal(husk, bundle, tmp):
    # No --console-socket: run keeps the pty master and relays it to its stdio.
    b = bundle(args=["/bin/sh"])
    b.patch({"process": {"terminal": True, "consoleSize": {"height": 40, "width": 120}}})
    r = husk.run("c1", b, stdin="tty; stty size; echo relayed\nexit 3\n")
    assert r.rc == 3, r
    out = r.out.replace("\r\n", "\n")
    assert "/dev/pts/0\n" in out, r
    assert "40 120\n" in out, r
    assert "relayed\n" in out, r
    assert husk.nothing_left() == []


def test_run_on_a_terminal_sizes_the_pty_like_it(husk, bundle):
    # husk itself on a terminal (as a user types `husk run` with
    # process.terminal and no consoleSize): the container's pty has husk's
    # terminal size before its program runs (the program's first command
    # reads it), and typed input is relayed to it.
    b = bundle(args=sh("stty size; read x; echo got-$x; exit 4"))
    b.patch({"process": {"terminal": True}})
    proc, master = h.spawn_on_pty(lambda **io: husk.spawn("run", "--bundle", b.path, "c1", **io),
                                  29, 97)
    try:
        out = h.read_until(master, "\n", timeout=60)
        assert out.split()[:2] == ["29", "97"], out
        r = h.answer_read(proc, master)
        assert r.rc == 4, r
    finally:
        os.close(master)
    assert husk.nothing_left() == []


def test_run_detach_with_terminal_needs_console_socket(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    b.patch({"process": {"terminal": True}})
    r = husk.run("c1", b, "--detach")
    assert r.rc != 0
    assert "cannot allocate tty if husk will detach without setting console socket" in r.err, r
    assert husk.nothing_left() == []
