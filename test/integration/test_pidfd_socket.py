"""--pidfd-socket (runc >= 1.2) for create and run: the caller's AF_UNIX
stream socket receives, by SCM_RIGHTS, a pidfd of the container's init, so it
can signal and wait for exactly that process whatever happens to the pid."""

import os
import select
import signal

import helpers as h
from helpers import probe


def fdinfo_pid(fd):
    for line in h.read_text(f"/proc/self/fdinfo/{fd}").splitlines():
        if line.startswith("Pid:"):
            return int(line.split()[1])
    raise AssertionError(f"fd {fd} is not a pidfd: no Pid: in its fdinfo")


def test_create_sends_pidfd_of_init(husk, bundle, tmp):
    sock = os.path.join(tmp, "pidfd.sock")
    pid_file = os.path.join(tmp, "pid")
    listener = h.listen(sock)
    b = bundle(args=probe("wait-signal"))
    proc = husk.spawn("create", "--bundle", b.path, "--pidfd-socket", sock,
                      "--pid-file", pid_file, "c1")
    msg, fds = h.recv_fds(listener)
    r = proc.wait()
    assert r.rc == 0, r
    assert len(fds) == 1, (msg, fds)
    try:
        pid = int(h.read_text(pid_file))
        assert fdinfo_pid(fds[0]) == pid
        assert husk.state("c1")["pid"] == pid
        # The pidfd is usable: signalling through it stops the container.
        husk.start_ok("c1")
        signal.pidfd_send_signal(fds[0], signal.SIGKILL)
        readable, _, _ = select.select([fds[0]], [], [], 10)
        assert readable, "pidfd did not report the init's exit"
        husk.wait_status("c1", "stopped")
    finally:
        for fd in fds:
            os.close(fd)
        listener.close()
    assert husk.delete("c1").rc == 0


def test_run_detach_sends_pidfd_of_init(husk, bundle, tmp):
    sock = os.path.join(tmp, "pidfd.sock")
    pid_file = os.path.join(tmp, "pid")
    listener = h.listen(sock)
    b = bundle(args=probe("wait-signal"))
    proc = husk.spawn("run", "-d", "--bundle", b.path, "--pidfd-socket", sock,
                      "--pid-file", pid_file, "c1")
    msg, fds = h.recv_fds(listener)
    r = proc.wait()
    assert r.rc == 0, r
    try:
        assert len(fds) == 1
        assert fdinfo_pid(fds[0]) == int(h.read_text(pid_file))
        assert husk.status("c1") == "running"
    finally:
        for fd in fds:
            os.close(fd)
        listener.close()
    assert husk.delete("c1", force=True).rc == 0


def test_pidfd_socket_nobody_listening_fails_cleanly(husk, bundle, tmp):
    b = bundle(args=probe("wait-signal"))
    r = husk.create("c1", b, "--pidfd-socket", os.path.join(tmp, "missing.sock"))
    assert r.rc != 0, r
    assert "--pidfd-socket" in r.err, r
    assert "missing.sock" in r.err, r
    assert husk.ids() == []
    assert husk.nothing_left() == []
