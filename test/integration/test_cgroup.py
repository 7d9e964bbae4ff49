"""cgroups through the CLI: where the container lands (cgroupsPath rules),
limits as the kernel shows them, device access, pause/resume, kill --all,
plan-time refusal of what this host cannot do, and that delete removes every
directory husk made.

Written for both layouts: a pure cgroup v2 host, and the hybrid layout (v1
controllers + cgroup2 at /sys/fs/cgroup/unified) where the v2 driver is also
exercised through HUSK_CGROUP_DRIVER/HUSK_CGROUP_ROOT."""

import glob
import json
import os
import subprocess
import time

import pytest

import helpers as h
from helpers import probe

ROOT = h.CGROUP_ROOT
UNIFIED = h.UNIFIED
V2_HOST = h.V2_HOST
HYBRID = h.HYBRID
V2_ON_UNIFIED = {"HUSK_CGROUP_DRIVER": "v2", "HUSK_CGROUP_ROOT": UNIFIED}


def controller_dir(controller, rel):
    """The container's directory for `controller` under the host's driver."""
    return ROOT + rel if V2_HOST else f"{ROOT}/{controller}{rel}"


def read(path):
    return h.read_text(path).strip()


def started(husk, bundle, tmp, cid="c1", patch=None, args=None, env=None):
    """A running container waiting for a signal; returns (bundle, init pid)."""
    out = os.path.join(tmp, f"{cid}.out")
    b = bundle(args=args or probe("wait-signal"), patch=patch)
    r = husk.create(cid, b, stdout=out, env=env)
    assert r.rc == 0, r
    husk.start_ok(cid, env=env)
    h.wait_file_contains(out, "waiting")
    return b, husk.state(cid)["pid"]


def run_to_end(husk, bundle, tmp, args, cid="c1", patch=None, env=None):
    """Run the container to completion; returns its stdout + stderr."""
    out = os.path.join(tmp, f"{cid}.out")
    b = bundle(args=args, patch=patch)
    r = husk.create(cid, b, stdout=out, stderr=out, env=env)
    assert r.rc == 0, r
    husk.start_ok(cid, env=env)
    husk.wait_status(cid, "stopped")
    assert husk.delete(cid).rc == 0
    return h.read_text(out, "")


def test_container_lands_at_cgroups_path_in_every_hierarchy(husk, bundle, tmp):
    b, pid = started(husk, bundle, tmp)
    cgs = h.proc_cgroups(pid)
    if V2_HOST:
        assert cgs[""] == b.cgroup_path
    else:
        for c in ("pids", "memory", "freezer", "devices", "cpu", "name=systemd"):
            assert cgs[c] == b.cgroup_path, (c, cgs)
        if HYBRID:
            assert cgs[""] == b.cgroup_path
    assert b.cgroup_dirs()
    assert husk.delete("c1", force=True).rc == 0
    assert b.cgroup_dirs() == []


def test_relative_cgroups_path_is_below_the_root_not_the_callers_cgroup(husk, bundle, tmp):
    # husk's own cgroup may be nested (here memory:/process_api/...); a relative
    # cgroupsPath must still start at each hierarchy's root.
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("wait-signal"))
    b.config["linux"]["cgroupsPath"] = f"{h.CGROUP_PARENT}/{b.cgroup_name}"
    b.write()
    husk.create_ok("c1", b, stdout=out)
    pid = husk.state("c1")["pid"]
    cgs = h.proc_cgroups(pid)
    for c in ([""] if V2_HOST else ["memory", "pids"]):
        assert cgs[c] == b.cgroup_path, (c, cgs)
    assert os.path.isdir(controller_dir("memory", b.cgroup_path))
    assert husk.delete("c1", force=True).rc == 0
    assert b.cgroup_dirs() == []


