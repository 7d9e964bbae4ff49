"""Seccomp user notification (SCMP_ACT_NOTIFY): the agent at
linux.seccomp.listenerPath gets the container process state and the
notification fd, and its answers are what the container's syscalls return.
The agent is seccomp_agent.py: a mkdir of a path whose last component starts
with "deny" fails with EOPNOTSUPP, others go ahead."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from helpers import probe, wait_for

AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seccomp_agent.py")


class Agent:
    def __init__(self):
        # A short directory: sun_path holds 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="husk-agent-")
        self.socket = os.path.join(self.dir, "agent.sock")
        self.proc = subprocess.Popen([sys.executable, AGENT, self.socket, self.dir])
        wait_for(lambda: os.path.exists(self.socket) or self.proc.poll() is not None,
                 what="the agent's socket")
        assert self.proc.poll() is None, "seccomp agent exited"

    def states(self):
        names = sorted(n for n in os.listdir(self.dir) if n.startswith("state-"))
        return [json.load(open(os.path.join(self.dir, n))) for n in names]

    def notifications(self):
        try:
            return open(os.path.join(self.dir, "notifications.log")).read().splitlines()
        except FileNotFoundError:
            return []

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def agent():
    a = Agent()
    yield a
    a.stop()


def notify_profile(agent, metadata=None, names=("mkdir", "mkdirat")):
    sc = {"defaultAction": "SCMP_ACT_ALLOW",
          "listenerPath": agent.socket if isinstance(agent, Agent) else agent,
          "syscalls": [{"names": list(names), "action": "SCMP_ACT_NOTIFY"}]}
    if metadata is not None:
        sc["listenerMetadata"] = metadata
    return sc


def mkdir_bundle(bundle, seccomp, nnp, *cmds):
    return bundle(args=probe(*cmds),
                  patch={"process": {"noNewPrivileges": nnp},
                         "root": {"readonly": False},
                         "linux": {"seccomp": seccomp}})


@pytest.mark.parametrize("nnp", [False, True])
def test_the_agent_decides_mkdir(husk, bundle, agent, nnp):
    # Without no_new_privs the filter goes in before the uid change, with it
    # before Ready (not after the exec.fifo handshake, as other filters):
    # either way the agent has the fd before the program runs.
    b = mkdir_bundle(bundle, notify_profile(agent), nnp,
                     "syscall mkdir /tmp/allowed", "syscall mkdir /tmp/deny-this",
                     "syscall getpid")
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out.splitlines() == ["ok", "errno=EOPNOTSUPP", "ok"], r
    seen = [line.split()[2:] for line in agent.notifications()]
    assert seen == [["/tmp/allowed", "allow"], ["/tmp/deny-this", "deny"]], seen
    assert len(agent.states()) == 1


def test_create_and_start_with_an_agent(husk, bundle, agent):
    # The agent answers what the container does after `start`, when the
    # husk that handed it the fd is long gone.
    b = mkdir_bundle(bundle, notify_profile(agent), True,
                     ["write", "/tmp/before", "x"], "syscall mkdir /tmp/deny-late",
                     ["write", "/tmp/after", "x"])
    husk.create_ok("c1", b)
    assert len(agent.states()) == 1
    assert agent.notifications() == []
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    assert os.path.exists(b.host_path("/tmp/after"))
    assert [line.split()[2:] for line in agent.notifications()] == [["/tmp/deny-late", "deny"]]
    assert husk.delete("c1").rc == 0


def test_the_agent_receives_the_container_process_state(husk, bundle, agent):
    b = mkdir_bundle(bundle, notify_profile(agent, metadata="MKDIR=/tmp/allowed"), False,
                     "sleep 100")
    b.patch({"annotations": {"org.example.key": "value"}})
    husk.create_ok("c1", b)
    st = husk.state("c1")
    [msg] = agent.states()
    assert msg["_nfds"] == 1
    assert msg["fds"] == ["seccompFd"]
    assert msg["pid"] == st["pid"]
    assert msg["metadata"] == "MKDIR=/tmp/allowed"
    assert msg["ociVersion"] == st["ociVersion"]
    assert msg["state"] == {"ociVersion": st["ociVersion"], "id": "c1", "status": "creating",
                            "pid": st["pid"], "bundle": b.path,
                            "annotations": {"org.example.key": "value"}}
    assert husk.delete("c1", force=True).rc == 0


def test_exec_hands_its_own_fd_to_the_agent(husk, bundle, agent):
    b = mkdir_bundle(bundle, notify_profile(agent), False, "sleep 100")
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    init_pid = husk.state("c1")["pid"]
    r = husk("exec", "c1", *probe("syscall mkdir /tmp/deny-exec", "syscall mkdir /tmp/ok-exec"))
    assert (r.rc, r.out.splitlines()) == (0, ["errno=EOPNOTSUPP", "ok"]), r
    first, second = agent.states()
    assert second["state"]["status"] == "running"
    assert second["state"]["pid"] == init_pid
    assert second["pid"] not in (0, init_pid)
    assert first["pid"] == init_pid
    assert [line.split()[2:] for line in agent.notifications()] == [
        ["/tmp/deny-exec", "deny"], ["/tmp/ok-exec", "allow"]]
    assert husk.delete("c1", force=True).rc == 0


def test_notify_without_listener_path_is_refused(husk, bundle):
    sc = notify_profile("/unused")
    del sc["listenerPath"]
    b = mkdir_bundle(bundle, sc, False, "exit 0")
    r = husk.create("c1", b)
    assert r.rc != 0, r
    assert "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used" in r.err, r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("name", ["write", "sendmsg"])
def test_notify_on_a_syscall_husk_needs_is_refused(husk, bundle, agent, name):
    b = mkdir_bundle(bundle, notify_profile(agent, names=("mkdir", name)), False, "exit 0")
    r = husk.create("c1", b)
    assert r.rc != 0, r
    assert f"linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for {name}" \
        in r.err, r
    assert agent.states() == []
    assert husk.nothing_left() == []


def test_a_listener_path_nobody_listens_on_fails_create(husk, bundle, tmp):
    missing = os.path.join(tempfile.gettempdir(), f"husk-no-agent-{os.getpid()}.sock")
    b = mkdir_bundle(bundle, notify_profile(missing), False, "exit 0")
    r = husk.create("c1", b)
    assert r.rc != 0, r
    assert "linux.seccomp.listenerPath" in r.err and missing in r.err, r
    assert husk.nothing_left() == []


def test_a_container_in_its_own_user_namespace(husk, bundle, agent):
    # The init loads the filter as root of a new user namespace (mapped to
    # 100000 on the host); the fd still reaches the agent through husk.
    maps = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b = mkdir_bundle(bundle, notify_profile(agent), True,
                     "syscall mkdir /tmp/deny-userns", "syscall mkdir /tmp/fine")
    ns = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "user")]
    b.patch({"linux": {"namespaces": ns, "uidMappings": maps, "gidMappings": maps}})
    r = husk.run("c1", b)
    assert (r.rc, r.out.splitlines()) == (0, ["errno=EOPNOTSUPP", "ok"]), r
    [msg] = agent.states()
    assert msg["state"]["status"] == "creating" and msg["_nfds"] == 1
    assert [line.split()[2:] for line in agent.notifications()] == [
        ["/tmp/deny-userns", "deny"], ["/tmp/fine", "allow"]]
