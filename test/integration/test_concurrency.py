"""husk verbs racing each other on one container or one parent cgroup, as
an engine's parallel calls make them: exactly one wins where that is the
rule, every other call fails with an error (never a crash), what remains is
consistent, and nothing is left behind."""

import json
import os
import signal
import threading

import helpers as h


def wait_all(husk, procs, timeout=60):
    return [husk.reaping(p, timeout) for p in procs]


def assert_no_crash(results):
    """Every call ended by exiting: a negative rc is a husk killed by a
    signal (SIGSEGV, SIGABRT). A failure says why, except an exec whose
    program ran and was SIGKILLed with its container: 128+9, runc's exit
    status for it."""
    for r in results:
        assert r.rc is not None and r.rc >= 0, r
        killed_program = r.cmd[3:4] == ["exec"] and r.rc == 128 + signal.SIGKILL
        if r.rc != 0 and not killed_program:
            assert r.err.strip(), r


def test_50_parallel_creates_of_one_id(husk, bundle):
    b = bundle(args=h.probe("sleep 1000"))
    results = wait_all(husk, [husk.spawn("create", "--bundle", b.path, "c1") for _ in range(50)])
    assert_no_crash(results)
    won = [r for r in results if r.rc == 0]
    assert len(won) == 1, won
    for r in results:
        if r.rc != 0:
            assert "container with id exists: c1" in r.err, r
    assert husk.status("c1") == "created"
    assert len(b.cgroup_dirs()) > 0
    husk.start_ok("c1")
    assert husk.status("c1") == "running"
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


def test_start_kill_delete_exec_race_on_one_container(husk, bundle):
    for rnd in range(6):
        cid = f"r{rnd}"
        b = bundle(args=h.probe("sleep 1000"))
        husk.create_ok(cid, b)
        calls = [("start", cid), ("kill", cid, "KILL"), ("delete", "--force", cid),
                 ("exec", cid, "/probe", "pid")]
        # A different order of launch each round.
        calls = calls[rnd % 4:] + calls[:rnd % 4]
        results = wait_all(husk, [husk.spawn(*c) for c in calls])
        assert_no_crash(results)
        # Consistent end: the container is stopped (its record intact) or
        # gone; nothing lives on either way.
        r = husk("state", cid)
        if r.rc == 0:
            st = json.loads(r.out)
            assert st["id"] == cid, r
            assert husk.wait_status(cid, "stopped") == "stopped"
        else:
            assert "does not exist" in r.err, r
        assert husk.reaping(husk.spawn("delete", "--force", cid)).rc == 0
        assert husk.nothing_left() == []


def test_list_and_state_while_containers_come_and_go(husk, bundle):
    keep = bundle(args=h.probe("sleep 1000"))
    husk.create_ok("stable", keep)
    churn_bundle = bundle(args=h.probe("sleep 1000"))
    stop = threading.Event()
    churn_errors = []

    def churn():
        n = 0
        while not stop.is_set():
            cid = f"tmp{n % 3}"
            for argv in (("create", "--bundle", churn_bundle.path, cid),
                         ("delete", "--force", cid)):
                r = husk(*argv)
                if r.rc != 0:
                    churn_errors.append(r)
            n += 1

    t = threading.Thread(target=churn)
    t.start()
    try:
        for _ in range(40):
            r = husk("list", "--format", "json")
            assert r.rc == 0, r
            ids = [c["id"] for c in json.loads(r.out)]
            assert "stable" in ids, r
            r = husk("state", "stable")
            assert r.rc == 0, r
            assert json.loads(r.out)["status"] == "created", r
            for tmp in ("tmp0", "tmp1", "tmp2"):
                r = husk("state", tmp)
                if r.rc == 0:
                    assert json.loads(r.out)["id"] == tmp, r
                else:
                    assert "does not exist" in r.err, r
    finally:
        stop.set()
        t.join(120)
    assert churn_errors == []
    assert husk.delete("stable", force=True).rc == 0
    assert husk.nothing_left() == []


def test_100_runs_share_a_parent_cgroup(husk, bundle):
    parent = f"/{h.CGROUP_PARENT}/{h.cgroup_name(husk.ctx.index, 'shared')}"
    b = bundle(args=h.probe("exit 0"))
    bundles = []
    for i in range(100):
        path = os.path.join(husk.ctx.dir, f"run{i}")
        os.makedirs(path)
        os.symlink(b.rootfs, os.path.join(path, "rootfs"))
        cfg = json.loads(json.dumps(b.config))
        cfg["linux"]["cgroupsPath"] = f"{parent}/c{i}"
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f)
        bundles.append(path)
    results = []
    batch = 10
    for start in range(0, 100, batch):
        procs = [husk.spawn("run", "--bundle", p, f"c{start + k}")
                 for k, p in enumerate(bundles[start:start + batch])]
        results += wait_all(husk, procs)
    assert [r for r in results if r.rc != 0] == []
    assert husk.ids() == []
    # The parent was made by these runs: the last one out removes it.
    assert h.cgroup_dirs(h.cgroup_name(husk.ctx.index, "shared")) == []
    assert husk.nothing_left() == []
