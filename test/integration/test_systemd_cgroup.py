"""--systemd-cgroup: the container's cgroup as a transient systemd unit
(cgroupsPath "slice:prefix:name"), with its limits as unit properties that
survive `systemctl daemon-reload`, and update, pause/resume, events and delete
through the same driver.

Most tests need systemd as PID 1 (scripts/vm-test --variant systemd); on a
host without it they skip, except the check that --systemd-cgroup is then a
clear error that leaves nothing behind."""

import json
import os
import subprocess

import pytest

import helpers as h
from helpers import probe

SYSTEMD = os.path.isdir("/run/systemd/system")
ROOT = h.CGROUP_ROOT
V2_HOST = os.path.exists(f"{ROOT}/cgroup.controllers")

needs_systemd = pytest.mark.skipif(not SYSTEMD, reason="systemd is not PID 1 on this host")

MIB = 1 << 20


def systemctl(*args):
    return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=60)


def show(unit, *props):
    """{property: value} of `systemctl show`."""
    r = systemctl("show", unit, *[f"-p{p}" for p in props])
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def unit_gone(unit):
    return show(unit, "LoadState")["LoadState"] == "not-found"


def unified_dir_of(pid):
    for line in h.read_text(f"/proc/{pid}/cgroup").splitlines():
        if line.startswith("0::"):
            return ROOT + line[3:]
    raise AssertionError(f"no cgroup v2 line for {pid}")


def read(path):
    return h.read_text(path).strip()


def scope_bundle(bundle, unit_name, resources=None, slice_="system.slice", prefix="husk"):
    b = bundle(args=probe("wait-signal"))
    b.config["linux"]["cgroupsPath"] = f"{slice_}:{prefix}:{unit_name}"
    if resources is not None:
        b.config["linux"]["resources"] = resources
    return b.write()


def create_started(husk, b, cid, tmp):
    out = os.path.join(tmp, f"{cid}.out")
    r = husk("--systemd-cgroup", "create", "--bundle", b.path, cid, stdout=out)
    assert r.rc == 0, r
    husk.start_ok(cid)
    h.wait_file_contains(out, "waiting")
    return husk.state(cid)["pid"]


@pytest.mark.skipif(SYSTEMD, reason="checks the error of a host without systemd")
def test_systemd_cgroup_without_systemd_is_a_clear_error(husk, bundle):
    b = bundle(args=probe("pid"))
    b.config["linux"]["cgroupsPath"] = f"system.slice:husk:{b.cgroup_name}"
    b.write()
    r = husk("--systemd-cgroup", "create", "--bundle", b.path, "c1")
    assert r.rc != 0, r
    assert "systemd not running on this host, cannot use systemd cgroups manager" in r.err, r
    assert husk.nothing_left() == []
    r = husk("--systemd-cgroup", "run", "--bundle", b.path, "c2")
    assert r.rc != 0 and "systemd not running" in r.err, r
    assert husk.nothing_left() == []


@needs_systemd
@pytest.mark.parametrize("path", ["/husk-test/x", "a:b", "system.slice:husk:a/b",
                                  "bad--name.slice:husk:x", "system.slice::machine-p.slice"])
def test_bad_cgroups_path_is_refused_before_any_side_effect(husk, bundle, path):
    b = bundle(args=probe("pid"))
    b.config["linux"]["cgroupsPath"] = path
    b.write()
    r = husk("--systemd-cgroup", "create", "--bundle", b.path, "c1")
    assert r.rc != 0, r
    assert "linux.cgroupsPath" in r.err, r
    assert husk.nothing_left() == []


RESOURCES = {
    "memory": {"limit": 64 * MIB, "reservation": 16 * MIB},
    "pids": {"limit": 50},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
}