def test_empty_cgroups_path_defaults_to_husk_slash_id(husk, bundle, tmp):
    cid = f"{h.TAG}-default-path"
    b = bundle(args=probe("wait-signal"))
    del b.config["linux"]["cgroupsPath"]
    b.write()
    dirs = lambda: glob.glob(f"{ROOT}/*/husk/{cid}") + glob.glob(f"{ROOT}/husk/{cid}")
    try:
        r = husk.create(cid, b)
        assert r.rc == 0, r
        pid = husk.state(cid)["pid"]
        cgs = h.proc_cgroups(pid)
        assert cgs["" if V2_HOST else "pids"] == f"/husk/{cid}"
        assert husk.delete(cid, force=True).rc == 0
        assert dirs() == []
    finally:
        h.remove_cgroups(dirs())


@pytest.mark.parametrize("path", ["/husk-test/../escape", "/husk-test/process_api/x"])
def test_unsafe_cgroups_path_is_refused_before_any_side_effect(husk, bundle, path):
    b = bundle(patch={"linux": {"cgroupsPath": path}})
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "linux.cgroupsPath" in r.err, r
    assert husk.ids() == []
    assert husk.nothing_left() == []


def test_limits_reach_the_kernel(husk, bundle, tmp):
    res = {"pids": {"limit": 10},
           "memory": {"limit": 64 << 20},
           "cpu": {"shares": 512, "quota": 50000, "period": 100000}}
    b, _ = started(husk, bundle, tmp, patch={"linux": {"resources": res}})
    p = b.cgroup_path
    assert read(controller_dir("pids", p) + "/pids.max") == "10"
    if V2_HOST:
        assert read(f"{ROOT}{p}/memory.max") == str(64 << 20)
        assert read(f"{ROOT}{p}/cpu.weight") == "59"  # quadratic shares->weight mapping
        assert read(f"{ROOT}{p}/cpu.max") == "50000 100000"
    else:
        assert read(f"{ROOT}/memory{p}/memory.limit_in_bytes") == str(64 << 20)
        assert read(f"{ROOT}/cpu{p}/cpu.shares") == "512"
        assert read(f"{ROOT}/cpu{p}/cpu.cfs_quota_us") == "50000"
        assert read(f"{ROOT}/cpu{p}/cpu.cfs_period_us") == "100000"


@pytest.mark.parametrize("limit,forks", [(3, False), (10, True)])
def test_pids_limit_stops_forks_inside_the_container(husk, bundle, tmp, limit, forks):
    # sh plus four sleeps: five tasks at once.
    script = "sleep 1 & sleep 1 & sleep 1 & sleep 1 & wait; echo finished"
    out = run_to_end(husk, bundle, tmp, ["/bin/sh", "-c", script],
                     patch={"linux": {"resources": {"pids": {"limit": limit}}}})
    if forks:
        assert out.strip() == "finished", out
    else:
        assert "can't fork" in out, out


def test_pids_limit_zero_is_a_real_limit(husk, bundle, tmp):
    # Moving init in is not a fork, so create succeeds; nothing can fork after.
    b = bundle(args=probe("pid"), patch={"linux": {"resources": {"pids": {"limit": 0}}}})
    husk.create_ok("c1", b)
    assert read(controller_dir("pids", b.cgroup_path) + "/pids.max") == "0"
    assert husk.delete("c1", force=True).rc == 0


# The host's /dev/fuse (c 10:229): not a default device (unlike /dev/net/tun,
# runc's list has tun/tap), and opening it needs no capability, so an EPERM
# can only come from the device cgroup.
TUN = "/dev/fuse"


def with_tun(b, rules=()):
    b.config["mounts"].append({"destination": "/tun", "type": "bind", "source": TUN,
                               "options": ["bind"]})
    b.config["linux"].setdefault("resources", {})["devices"] = [
        {"allow": False, "access": "rwm"}, *rules]
    return b.write()


def device_checks(husk, bundle, tmp, rules, env=None, cid="c1"):
    out = os.path.join(tmp, f"{cid}.out")
    h.skip_unless("fuse")
    b = with_tun(bundle(args=probe("open /dev/null rw", "open /dev/zero r", "open /tun r",
                                   "open /tun w")), rules)
    r = husk.create(cid, b, stdout=out, stderr=out, env=env)
    assert r.rc == 0, r
    husk.start_ok(cid)
    husk.wait_status(cid, "stopped")
    assert husk.delete(cid).rc == 0
    return h.read_text(out, "").split()


