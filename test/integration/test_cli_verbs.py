"""state/kill/delete/list/ps/pause/update against real containers, for what
the lifecycle tests leave out: ps output, update's flags and --resources,
the pid-reuse guard, deleting paused containers, concurrent deletes."""

import json
import os
import subprocess
import threading

import pytest

import helpers as h
from helpers import probe

ROOT = h.CGROUP_ROOT
V2_HOST = h.V2_HOST


def controller_file(bundle, controller, v1_name, v2_name):
    if V2_HOST:
        return f"{ROOT}{bundle.cgroup_path}/{v2_name}"
    return f"{ROOT}/{controller}{bundle.cgroup_path}/{v1_name}"


def running(husk, bundle, cid="c1", args=None):
    b = bundle(args=args or probe("sleep 100"))
    husk.create_ok(cid, b)
    husk.start_ok(cid)
    assert husk.status(cid) == "running"
    return b


def two_sleepers(husk, bundle):
    b = running(husk, bundle, args=["sh", "-c", "sleep 100 & exec sleep 101"])
    h.wait_for(lambda: len(json.loads(husk("ps", "--format", "json", "c1").out)) == 2,
               what="two processes in the container")
    return b


def test_ps_json_is_an_array_of_host_pids(husk, bundle):
    two_sleepers(husk, bundle)
    r = husk("ps", "--format", "json", "c1")
    assert r.rc == 0, r
    pids = json.loads(r.out)
    assert husk.state("c1")["pid"] in pids
    for pid in pids:
        assert h.read_text(f"/proc/{pid}/cmdline").startswith("sleep\0")
    assert husk("ps", "-f", "json", "c1").out == r.out


def test_ps_table_keeps_ps_header_and_container_lines(husk, bundle):
    two_sleepers(husk, bundle)
    r = husk("ps", "c1")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert "PID" in lines[0].split()
    assert len(lines) == 3, r
    r = husk("ps", "c1", "-o", "pid,comm")  # ps(1) options after the id
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].split() == ["PID", "COMMAND"]
    assert sorted(int(l.split()[0]) for l in lines[1:]) == \
        json.loads(husk("ps", "--format", "json", "c1").out)
    assert all(l.split()[1] == "sleep" for l in lines[1:])


def test_ps_of_stopped_container_is_empty(husk, bundle):
    husk.create_ok("c1", bundle(args=probe("exit 0")))
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk("ps", "--format", "json", "c1")
    assert r.rc == 0 and json.loads(r.out) == [], r


def test_update_with_flags(husk, bundle):
    b = running(husk, bundle)
    r = husk("update", "--pids-limit", "42", "--memory", "64m", "c1")
    assert r.rc == 0, r
    assert h.read_text(controller_file(b, "pids", "pids.max", "pids.max")).strip() == "42"
    mem = controller_file(b, "memory", "memory.limit_in_bytes", "memory.max")
    assert h.read_text(mem).strip() == str(64 << 20)
    r = husk("update", "--pids-limit=-1", "c1")
    assert r.rc == 0, r
    assert h.read_text(controller_file(b, "pids", "pids.max", "pids.max")).strip() == "max"


def test_update_with_resources_file_and_stdin(husk, bundle, tmp):
    b = running(husk, bundle)
    pids_max = controller_file(b, "pids", "pids.max", "pids.max")
    f = os.path.join(tmp, "res.json")
    with open(f, "w") as out:
        json.dump({"pids": {"limit": 7}}, out)
    r = husk("update", f"--resources={f}", "c1")
    assert r.rc == 0, r
    assert h.read_text(pids_max).strip() == "7"
    r = husk("update", "--resources", "-", "c1", stdin='{"pids":{"limit":8}}\n')
    assert r.rc == 0, r
    assert h.read_text(pids_max).strip() == "8"
    r = husk("update", "-r", "-", "c1", stdin='{"pids":{"limit":"x"}}')
    assert r.rc == 1 and "pids.limit" in r.err, r
    assert h.read_text(pids_max).strip() == "8"


def test_update_refusals(husk, bundle, tmp):
    running(husk, bundle)
    f = os.path.join(tmp, "res.json")
    with open(f, "w") as out:
        out.write("{}")
    r = husk("update", "--resources", f, "--memory", "1m", "c1")
    assert r.rc == 1, r
    assert "--resources cannot be combined with other resource flags" in r.err, r
    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")
    r = husk("update", "--pids-limit", "5", "c1")
    assert r.rc == 1 and r.err == "container not running\n", r


def test_kill_never_signals_a_reused_pid(husk, bundle):
    """A record whose pid now belongs to another process (same pid, other
    start time) is a stopped container; that process is left alone."""
    running(husk, bundle)
    stranger = subprocess.Popen(["sleep", "100"], env=husk.ctx.env())
    try:
        path = os.path.join(husk.root, "c1", "state.json")
        with open(path) as f:
            record = json.load(f)
        saved = dict(record)
        record["pid"] = stranger.pid  # pidStartTime stays the container's
        with open(path, "w") as f:
            json.dump(record, f)
        st = husk.state("c1")
        assert st["status"] == "stopped" and st["pid"] == 0
        r = husk.kill("c1", "KILL")
        assert r.rc == 1 and r.err == "container not running\n", r
        assert stranger.poll() is None
        with open(path, "w") as f:
            json.dump(saved, f)
        assert husk.status("c1") == "running"
    finally:
        stranger.kill()
        stranger.wait()
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


