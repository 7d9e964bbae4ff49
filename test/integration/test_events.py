"""`husk events` (runc's): --stats prints one JSON stats event read from the
container's cgroup; without it, stats every --interval plus an "oom" event
whenever the memory cgroup reports an OOM, until the container is deleted."""

import json
import os

import helpers as h
from helpers import probe, sh

MIB = 1024 * 1024
MEMSW = h.host_has("memsw")


def hugetlb_available():
    return h.host_has("cgroup2:hugetlb") or h.host_has("v1:hugetlb")


def page_size_names():
    """hugepages-2048kB -> 2MB, as the kernel names them in hugetlb files."""
    out = set()
    for d in os.listdir("/sys/kernel/mm/hugepages"):
        kb = int(d[len("hugepages-"):-len("kB")])
        for unit, size in (("GB", 1 << 20), ("MB", 1 << 10), ("KB", 1)):
            if kb % size == 0:
                out.add(f"{kb // size}{unit}")
                break
    return out


def limits(memory=None, pids=None, hugepages=None):
    res = {}
    if hugepages:
        res["hugepageLimits"] = [{"pageSize": hugepages, "limit": 4 * MIB}]
    if memory:
        res["memory"] = {"limit": memory}
        if MEMSW:
            res["memory"]["swap"] = memory
    if pids:
        res["pids"] = {"limit": pids}
    return {"linux": {"resources": res}}


def test_stats_reports_the_containers_cgroup(husk, bundle, tmp):
    out = os.path.join(tmp, "c1.out")
    # With a hugetlb limit the controller is enabled for the container on
    # every layout (on a hybrid host it lives in the cgroup2 hierarchy).
    huge = "2MB" if hugetlb_available() and "2MB" in page_size_names() else None
    b = bundle(args=probe("wait-signal"), patch=limits(memory=64 * MIB, pids=32, hugepages=huge))
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    r = husk("events", "--stats", "c1")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert len(lines) == 1, r
    ev = json.loads(lines[0])
    assert ev["type"] == "stats" and ev["id"] == "c1", ev
    data = ev["data"]
    assert data["memory"]["usage"]["limit"] == 64 * MIB
    assert data["memory"]["usage"]["usage"] > 0
    assert data["memory"]["raw"], data["memory"]
    if MEMSW:
        assert data["memory"]["swap"]["limit"] == 64 * MIB
    assert data["pids"] == {"current": 1, "limit": 32}
    assert data["cpu"]["usage"]["total"] > 0
    assert "kernel" in data["cpu"]["usage"] and "user" in data["cpu"]["usage"]
    if huge:
        assert set(data["hugetlb"]) == page_size_names(), data["hugetlb"]
        assert data["hugetlb"]["2MB"]["failcnt"] == 0
    assert husk.delete("c1", force=True).rc == 0


def test_stats_have_runcs_full_shape(husk, bundle, tmp):
    """Every top-level section runc prints, in runc's order, even those husk
    has nothing for (intel_rdt: {}, network_interfaces: null), and runc's
    cpuset fields; consumers index them without checking."""
    out = os.path.join(tmp, "c1.out")
    b = bundle(args=probe("wait-signal"))
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    r = husk("events", "--stats", "c1")
    assert r.rc == 0, r
    data = json.loads(r.out)["data"]
    assert list(data) == ["cpu", "cpuset", "memory", "pids", "blkio", "hugetlb", "intel_rdt",
                          "network_interfaces"], data
    assert data["intel_rdt"] == {} and data["network_interfaces"] is None, data
    flags = ["cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate",
             "memory_spread_page", "memory_spread_slab", "memory_pressure",
             "sched_load_balance", "sched_relax_domain_level"]
    assert [k for k in data["cpuset"] if k not in ("cpus", "mems")] == flags, data["cpuset"]
    assert list(data["cpu"]) == ["usage", "throttling"], data["cpu"]
    assert husk.delete("c1", force=True).rc == 0


