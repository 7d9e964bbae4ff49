"""NOTIFY_SOCKET proxy (podman --sdnotify=container, systemd Type=notify), as
runc does it: create mounts <state>/notify at /run/notify in the container and
points the process's NOTIFY_SOCKET there; start binds the socket, waits for
READY from the container and forwards READY=1 and MAINPID=<init pid> (then a
BARRIER=1) to the host's NOTIFY_SOCKET before it returns."""

import os
import socket

import helpers as h
from helpers import probe, sh


class HostSocket:
    """What systemd would hold: a datagram socket at NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def recv(self, timeout=20):
        """(message, number of fds passed); fds are closed, as systemd does
        after a BARRIER."""
        self.sock.settimeout(timeout)
        msg, fds, _, _ = socket.recv_fds(self.sock, 4096, 4)
        for fd in fds:
            os.close(fd)
        return msg.decode(), len(fds)

    def pending(self):
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096, socket.MSG_PEEK)
            return True
        except BlockingIOError:
            return False
        finally:
            self.sock.setblocking(True)

    def close(self):
        self.sock.close()


def expect_ready(host, pid):
    assert host.recv() == ("READY=1\n", 0)
    assert host.recv() == (f"MAINPID={pid}\n", 0)
    assert host.recv() == ("BARRIER=1", 1)


def test_start_waits_for_ready_and_forwards_it(husk, bundle, tmp):
    host = HostSocket(os.path.join(tmp, "host.sock"))
    env = {"NOTIFY_SOCKET": host.path}
    gate = os.path.join(tmp, "gate")
    os.makedirs(gate)
    out = os.path.join(tmp, "c1.out")
    b = bundle(args=sh("/probe env; echo gated; while [ ! -e /gate/go ]; do sleep 0.05; done;"
                       " /probe notify READY=1; exec /probe wait-signal"))
    b.config["mounts"].append({"destination": "/gate", "type": "bind", "source": gate,
                               "options": ["bind"]})
    b.write()
    assert husk.create("c1", b, stdout=out, stderr=out, env=env).rc == 0
    pid = husk.state("c1")["pid"]
    start = husk.spawn("start", "c1", env=env)
    h.wait_file_contains(out, "gated")
    # The container runs but has not said READY: start is still waiting.
    assert start.running()
    assert not host.pending()
    open(os.path.join(gate, "go"), "w").close()
    expect_ready(host, pid)
    r = start.wait()
    assert r.rc == 0, r
    h.wait_file_contains(out, "waiting")
    env_lines = h.read_text(out).splitlines()
    assert "NOTIFY_SOCKET=/run/notify/notify.sock" in env_lines
    assert husk.status("c1") == "running"
    host.close()
    assert husk.delete("c1", force=True).rc == 0


def test_run_detach_forwards_ready_with_init_pid(husk, bundle, tmp):
    host = HostSocket(os.path.join(tmp, "host.sock"))
    pid_file = os.path.join(tmp, "pid")
    b = bundle(args=probe("notify READY=1", "wait-signal"))
    run = husk.spawn("run", "-d", "--bundle", b.path, "--pid-file", pid_file, "c1",
                     env={"NOTIFY_SOCKET": host.path})
    assert host.recv() == ("READY=1\n", 0)
    assert host.recv() == (f"MAINPID={int(h.read_text(pid_file))}\n", 0)
    assert host.recv() == ("BARRIER=1", 1)
    r = run.wait()
    assert r.rc == 0, r
    assert husk.status("c1") == "running"
    host.close()
    assert husk.delete("c1", force=True).rc == 0


def test_start_returns_when_the_container_exits_without_ready(husk, bundle, tmp):
    host = HostSocket(os.path.join(tmp, "host.sock"))
    env = {"NOTIFY_SOCKET": host.path}
    b = bundle(args=probe("notify STATUS=starting", "exit 0"))
    assert husk.create("c1", b, env=env).rc == 0
    r = husk.start("c1", env=env)
    assert r.rc == 0, r
    husk.wait_status("c1", "stopped")
    # Only READY is forwarded; nothing else reached the host.
    assert not host.pending()
    host.close()
    assert husk.delete("c1").rc == 0


def test_without_notify_socket_nothing_is_added(husk, bundle, tmp):
    out = os.path.join(tmp, "c1.out")
    b = bundle(args=probe("env", "mountinfo"))
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    assert husk.create("c1", b, stdout=out, env={"NOTIFY_SOCKET": ""}).rc == 0
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    text = h.read_text(out)
    assert "NOTIFY_SOCKET" not in text
    assert "/run/notify" not in text
    assert not os.path.exists(os.path.join(husk.root, "c1", "notify"))
    assert husk.delete("c1").rc == 0


def test_notify_directory_is_read_only_in_the_container(husk, bundle, tmp):
    host = HostSocket(os.path.join(tmp, "host.sock"))
    env = {"NOTIFY_SOCKET": host.path}
    out = os.path.join(tmp, "c1.out")
    b = bundle(args=probe(["write", "/run/notify/x", "data"]))
    assert husk.create("c1", b, stdout=out, stderr=out, env=env).rc == 0
    assert husk.start("c1", env=env).rc == 0
    husk.wait_status("c1", "stopped")
    assert "EROFS" in h.read_text(out), h.read_text(out)
    assert not os.path.exists(os.path.join(husk.root, "c1", "notify", "x"))
    host.close()
    assert husk.delete("c1").rc == 0


def test_foreground_run_reports_its_own_pid_as_mainpid(husk, bundle, tmp):
    """runc run without -d stays in front of the container: it is the
    process a supervisor should watch."""
    host = HostSocket(os.path.join(tmp, "host.sock"))
    b = bundle(args=probe("notify READY=1", "exit 3"))
    run = husk.spawn("run", "--bundle", b.path, "c1", env={"NOTIFY_SOCKET": host.path})
    assert host.recv() == ("READY=1\n", 0)
    assert host.recv() == (f"MAINPID={run.pid}\n", 0)
    assert host.recv() == ("BARRIER=1", 1)
    r = run.wait()
    assert r.rc == 3, r
    assert husk.ids() == []
    host.close()