def test_kill_all_of_stopped_container_succeeds(husk, bundle):
    husk.create_ok("c1", bundle(args=probe("exit 0")))
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk.kill("c1", "9", all=True)
    assert r.rc == 0, r
    r = husk.kill("c1", "9")
    assert r.rc == 1 and r.err == "container not running\n", r


def test_kill_signal_zero_asks_whether_the_container_is_alive(husk, bundle):
    """Signal 0 (kill(2)'s existence check, "0" or "00" as runc accepts it)
    succeeds on a live container and leaves it running; once stopped it is
    "container not running". "SIG0" is no signal name, for runc either."""
    running(husk, bundle)
    for sig in ("0", "00"):
        r = husk.kill("c1", sig)
        assert r.rc == 0, r
        assert husk.kill("c1", sig, all=True).rc == 0
    assert husk.status("c1") == "running"
    r = husk.kill("c1", "SIG0")
    assert r.rc != 0 and 'unknown signal "SIG0"' in r.err, r
    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")
    r = husk.kill("c1", "0")
    assert r.rc == 1 and r.err == "container not running\n", r
    assert husk.delete("c1").rc == 0


def test_delete_force_of_paused_container(husk, bundle):
    b = running(husk, bundle)
    pid = husk.state("c1")["pid"]
    assert husk("pause", "c1").rc == 0
    assert husk.status("c1") == "paused"
    r = husk.delete("c1")
    assert r.rc == 1, r
    assert r.err == "cannot delete container c1 that is not stopped: paused\n", r
    r = husk.delete("c1", force=True)
    assert r.rc == 0, r
    assert not h.alive(pid)
    assert b.cgroup_dirs() == []
    assert husk.nothing_left() == []


def test_pause_of_created_container(husk, bundle):
    # runc freezes a created container too; resume returns it to "created".
    husk.create_ok("c1", bundle(args=probe("sleep 100")))
    assert husk("pause", "c1").rc == 0
    assert husk.status("c1") == "paused"
    assert husk("resume", "c1").rc == 0
    assert husk.status("c1") == "created"


def test_concurrent_force_deletes_both_succeed(husk, bundle):
    running(husk, bundle)
    results = [None, None]

    def delete(i):
        results[i] = husk.delete("c1", force=True)

    threads = [threading.Thread(target=delete, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert r.rc == 0, r
    assert husk.nothing_left() == []


def test_list_table_row(husk, bundle):
    b = running(husk, bundle)
    st = husk.state("c1")
    r = husk("list")
    assert r.rc == 0, r
    header, row = r.out.splitlines()
    assert header.split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert row.split() == ["c1", str(st["pid"]), "running", b.path, st["created"], "root"]
    # columns line up with the header (tabwriter layout)
    assert row.index(str(st["pid"])) == header.index("PID")
    assert row.index("running") == header.index("STATUS")


def test_list_json_is_one_line_in_runcs_shape(husk, bundle):
    """runc prints the list as one JSON line (an encoder's output; scripts read
    it line-wise), each entry with runc's keys in runc's order."""
    running(husk, bundle, "c1")
    b2 = bundle(args=probe("sleep 100"), patch={"annotations": {"k": "v"}})
    husk.create_ok("c2", b2)
    r = husk("list", "--format", "json")
    assert r.rc == 0, r
    assert r.out.endswith("\n") and r.out.count("\n") == 1, r
    entries = json.loads(r.out)
    base = ["ociVersion", "id", "pid", "status", "bundle", "rootfs", "created"]
    assert [list(e) for e in entries] == [base + ["owner"], base + ["annotations", "owner"]], r
    assert [(e["id"], e["status"], e["owner"]) for e in entries] == \
        [("c1", "running", "root"), ("c2", "created", "root")]
    for cid in ("c1", "c2"):
        assert husk.delete(cid, force=True).rc == 0
    assert husk.nothing_left() == []


def test_list_owner_names_from_passwd(husk, bundle):
    """OWNER is the name /etc/passwd gives the state directory's owner, or
    #uid when it has none (runc's column); husk reads the file itself."""
    running(husk, bundle)
    d = os.path.join(husk.root, "c1")
    names = {}
    with open("/etc/passwd") as f:
        for line in f:
            parts = line.split(":")
            if len(parts) > 2 and parts[2].isdigit():
                names.setdefault(int(parts[2]), parts[0])
    named = next(u for u in sorted(names) if u != 0)
    unnamed = next(u for u in range(54321, 70000) if u not in names)
    try:
        for uid, want in ((named, names[named]), (unnamed, f"#{unnamed}")):
            os.chown(d, uid, -1)
            r = husk("list")
            assert r.rc == 0, r
            row = r.out.splitlines()[1].split()
            assert row[0] == "c1" and row[-1] == want, r
    finally:
        os.chown(d, 0, -1)