def test_devices_outside_the_rules_are_denied(husk, bundle, tmp):
    assert device_checks(husk, bundle, tmp, []) == ["ok", "ok", "errno=EPERM", "errno=EPERM"]


def test_device_rule_grants_only_the_listed_access(husk, bundle, tmp):
    rules = [{"allow": True, "type": "c", "major": 10, "minor": 229, "access": "r"}]
    assert device_checks(husk, bundle, tmp, rules) == ["ok", "ok", "ok", "errno=EPERM"]


KMSG = {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}


def kmsg_access(husk, cid, env=None):
    """What an exec'd process (which joins the container's cgroup) gets
    opening /dev/kmsg for reading, then for writing."""
    r = husk("exec", cid, *probe("open /dev/kmsg r", "open /dev/kmsg w"), env=env)
    return r.out.split()


@pytest.mark.parametrize("driver", ["v1", "v2"])
def test_listed_device_is_made_but_the_rules_decide_its_access(husk, bundle, tmp, driver):
    """linux.devices makes /dev/kmsg in the container; with the config's
    deny-all and no rule for 1:11, opening it fails with EPERM (runc: "Operation
    not permitted" for both), also after updates: neither a flag nor a
    --resources file with its own device rules changes them (runc reads no
    `devices` in update)."""
    h.skip_unless("cgroup-v1" if driver == "v1" else "cgroup2")
    env = V2_ON_UNIFIED if driver == "v2" and HYBRID else None
    patch = {"linux": {"devices": [KMSG],
                       "resources": {"devices": [{"allow": False, "access": "rwm"}]}}}
    started(husk, bundle, tmp, patch=patch, env=env)
    denied = ["errno=EPERM", "errno=EPERM"]
    assert kmsg_access(husk, "c1", env) == denied
    # (The hybrid layout's cgroup2 mount has no pids controller to update.)
    if env is None or "pids" in h.v2_controllers(UNIFIED):
        r = husk("update", "--pids-limit", "10", "c1", env=env)
        assert r.rc == 0, r
        assert kmsg_access(husk, "c1", env) == denied
    for rules in ([{"allow": True, "access": "rwm"}], [{"allow": False, "access": "rwm"}]):
        res = os.path.join(tmp, "res.json")
        with open(res, "w") as f:
            json.dump({"devices": rules}, f)
        r = husk("update", "--resources", res, "c1", env=env)
        assert r.rc == 0, r
        assert kmsg_access(husk, "c1", env) == denied
        # The defaults are still there: a deny-all from update did not replace them.
        assert husk("exec", "c1", *probe("open /dev/null rw"), env=env).out == "ok\n"
    assert husk.delete("c1", force=True, env=env).rc == 0


def frozen(b):
    if V2_HOST:
        return "frozen 1" in h.read_text(f"{ROOT}{b.cgroup_path}/cgroup.events")
    return read(f"{ROOT}/freezer{b.cgroup_path}/freezer.state") == "FROZEN"


def freezer_dir(b):
    """The container's v1 freezer directory, made here as an engine or a
    left-over would have made it before husk runs."""
    d = f"{ROOT}/freezer{b.cgroup_path}"
    os.makedirs(d, exist_ok=True)
    return d


