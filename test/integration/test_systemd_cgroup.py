"""--systemd-cgroup: the container's cgroup as a transient systemd unit
(cgroupsPath "slice:prefix:name"), with its limits as unit properties that
survive `systemctl daemon-reload`, and update, pause/resume, events and delete
through the same driver.

Most tests need systemd as PID 1 (scripts/vm-test --variant systemd, pure v2,
and --variant systemd-v1, the hybrid layout); on a host without it they skip,
except the check that --systemd-cgroup is then a clear error that leaves
nothing behind. On v1 systemd manages the cpu, memory, pids, blkio and devices
hierarchies with properties of their own (MemoryLimit, CPUShares), and husk
joins the scope's path in the rest (cpuset, freezer, ...) itself."""

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


show = h.systemd_show


def unit_gone(unit):
    return show(unit, "LoadState")["LoadState"] == "not-found"


def cgroup_of(pid, controller="memory"):
    """pid's cgroup below the hierarchy root: the v2 one, or v1 controller's."""
    return h.proc_cgroups(pid)["" if V2_HOST else controller]


def read(path):
    return h.read_text(path).strip()


def cgroup_file(path, controller, v1_name, v2_name=None):
    return h.controller_file(path, controller, v1_name, v2_name or v1_name)


def cgroup_gone(path):
    """path exists in no hierarchy (v1: none of the per-controller trees)."""
    return [d for d in h.hierarchy_dirs(path) if os.path.exists(d)] == []


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

# RESOURCES in the cgroup files: (controller, file) -> value.
LIMIT_FILES = {("", "memory.max"): str(64 * MIB), ("", "memory.low"): str(16 * MIB),
               ("", "pids.max"): "50", ("", "cpu.max"): "50000 100000",
               ("", "cpuset.cpus"): "0"} if V2_HOST else \
    {("memory", "memory.limit_in_bytes"): str(64 * MIB),
     ("memory", "memory.soft_limit_in_bytes"): str(16 * MIB), ("pids", "pids.max"): "50",
     ("cpu", "cpu.cfs_quota_us"): "50000", ("cpu", "cpu.cfs_period_us"): "100000",
     ("cpu", "cpu.shares"): "512", ("cpuset", "cpuset.cpus"): "0"}
# ... and as the unit's properties (v1: systemd's legacy names, no MemoryLow,
# and cpuset is not systemd's on v1).
LIMIT_PROPS = {"MemoryMax": str(64 * MIB), "MemoryLow": str(16 * MIB),
               "CPUWeight": "59",  # shares 512 -> weight, as runc >= 1.3.2 / crun
               "AllowedCPUs": "0"} if V2_HOST else \
    {"MemoryLimit": str(64 * MIB), "CPUShares": "512"}
MEMORY_PROP = "MemoryMax" if V2_HOST else "MemoryLimit"


def limit_files(path):
    return {k: read(cgroup_file(path, k[0], k[1])) for k in LIMIT_FILES}


