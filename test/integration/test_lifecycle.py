"""Container lifecycle through the CLI: create, start, state, kill, delete,
run, list, with the status transitions and runc's error wording."""

import json
import os
import re
import time

import pytest

import helpers as h
from helpers import probe


def start_waiting(husk, bundle, tmp, cid="c1"):
    """A running container whose pid 1 waits for a signal; returns its stdout path."""
    out = os.path.join(tmp, f"{cid}.out")
    b = bundle(args=probe("wait-signal"))
    husk.create_ok(cid, b, stdout=out)
    husk.start_ok(cid)
    h.wait_file_contains(out, "waiting")
    return out


def test_create_leaves_created_container_with_pid_file(husk, bundle, tmp):
    b = bundle(args=probe("sleep 100"))
    pid_file = os.path.join(tmp, "pid")
    t0 = time.monotonic()
    r = husk.create("c1", b, "--pid-file", pid_file)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 20
    text = h.read_text(pid_file)
    assert re.fullmatch(r"[1-9][0-9]*", text), repr(text)  # no newline
    st = husk.state("c1")
    assert st["status"] == "created"
    assert st["id"] == "c1"
    assert st["pid"] == int(text)
    assert st["bundle"] == b.path
    assert st["ociVersion"]
    assert h.alive(st["pid"])
    # The user process has not run yet: pid 1 is still husk's init, not the probe.
    assert h.read_text(f"/proc/{st['pid']}/cmdline").split("\0")[0] != "/probe"


def test_state_goes_created_running_stopped(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("wait-signal"))
    husk.create_ok("c1", b, stdout=out)
    assert h.read_text(out, "") == ""
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    st = husk.state("c1")
    assert st["status"] == "running"
    pid = st["pid"]
    assert h.read_text(f"/proc/{pid}/cmdline").split("\0")[0] == "/probe"
    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")
    assert not h.alive(pid)


def test_process_that_exits_makes_container_stopped(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("pid"))
    husk.create_ok("c1", b, stdout=out)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "1\n"
    r = husk.delete("c1")
    assert r.rc == 0, r
    assert husk.status("c1") is None
    assert husk.ids() == []
    assert b.cgroup_dirs() == []


@pytest.mark.parametrize("sig", ["TERM", "SIGTERM", "15"])
def test_kill_signal_spellings(husk, bundle, tmp, sig):
    out = start_waiting(husk, bundle, tmp)
    r = husk.kill("c1", sig)
    assert r.rc == 0, r
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "waiting\n15\n"


def test_kill_default_signal_is_term(husk, bundle, tmp):
    out = start_waiting(husk, bundle, tmp)
    assert husk.kill("c1").rc == 0
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "waiting\n15\n"


def test_kill_other_signal_reaches_process(husk, bundle, tmp):
    out = start_waiting(husk, bundle, tmp)
    assert husk.kill("c1", "USR1").rc == 0
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "waiting\n10\n"