@h.requires("v1:freezer")
@pytest.mark.parametrize("verb", ["create", "run"])
def test_create_into_a_frozen_cgroup_fails_at_once(husk, bundle, verb):
    """A cgroup already FROZEN would freeze the init as it joins: runc fails
    with "container's cgroup unexpectedly frozen" (husk used to wait forever).
    Nothing is left: no state, no other hierarchy's directory, and the frozen
    cgroup, which is not husk's, stays as it was."""
    b = bundle()
    d = freezer_dir(b)
    try:
        with open(f"{d}/freezer.state", "w") as f:
            f.write("FROZEN")
        h.wait_for(lambda: read(f"{d}/freezer.state") == "FROZEN", what="frozen")
        r = husk(verb, "--bundle", b.path, "c1", timeout=15)
        assert r.rc != 0, r
        assert "container's cgroup unexpectedly frozen" in r.err, r
        assert husk.ids() == []
        assert b.cgroup_dirs() == [d]
        assert read(f"{d}/freezer.state") == "FROZEN"
    finally:
        with open(f"{d}/freezer.state", "w") as f:
            f.write("THAWED")
        os.rmdir(d)
    assert husk.nothing_left() == []


@h.requires("v1:freezer")  # places the stranger through it
def test_create_into_a_non_empty_cgroup_warns(husk, bundle, tmp):
    b = bundle(args=probe("pid"))
    d = freezer_dir(b)
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        with open(f"{d}/cgroup.procs", "w") as f:
            f.write(str(stranger.pid))
        r = husk.run("c1", b, timeout=15)
        assert r.rc == 0, r
        assert "container's cgroup is not empty: 1 process(es) found" in r.err, r
    finally:
        stranger.kill()
        stranger.wait()
        h.remove_cgroups(b.cgroup_dirs())
    assert husk.nothing_left() == []


def test_pause_freezes_and_resume_thaws(husk, bundle, tmp):
    b, pid = started(husk, bundle, tmp)
    assert husk("pause", "c1").rc == 0
    assert husk.status("c1") == "paused"
    assert frozen(b)
    assert husk("resume", "c1").rc == 0
    assert husk.status("c1") == "running"
    assert not frozen(b)


def test_kill_all_reaches_every_process_in_the_cgroup(husk, bundle, tmp):
    args = ["/bin/sh", "-c", "sleep 1000 & sleep 1000 & exec /probe wait-signal"]
    b, pid = started(husk, bundle, tmp, args=args)
    procs_dir = controller_dir("pids", b.cgroup_path)
    h.wait_for(lambda: len(h.cgroup_procs(procs_dir)) == 3, what="3 processes in the cgroup")
    assert husk.kill("c1", "KILL", all=True).rc == 0
    h.wait_for(lambda: h.cgroup_procs(procs_dir) == [], what="empty cgroup")
    husk.wait_status("c1", "stopped")


def test_kill_all_works_on_a_paused_container(husk, bundle, tmp):
    b, pid = started(husk, bundle, tmp)
    assert husk("pause", "c1").rc == 0
    assert husk.kill("c1", "KILL", all=True).rc == 0
    husk.wait_status("c1", "stopped")
    assert husk.delete("c1").rc == 0
    assert b.cgroup_dirs() == []


def test_delete_removes_cgroups_made_inside_the_container_and_the_parent_husk_made(
        husk, bundle, tmp):
    # A container may make cgroups below its own and move its processes there
    # (an init or a nested runtime inside does); delete removes that tree, its
    # own cgroup and the parent cgroup husk made for it.
    out = os.path.join(tmp, "c1.out")
    b = bundle(args=probe("wait-signal"))
    parent = b.cgroup_path
    b.patch({"linux": {"cgroupsPath": f"{parent}/c1"}})
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    pid = husk.state("c1")["pid"]
    for top in h.hierarchy_dirs():
        leaf = f"{top}{parent}/c1"
        for sub in ("inner", "inner/deeper"):
            os.mkdir(f"{leaf}/{sub}")
            # A new v1 cpuset has no CPUs or memory nodes to join with. (A
            # v2 child has no cpuset files unless the controller is enabled
            # below it, and then inherits its parent's.)
            for knob in ("cpuset.cpus", "cpuset.mems"):
                if not V2_HOST and os.path.exists(f"{leaf}/{knob}"):
                    with open(f"{leaf}/{sub}/{knob}", "w") as f:
                        f.write(read(f"{leaf}/{knob}"))
        with open(f"{leaf}/inner/deeper/cgroup.procs", "w") as f:
            f.write(str(pid))
    assert h.proc_cgroups(pid)["" if V2_HOST else "pids"] == f"{parent}/c1/inner/deeper"
    assert husk.delete("c1", force=True).rc == 0
    assert not any(os.path.exists(f"{top}{parent}") for top in h.hierarchy_dirs())
    assert husk.nothing_left() == []