@needs_systemd
def test_scope_carries_the_limits_and_survives_daemon_reload(husk, bundle, tmp):
    name = f"{h.TAG}-limits"
    unit = f"husk-{name}.scope"
    b = scope_bundle(bundle, name, RESOURCES)
    pid = create_started(husk, b, "c1", tmp)
    cg = f"/system.slice/{unit}"
    # v1: every hierarchy, systemd's own and those it does not manage alike.
    for c in [""] if V2_HOST else ["name=systemd", "memory", "pids", "cpu", "cpuset", "freezer",
                                   "devices", "blkio"]:
        assert cgroup_of(pid, c) == cg, (c, h.proc_cgroups(pid))
    props = show(unit, "ActiveState", "Delegate", "Slice", "TasksMax", "CPUQuotaPerSecUSec",
                 "DevicePolicy", *LIMIT_PROPS)
    assert props == {"ActiveState": "active", "Delegate": "yes", "Slice": "system.slice",
                     "TasksMax": "50", "CPUQuotaPerSecUSec": "500ms", "DevicePolicy": "strict",
                     **LIMIT_PROPS}
    assert limit_files(cg) == LIMIT_FILES
    assert systemctl("daemon-reload").returncode == 0
    assert limit_files(cg) == LIMIT_FILES
    assert show(unit, MEMORY_PROP)[MEMORY_PROP] == str(64 * MIB)

    # update: the unit property and the file both change, and stay after a reload.
    r = husk("update", "--memory", str(128 * MIB), "--pids-limit", "70", "c1")
    assert r.rc == 0, r
    assert show(unit, MEMORY_PROP, "TasksMax") == {MEMORY_PROP: str(128 * MIB), "TasksMax": "70"}
    assert systemctl("daemon-reload").returncode == 0
    assert read(cgroup_file(cg, "memory", "memory.limit_in_bytes", "memory.max")) == \
        str(128 * MIB)
    assert read(cgroup_file(cg, "pids", "pids.max")) == "70"

    # pause/resume through the unit's cgroup (v1: its freezer hierarchy).
    assert husk("pause", "c1").rc == 0
    assert husk.status("c1") == "paused"
    if V2_HOST:
        assert "frozen 1" in h.read_text(f"{ROOT}{cg}/cgroup.events")
    else:
        assert read(f"{ROOT}/freezer{cg}/freezer.state") == "FROZEN"
    assert husk("resume", "c1").rc == 0
    assert husk.status("c1") == "running"

    r = husk("events", "--stats", "c1")
    assert r.rc == 0, r
    stats = json.loads(r.out)["data"]
    assert stats["pids"]["current"] >= 1, stats
    assert stats["memory"]["usage"]["limit"] == 128 * MIB, stats

    assert husk.delete("c1", force=True).rc == 0
    assert unit_gone(unit)
    assert cgroup_gone(cg)
    assert husk.nothing_left() == []


@needs_systemd
def test_default_placement_and_exec_join_the_scope(husk, bundle, tmp):
    b = bundle(args=probe("wait-signal"))
    del b.config["linux"]["cgroupsPath"]
    b.write()
    cid = f"{h.TAG}-dflt"
    unit = f"husk-{cid}.scope"
    pid = create_started(husk, b, cid, tmp)
    cg = f"/system.slice/{unit}"
    assert cgroup_of(pid) == cg
    # An exec'd process joins the unit's cgroup too.
    p = husk.spawn("exec", cid, "/probe", "sleep", "30")
    procs = cgroup_file(cg, "memory", "cgroup.procs")
    h.wait_for(lambda: len(read(procs).split()) == 2, 10, what="the exec'd process in the scope")
    assert husk("kill", cid, "KILL").rc == 0
    husk.wait_status(cid, "stopped")
    p.wait()
    assert husk.delete(cid).rc == 0
    assert unit_gone(unit)
    assert cgroup_gone(cg)


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
        assert show(unit, MEMORY_PROP)[MEMORY_PROP] == "infinity"
    finally:
        other.kill()
        other.wait()
        systemctl("stop", unit)


@needs_systemd
def test_a_slice_for_a_pod(husk, bundle, tmp):
    pod = f"machine-husk{h.TAG.replace('-', '_')}.slice"
    b = scope_bundle(bundle, pod, {"memory": {"limit": 96 * MIB}}, slice_="machine.slice")
    pid = create_started(husk, b, "c1", tmp)
    cg = f"/machine.slice/{pod}"
    assert cgroup_of(pid) == cg
    props = show(pod, "ActiveState", MEMORY_PROP)
    assert props == {"ActiveState": "active", MEMORY_PROP: str(96 * MIB)}
    assert read(cgroup_file(cg, "memory", "memory.limit_in_bytes", "memory.max")) == str(96 * MIB)
    assert husk.delete("c1", force=True).rc == 0
    # Stopped, with its cgroup gone. (systemd 252 keeps a stopped transient
    # slice loaded as "inactive", unlike a scope; nothing of it stays in the
    # cgroup tree.)
    assert show(pod, "ActiveState")["ActiveState"] == "inactive"
    assert cgroup_gone(cg)
    assert husk.nothing_left() == []