@needs_systemd
def test_scope_carries_the_limits_and_survives_daemon_reload(husk, bundle, tmp):
    name = f"{h.TAG}-limits"
    unit = f"husk-{name}.scope"
    b = scope_bundle(bundle, name, RESOURCES)
    pid = create_started(husk, b, "c1", tmp)
    cg = unified_dir_of(pid)
    assert cg == f"{ROOT}/system.slice/{unit}"
    props = show(unit, "ActiveState", "Delegate", "Slice", "MemoryMax", "MemoryLow", "TasksMax",
                 "CPUWeight", "CPUQuotaPerSecUSec", "AllowedCPUs", "DevicePolicy")
    assert props["ActiveState"] == "active", props
    assert props["Delegate"] == "yes"
    assert props["Slice"] == "system.slice"
    assert props["MemoryMax"] == str(64 * MIB)
    assert props["MemoryLow"] == str(16 * MIB)
    assert props["TasksMax"] == "50"
    assert props["CPUWeight"] == "59"  # shares 512 -> weight, as runc >= 1.3.2 / crun
    assert props["CPUQuotaPerSecUSec"] == "500ms"
    assert props["AllowedCPUs"] == "0"
    assert props["DevicePolicy"] == "strict"
    files = {f: read(f"{cg}/{f}") for f in ("memory.max", "memory.low", "pids.max", "cpu.max")}
    assert files == {"memory.max": str(64 * MIB), "memory.low": str(16 * MIB),
                     "pids.max": "50", "cpu.max": "50000 100000"}
    assert systemctl("daemon-reload").returncode == 0
    assert {f: read(f"{cg}/{f}") for f in files} == files
    assert show(unit, "MemoryMax")["MemoryMax"] == str(64 * MIB)

    # update: the unit property and the file both change, and stay after a reload.
    r = husk("update", "--memory", str(128 * MIB), "--pids-limit", "70", "c1")
    assert r.rc == 0, r
    assert show(unit, "MemoryMax", "TasksMax") == {"MemoryMax": str(128 * MIB), "TasksMax": "70"}
    assert systemctl("daemon-reload").returncode == 0
    assert read(f"{cg}/memory.max") == str(128 * MIB)
    assert read(f"{cg}/pids.max") == "70"

    # pause/resume through the unit's cgroup.
    assert husk("pause", "c1").rc == 0
    assert husk.status("c1") == "paused"
    assert "frozen 1" in h.read_text(f"{cg}/cgroup.events")
    assert husk("resume", "c1").rc == 0
    assert husk.status("c1") == "running"

    r = husk("events", "--stats", "c1")
    assert r.rc == 0, r
    stats = json.loads(r.out)["data"]
    assert stats["pids"]["current"] >= 1, stats
    assert stats["memory"]["usage"]["limit"] == 128 * MIB, stats

    assert husk.delete("c1", force=True).rc == 0
    assert unit_gone(unit)
    assert not os.path.exists(cg)
    assert husk.nothing_left() == []


@needs_systemd
def test_default_placement_and_exec_join_the_scope(husk, bundle, tmp):
    b = bundle(args=probe("wait-signal"))
    del b.config["linux"]["cgroupsPath"]
    b.write()
    cid = f"{h.TAG}-dflt"
    unit = f"husk-{cid}.scope"
    pid = create_started(husk, b, cid, tmp)
    cg = f"{ROOT}/system.slice/{unit}"
    assert unified_dir_of(pid) == cg
    # An exec'd process joins the unit's cgroup too.
    p = husk.spawn("exec", cid, "/probe", "sleep", "30")
    h.wait_for(lambda: len(read(f"{cg}/cgroup.procs").split()) == 2, 10,
               what="the exec'd process in the scope")
    assert husk("kill", cid, "KILL").rc == 0
    husk.wait_status(cid, "stopped")
    p.wait()
    assert husk.delete(cid).rc == 0
    assert unit_gone(unit)
    assert not os.path.exists(f"{ROOT}/system.slice/{unit}")


@needs_systemd
def test_a_unit_that_exists_is_a_clear_error_and_left_alone(husk, bundle, tmp):
    name = f"{h.TAG}-dup"
    unit = f"husk-{name}.scope"
    other = subprocess.Popen(["systemd-run", "--scope", f"--unit={unit}", "--", "sleep", "300"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        h.wait_for(lambda: show(unit, "ActiveState")["ActiveState"] == "active", 30,
                   what=f"{unit} started by systemd-run")
        b = scope_bundle(bundle, name, RESOURCES)
        r = husk("--systemd-cgroup", "create", "--bundle", b.path, "c1")
        assert r.rc != 0, r
        # systemd 252: "Unit X was already loaded or has a fragment file."
        assert f"start unit {unit}: Unit {unit} was already loaded" in r.err, r
        assert husk.nothing_left() == []
        # The other scope was not this container's: untouched.
        assert show(unit, "ActiveState")["ActiveState"] == "active"
        assert show(unit, "MemoryMax")["MemoryMax"] == "infinity"
    finally:
        other.kill()
        other.wait()
        systemctl("stop", unit)


@needs_systemd
def test_a_slice_for_a_pod(husk, bundle, tmp):
    pod = f"machine-husk{h.TAG.replace('-', '_')}.slice"
    b = scope_bundle(bundle, pod, {"memory": {"limit": 96 * MIB}}, slice_="machine.slice")
    pid = create_started(husk, b, "c1", tmp)
    cg = unified_dir_of(pid)
    assert cg == f"{ROOT}/machine.slice/{pod}"
    props = show(pod, "ActiveState", "MemoryMax")
    assert props == {"ActiveState": "active", "MemoryMax": str(96 * MIB)}
    assert read(f"{cg}/memory.max") == str(96 * MIB)
    assert husk.delete("c1", force=True).rc == 0
    # Stopped, with its cgroup gone. (systemd 252 keeps a stopped transient
    # slice loaded as "inactive", unlike a scope; nothing of it stays in the
    # cgroup tree.)
    assert show(pod, "ActiveState")["ActiveState"] == "inactive"
    assert not os.path.exists(cg)
    assert husk.nothing_left() == []