def test_missing_controller_fails_create_naming_the_field(husk, bundle):
    if h.host_has("v1:rdma") or (V2_HOST and h.host_has("cgroup2:rdma")):
        pytest.skip("this host has the rdma controller")
    b = bundle(patch={"linux": {"resources": {"rdma": {"mlx5_0": {"hcaHandles": 3}}}}})
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "linux.resources.rdma" in r.err and "rdma controller" in r.err, r
    assert husk.ids() == []
    assert b.cgroup_dirs() == []
    assert husk.nothing_left() == []


@h.requires("cgroup-v1")
@pytest.mark.parametrize("key,value", [
    ("pids.max", "5"),
    # On a hybrid host hugetlb may live in the cgroup2 mount only; runc 1.1.5
    # refuses its keys too, and so does husk (the v2 driver on that mount
    # takes them).
    ("hugetlb.2MB.max", str(4 << 20)),
])
def test_unified_resources_on_v1_are_an_invalid_configuration(husk, bundle, key, value):
    b = bundle(patch={"linux": {"resources": {"unified": {key: value}}}})
    r = husk.create("c1", b)
    assert r.rc != 0
    # runc: "invalid configuration: cannot use unified on cgroup v1"
    assert "linux.resources.unified: invalid configuration: cannot use unified on cgroup v1" \
        in r.err, r
    assert husk.ids() == []
    assert b.cgroup_dirs() == []
    assert husk.nothing_left() == []


@h.requires("cgroup-v1")
def test_update_with_unified_on_v1_is_an_invalid_configuration(husk, bundle, tmp):
    b, pid = started(husk, bundle, tmp, patch={"linux": {"resources": {"pids": {"limit": 50}}}})
    res = os.path.join(tmp, "res.json")
    with open(res, "w") as f:
        json.dump({"unified": {"pids.max": "5"}}, f)
    r = husk("update", "--resources", res, "c1")
    assert r.rc != 0
    assert "invalid configuration: cannot use unified on cgroup v1" in r.err, r
    assert read(controller_dir("pids", b.cgroup_path) + "/pids.max") == "50"


# ---- update on cgroup v1: write order -----------------------------------

@h.requires("memsw")
def test_update_memory_unlimited_lifts_memsw_first(husk, bundle, tmp):
    # The kernel keeps memsw >= limit after each write: with memsw at 64M,
    # memory.limit_in_bytes -1 alone is EINVAL. runc lifts memsw with it.
    res = {"memory": {"limit": 64 << 20, "swap": 64 << 20}}
    b, _ = started(husk, bundle, tmp, patch={"linux": {"resources": res}})
    d = controller_dir("memory", b.cgroup_path)
    assert husk("update", "--memory", "-1", "c1").rc == 0
    unlimited = read(f"{ROOT}/memory/memory.limit_in_bytes")
    assert read(f"{d}/memory.limit_in_bytes") == unlimited
    assert read(f"{d}/memory.memsw.limit_in_bytes") == unlimited


@h.requires("memsw")
@pytest.mark.parametrize("steps", [
    # rising: memsw first; falling: memsw last
    [("128M", "256M"), ("32M", "48M"), ("100M", "200M"), ("16M", "16M")],
])
def test_update_memory_and_swap_in_either_direction(husk, bundle, tmp, steps):
    res = {"memory": {"limit": 64 << 20, "swap": 64 << 20}}
    b, _ = started(husk, bundle, tmp, patch={"linux": {"resources": res}})
    d = controller_dir("memory", b.cgroup_path)
    mib = {"M": 1 << 20}
    for mem, swap in steps:
        r = husk("update", "--memory", mem, "--memory-swap", swap, "c1")
        assert r.rc == 0, (mem, swap, r)
        assert read(f"{d}/memory.limit_in_bytes") == str(int(mem[:-1]) * mib["M"])
        assert read(f"{d}/memory.memsw.limit_in_bytes") == str(int(swap[:-1]) * mib["M"])