def test_stats_counts_every_process(husk, bundle, tmp):
    out = os.path.join(tmp, "c1.out")
    b = bundle(args=sh("sleep 100 & sleep 100 & echo started; wait"))
    assert husk.create("c1", b, stdout=out).rc == 0
    husk.start_ok("c1")
    h.wait_file_contains(out, "started")

    def three():
        r = husk("events", "--stats", "c1")
        assert r.rc == 0, r
        return json.loads(r.out)["data"]["pids"].get("current") == 3
    h.wait_for(three, what="3 processes in pids.current")
    assert husk.delete("c1", force=True).rc == 0


def test_events_missing_container(husk):
    r = husk("events", "--stats", "nope")
    assert r.rc != 0
    assert 'container "nope" does not exist' in r.err, r
    r = husk("events", "nope")
    assert r.rc != 0
    assert 'container "nope" does not exist' in r.err, r


def test_events_stopped_container_is_not_running(husk, bundle):
    b = bundle(args=probe("exit 0"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk("events", "--stats", "c1")
    assert r.rc != 0
    assert "container with id c1 is not running" in r.err, r
    assert r.out == ""
    assert husk.delete("c1").rc == 0


def test_events_interval_must_be_a_positive_duration(husk, bundle):
    b = bundle(args=probe("wait-signal"))
    husk.create_ok("c1", b)
    r = husk("events", "--interval", "0s", "c1")
    assert r.rc != 0 and "duration interval must be greater than 0" in r.err, r
    r = husk("events", "--interval", "soon", "c1")
    assert r.rc != 0 and "invalid value" in r.err and "interval" in r.err, r
    assert husk.delete("c1", force=True).rc == 0


def test_events_streams_stats_then_oom_until_deleted(husk, bundle, tmp):
    # dd's 64 MiB buffer cannot fit in 16 MiB: the kernel OOM-kills it.
    b = bundle(args=sh("dd if=/dev/zero of=/dev/null bs=64M count=1; echo dd-exited"),
               patch=limits(memory=16 * MIB))
    out = os.path.join(tmp, "c1.out")
    assert husk.create("c1", b, stdout=out, stderr=out).rc == 0
    ev_out = os.path.join(tmp, "events.out")
    events = husk.spawn("events", "--interval", "200ms", "c1", stdout=ev_out)
    # The first stats line means the OOM watch is in place (it comes first).
    h.wait_file_contains(ev_out, '"type":"stats"', timeout=20)
    husk.start_ok("c1")
    h.wait_file_contains(ev_out, '{"type":"oom","id":"c1"}', timeout=20)
    h.wait_file_contains(out, "dd-exited")
    husk.wait_status("c1", "stopped")
    assert events.running()
    assert husk.delete("c1").rc == 0
    r = events.wait(timeout=20)
    assert r.rc == 0, r
    kinds = [json.loads(line)["type"] for line in h.read_text(ev_out).splitlines()]
    assert set(kinds) == {"stats", "oom"}, kinds


def test_stats_with_the_v2_driver(husk, bundle, tmp):
    """The cgroup v2 driver on this host's cgroup2 hierarchy (a pure v2 host
    uses it anyway): whatever controllers it has are reported."""
    h.skip_unless("cgroup2")
    if h.V2_HOST:
        env = {}
        unified = h.CGROUP_ROOT
    else:
        env = {"HUSK_CGROUP_DRIVER": "v2", "HUSK_CGROUP_ROOT": h.UNIFIED}
        unified = h.UNIFIED
    ctrls = set(h.read_text(f"{unified}/cgroup.controllers").split())
    huge = "2MB" if "hugetlb" in ctrls and "2MB" in page_size_names() else None
    b = bundle(args=probe("wait-signal"), patch=limits(hugepages=huge))
    out = os.path.join(tmp, "c1.out")
    assert husk.create("c1", b, stdout=out, env=env).rc == 0
    husk.start_ok("c1", env=env)
    h.wait_file_contains(out, "waiting")
    r = husk("events", "--stats", "c1", env=env)
    assert r.rc == 0, r
    data = json.loads(r.out)["data"]
    if huge:
        assert "2MB" in data["hugetlb"], data
    if "memory" in ctrls:
        assert data["memory"]["usage"]["usage"] > 0
    if "pids" in ctrls:
        assert data["pids"]["current"] == 1
    assert husk.delete("c1", force=True, env=env).rc == 0