def test_kill_kill(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    pid = husk.state("c1")["pid"]
    r = husk.kill("c1", "KILL")
    assert r.rc == 0, r
    husk.wait_status("c1", "stopped")
    assert not h.alive(pid)


def test_kill_created_container(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")
    assert not h.alive(pid)


def test_kill_all(husk, bundle, tmp):
    out = start_waiting(husk, bundle, tmp)
    r = husk.kill("c1", "TERM", all=True)
    assert r.rc == 0, r
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "waiting\n15\n"


def test_kill_stopped_container_fails(husk, bundle):
    b = bundle(args=probe("exit 0"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk.kill("c1", "KILL")
    assert r.rc != 0
    assert "container not running" in r.err, r


def test_delete_removes_everything(husk, bundle):
    b = bundle(args=probe("exit 0"))
    husk.create_ok("c1", b)
    assert b.cgroup_dirs(), "create must make the container's cgroup"
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk.delete("c1")
    assert r.rc == 0, r
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_delete_running_without_force_fails(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk.delete("c1")
    assert r.rc != 0
    assert "running" in r.err, r
    assert husk.status("c1") == "running"


def test_delete_force_running(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    pid = husk.state("c1")["pid"]
    r = husk.delete("c1", force=True)
    assert r.rc == 0, r
    assert not h.alive(pid)
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_delete_force_created(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    r = husk.delete("c1", force=True)
    assert r.rc == 0, r
    assert not h.alive(pid)
    assert husk.nothing_left() == []


@pytest.mark.parametrize("with_config", [True, False], ids=["config", "no-config"])
def test_truncated_state_record_needs_force_and_force_removes_it(husk, with_config):
    # What a power loss can leave in a disk-backed root (records are renamed
    # into place, not fsynced): a record that does not parse, next to an
    # empty config.json (or, damaged further, without one). Plain delete
    # refuses, naming the file; --force removes the directory.
    d = os.path.join(husk.root, "c1")
    os.makedirs(d)
    open(os.path.join(d, "state.json"), "w").close()
    if with_config:
        open(os.path.join(d, "config.json"), "w").close()
    r = husk.delete("c1")
    assert r.rc != 0
    assert "state.json" in r.err, r
    assert os.path.isdir(d)
    r = husk.delete("c1", force=True)
    assert r.rc == 0, r
    assert not os.path.exists(d)
    assert husk.status("c1") is None


def test_delete_created_container(husk, bundle):
    # runc and crun allow deleting a created container without --force.
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    r = husk.delete("c1")
    assert r.rc == 0, r
    assert not h.alive(pid)
    assert husk.nothing_left() == []


def test_run_returns_container_exit_code(husk, bundle):
    b = bundle(args=probe("exit 7"))
    r = husk.run("c1", b)
    assert r.rc == 7, r
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_run_prints_container_output(husk, bundle):
    b = bundle(args=probe("hostname", "pid", "cat /etc/hostname"))
    b.patch({"hostname": "box"})
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out == "box\n1\nhusk\n"


def test_run_detach(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("wait-signal"))
    t0 = time.monotonic()
    r = husk.run("c1", b, "--detach", stdout=out)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 20
    assert husk.status("c1") == "running"
    h.wait_file_contains(out, "waiting")
    assert husk.kill("c1", "INT").rc == 0
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "waiting\n2\n"
    assert husk.delete("c1").rc == 0


def test_run_keep(husk, bundle):
    b = bundle(args=probe("exit 3"))
    r = husk.run("c1", b, "--keep")
    assert r.rc == 3, r
    assert husk.status("c1") == "stopped"
    assert husk.delete("c1").rc == 0
    assert husk.nothing_left() == []


def test_run_with_pid_file(husk, bundle, tmp):
    b = bundle(args=probe("sleep 100"))
    pid_file = os.path.join(tmp, "pid")
    r = husk.run("c1", b, "--detach", "--pid-file", pid_file)
    assert r.rc == 0, r
    assert int(h.read_text(pid_file)) == husk.state("c1")["pid"]


def test_list(husk, bundle):
    b1 = bundle(args=probe("sleep 100"))
    b2 = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b1)
    husk.create_ok("c2", b2)
    husk.start_ok("c2")
    r = husk("list", "-q")
    assert r.rc == 0, r
    assert sorted(r.out.split()) == ["c1", "c2"]
    r = husk("list", "--format", "json")
    assert r.rc == 0, r
    entries = {e["id"]: e for e in json.loads(r.out)}
    assert set(entries) == {"c1", "c2"}
    assert entries["c1"]["status"] == "created"
    assert entries["c2"]["status"] == "running"
    assert entries["c1"]["pid"] == husk.state("c1")["pid"]
    assert entries["c1"]["bundle"] == b1.path
    r = husk("list")
    assert r.rc == 0, r
    assert r.out.split("\n")[0].split()[:3] == ["ID", "PID", "STATUS"]
    assert re.search(r"^c2\s+\d+\s+running\s", r.out, re.M), r


def test_list_empty_root(husk):
    r = husk("list", "-q")
    assert r.rc == 0, r
    assert r.out == ""


def test_state_of_nonexistent_container(husk):
    r = husk("state", "nope")
    assert r.rc != 0
    assert "does not exist" in r.err, r
    assert "nope" in r.err, r


def test_create_makes_missing_root(husk, bundle, tmp):
    other = husk.with_root(os.path.join(tmp, "deep", "root"), make=False)
    b = bundle(args=probe("exit 0"))
    other.create_ok("c1", b)
    assert other.ids() == ["c1"]


def test_state_json_after_start(husk, bundle):
    b = bundle(args=probe("sleep 100"), patch={"annotations": {"org.example.k": "v"}})
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    st = husk.state("c1")
    assert st["status"] == "running"
    assert st["annotations"] == {"org.example.k": "v"}
    assert st["pid"] > 0


@pytest.mark.parametrize("seccomp", [False, True])
def test_state_root_is_empty_once_the_last_container_is_deleted(husk, bundle, seccomp):
    """`ls` of the state root after the last delete shows nothing: the record
    of parent cgroups husk made (.cgroup-parents) goes with the last of them,
    here a parent made for two containers below it, and compiled seccomp
    filters are cached outside the state root."""
    patch = {}
    if seccomp:
        patch["linux"] = {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}}
    made = []
    for cid in ("c1", "c2"):
        b = bundle(args=probe("sleep 100"), patch=patch)
        b.cgroup_path = b.cgroup_path + "-parent/" + cid
        b.config["linux"]["cgroupsPath"] = b.cgroup_path
        b.write()
        husk.create_ok(cid, b)
        made.append(b)
    assert ".cgroup-parents" in os.listdir(husk.root)
    for cid in ("c1", "c2"):
        assert husk.delete(cid, force=True).rc == 0
    assert sorted(os.listdir(husk.root)) == []
    for b in made:
        assert [d for d in h.hierarchy_dirs(os.path.dirname(b.cgroup_path))
                if os.path.isdir(d)] == []