@h.requires("memsw")
def test_update_memory_above_memsw_alone_fails_naming_the_field(husk, bundle, tmp):
    res = {"memory": {"limit": 64 << 20, "swap": 64 << 20}}
    b, _ = started(husk, bundle, tmp, patch={"linux": {"resources": res}})
    d = controller_dir("memory", b.cgroup_path)
    r = husk("update", "--memory", "128M", "c1")
    assert r.rc != 0
    assert "linux.resources.memory.limit: 134217728 is above the current memory+swap limit" \
        in r.err, r
    assert read(f"{d}/memory.limit_in_bytes") == str(64 << 20)


@h.requires("cgroup-v1")
@pytest.mark.parametrize("quota,period", [("25000", "50000"), ("100000", "200000"),
                                          ("-1", "20000"), ("10000", "20000")])
def test_update_cpu_period_under_a_parent_with_a_quota(husk, bundle, tmp, quota, period):
    # A v1 child's quota/period may not exceed its parent's (0.5 CPU here)
    # after any single write: halving the period before the quota would
    # make 50000/50000 = 1 CPU for a moment, which the kernel refuses.
    b = bundle(args=probe("wait-signal"))
    b.patch({"linux": {"cgroupsPath": f"{b.cgroup_path}/c1",
                       "resources": {"cpu": {"quota": 50000, "period": 100000}}}})
    out = os.path.join(tmp, "c1.out")
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    parent = f"{ROOT}/cpu{b.cgroup_path}"  # made by husk, removed by delete
    with open(f"{parent}/cpu.cfs_quota_us", "w") as f:
        f.write("50000")
    leaf = f"{parent}/c1"
    r = husk("update", "--cpu-quota", quota, "--cpu-period", period, "c1")
    assert r.rc == 0, r
    assert read(f"{leaf}/cpu.cfs_quota_us") == quota
    assert read(f"{leaf}/cpu.cfs_period_us") == period


@h.requires("hybrid", "cgroup2:hugetlb")
def test_hybrid_hugetlb_limit_goes_to_the_unified_hierarchy(husk, bundle, tmp):
    res = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]}
    b, pid = started(husk, bundle, tmp, patch={"linux": {"resources": res}})
    assert read(f"{UNIFIED}{b.cgroup_path}/hugetlb.2MB.max") == str(4 << 20)


@h.requires("hybrid")
def test_v2_driver_on_the_unified_mount(husk, bundle, tmp):
    res = {"hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 20}]}
    b, pid = started(husk, bundle, tmp, patch={"linux": {"resources": res}}, env=V2_ON_UNIFIED)
    d = f"{UNIFIED}{b.cgroup_path}"
    assert h.proc_cgroups(pid)[""] == b.cgroup_path
    assert h.proc_cgroups(pid)["pids"] == "/"  # v1 hierarchies untouched in this mode
    if "hugetlb" in h.v2_controllers(UNIFIED):
        assert read(f"{d}/hugetlb.2MB.max") == str(2 << 20)
    assert husk("pause", "c1").rc == 0
    assert "frozen 1" in h.read_text(f"{d}/cgroup.events")
    assert husk("resume", "c1").rc == 0
    assert husk.delete("c1", force=True).rc == 0
    assert not os.path.exists(d)


@h.requires("hybrid")
def test_v2_driver_enforces_device_rules_with_ebpf(husk, bundle, tmp):
    rules = [{"allow": True, "type": "c", "major": 10, "minor": 229, "access": "w"}]
    assert device_checks(husk, bundle, tmp, rules, env=V2_ON_UNIFIED) == \
        ["ok", "ok", "errno=EPERM", "ok"]


@h.requires("hybrid")
def test_v2_driver_refuses_controllers_the_hierarchy_lacks(husk, bundle):
    if h.host_has("cgroup2:memory"):
        pytest.skip("memory is available in the unified hierarchy here")
    b = bundle(patch={"linux": {"resources": {"memory": {"limit": 64 << 20}}}})
    r = husk.create("c1", b, env=V2_ON_UNIFIED)
    assert r.rc != 0
    assert ("linux.resources.memory.limit: memory controller not available in cgroup v2 "
            f"hierarchy {UNIFIED}") in r.err, r
    assert husk.nothing_left() == []


# ---- joining on cgroup v1 / hybrid: exec, --cgroup --------------------------

def mounted_hierarchy_keys():
    """/proc/<pid>/cgroup keys ("" for cgroup2) of the hierarchies mounted
    under ROOT, which husk places every container in."""
    keys = set()
    for line in h.read_text("/proc/self/cgroup").splitlines():
        _, ctrls, _ = line.split(":", 2)
        if not ctrls:
            if HYBRID or V2_HOST:
                keys.add("")
            continue
        name = ctrls.replace("name=", "")
        if os.path.ismount(f"{ROOT}/{name}"):
            keys.add(ctrls)
    return keys


def parse_cgroup_text(text):
    out = {}
    for line in text.splitlines():
        if line.count(":") >= 2 and line.split(":", 1)[0].isdigit():
            _, ctrls, path = line.split(":", 2)
            out[ctrls] = path
    return out


def without_cgroupns(cfg_ns):
    return [n for n in cfg_ns if n["type"] != "cgroup"]


def make_sub_cgroups(rel, name):
    """name below rel in every hierarchy (a v1 cpuset gets its parent's CPUs
    and memory nodes, or nothing could join it)."""
    for top in h.hierarchy_dirs():
        leaf = f"{top}{rel}"
        os.mkdir(f"{leaf}/{name}")
        for knob in ("cpuset.cpus", "cpuset.mems"):
            if os.path.exists(f"{leaf}/{knob}"):
                with open(f"{leaf}/{name}/{knob}", "w") as f:
                    f.write(read(f"{leaf}/{knob}"))


@pytest.mark.parametrize("cgroupns", [False, True])
def test_init_and_exec_see_the_container_cgroup_in_every_hierarchy(husk, bundle, tmp, cgroupns):
    b = bundle(args=probe("wait-signal"))
    if not cgroupns:
        b.config["linux"]["namespaces"] = without_cgroupns(b.config["linux"]["namespaces"])
    elif not any(n["type"] == "cgroup" for n in b.config["linux"]["namespaces"]):
        b.config["linux"]["namespaces"].append({"type": "cgroup"})
    b.write()
    out = os.path.join(tmp, "c1.out")
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    want = "/" if cgroupns else b.cgroup_path
    keys = mounted_hierarchy_keys()
    init = husk.state("c1")["pid"]
    host_view = h.proc_cgroups(init)
    for k in keys:
        for c in k.split(",") if k else [""]:
            assert host_view[c] == b.cgroup_path, (k, host_view)
    r = husk("exec", "c1", "/probe", "cat", "/proc/1/cgroup",
             ";", "cat", "/proc/self/cgroup")
    assert r.rc == 0, r
    # The init's file (as the container sees it), then the exec'd process's:
    # two copies of the same hierarchy list.
    text = r.out
    lines = [l for l in text.splitlines() if l.count(":") >= 2]
    n = len(lines) // 2
    for view in (parse_cgroup_text("\n".join(lines[:n])), parse_cgroup_text("\n".join(lines[n:]))):
        for k in keys:
            assert view.get(k) == want, (k, view, text)


@h.requires("cgroup-v1")
@pytest.mark.parametrize("args,subbed", [
    (["--cgroup", "cpu:sub"], {"cpu"}),
    (["--cgroup", "cpu,memory:sub", "--cgroup", "pids:sub"], {"cpu", "memory", "pids"}),
    (["--cgroup", "name=systemd:sub"], {"name=systemd"}),
    (["--cgroup", "sub"], None),            # every hierarchy, the unified one too
    (["--cgroup", "/x/../sub/."], None),    # cleaned as runc does
    (["--cgroup", "cpu:sub/.."], set()),    # the container's own cgroup
])
def test_exec_cgroup_joins_v1_sub_cgroups(husk, bundle, tmp, args, subbed):
    b = bundle(args=probe("wait-signal"))
    b.config["linux"]["namespaces"] = without_cgroupns(b.config["linux"]["namespaces"])
    b.write()
    out = os.path.join(tmp, "c1.out")
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    make_sub_cgroups(b.cgroup_path, "sub")
    keys = mounted_hierarchy_keys()
    if subbed is not None and not all(k in keys for k in subbed):
        pytest.skip(f"needs the {subbed} hierarchies mounted")
    r = husk("exec", *args, "c1", "/probe", "cat", "/proc/self/cgroup")
    assert r.rc == 0, r
    view = parse_cgroup_text(r.out)
    for k in keys:
        inside = subbed is None or any(c in subbed for c in k.split(","))
        assert view.get(k) == b.cgroup_path + ("/sub" if inside else ""), (k, view)


@h.requires("cgroup-v1")
@pytest.mark.parametrize("arg,message", [
    ("../x", "--cgroup \"../x\": ../x is not a sub cgroup path"),
    ("cpu:sub/../../x", "sub/../../x is not a sub cgroup path"),
    ("nosuch", "nosuch: No such file or directory"),
    ("cpu:nosuch", "nosuch: No such file or directory"),
    ("bogus:sub", "unknown controller bogus"),
])
def test_exec_cgroup_refusals_leave_nothing_behind(husk, bundle, tmp, arg, message):
    b, init = started(husk, bundle, tmp)
    make_sub_cgroups(b.cgroup_path, "sub")
    r = husk("exec", "--cgroup", arg, "c1", "/probe", "pid")
    assert r.rc != 0
    assert message in r.err, r
    assert sorted(json.loads(husk("ps", "--format", "json", "c1").out)) == [init]


@h.requires("cgroup-v1")
def test_delete_force_kills_and_removes_sub_cgroups_on_every_v1_hierarchy(husk, bundle, tmp):
    # Processes of the container spread over sub-cgroups it made, a
    # different one per hierarchy, one of them frozen on its own (a nested
    # runtime's paused container): delete --force kills them all and
    # removes every directory, every hierarchy.
    b, init = started(husk, bundle, tmp)
    r = husk("exec", "-d", "c1", *probe("wait-signal"))
    assert r.rc == 0, r
    pids = sorted(json.loads(husk("ps", "--format", "json", "c1").out))
    other = [p for p in pids if p != init][0]
    make_sub_cgroups(b.cgroup_path, "a")
    make_sub_cgroups(b.cgroup_path, "a/b")
    for top in h.hierarchy_dirs():
        with open(f"{top}{b.cgroup_path}/a/b/cgroup.procs", "w") as f:
            f.write(str(other))
    with open(f"{ROOT}/memory{b.cgroup_path}/a/cgroup.procs", "w") as f:
        f.write(str(init))
    with open(f"{ROOT}/freezer{b.cgroup_path}/a/b/freezer.state", "w") as f:
        f.write("FROZEN")
    h.wait_for(lambda: read(f"{ROOT}/freezer{b.cgroup_path}/a/b/freezer.state") == "FROZEN")
    # The exec'd process is our child (we are a subreaper, as containerd's
    # shim is); the container's init is reaped only once it is, so reap
    # while delete waits, as the shim does.
    d = husk.spawn("delete", "--force", "c1")
    while d.running():
        h.reap_orphans(exclude=(d.pid,))
        time.sleep(0.02)
    assert d.wait().rc == 0
    assert not h.alive(init) and not h.alive(other)
    assert not any(os.path.exists(f"{top}{b.cgroup_path}") for top in h.hierarchy_dirs())
    assert husk.nothing_left() == []
