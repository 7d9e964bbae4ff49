"""A create watched while it works, or killed with SIGKILL at one of its
steps. `state` says "creating" until create is done; whatever a killed create
left, `state` reports it consistently and `delete` removes all of it: no
state directory, cgroup or process remains, and the id can be used again."""

import json
import os
import subprocess

import pytest

import helpers as h
from helpers import probe

# Host hooks. $1 is a directory of the test's: the hook saves its stdin (the
# container state) there. The waiting one gives up after 30 s, so that a
# failed test does not leave it behind.
WAIT_HOOK = """#!/bin/sh
cat > "$1/state.json"
touch "$1/running"
i=0
while [ ! -e "$1/release" ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i + 1)); done
"""
# Kills its parent, the husk create (or run) that runs the hook.
KILL_HOOK = """#!/bin/sh
cat > "$1/state.json"
kill -KILL $PPID
"""


def hook_bundle(bundle, tmp, kind, script, args):
    out = os.path.join(tmp, "hookout")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(tmp, "hook.sh")
    with open(path, "w") as f:
        f.write(script)
    os.chmod(path, 0o755)
    b = bundle(args=args)
    b.config["hooks"] = {kind: [{"path": path, "args": ["hook.sh", out]}]}
    b.write()
    return b, out


def hook_state(out):
    with open(os.path.join(out, "state.json")) as f:
        return json.load(f)


def listed(husk):
    r = husk("list", "--format", "json")
    assert r.rc == 0, r
    return {c["id"]: c["status"] for c in json.loads(r.out or "[]") or []}


def test_state_says_creating_until_create_is_done(husk, bundle, tmp):
    b, out = hook_bundle(bundle, tmp, "createRuntime", WAIT_HOOK, probe("sleep 100"))
    create = husk.spawn("create", "--bundle", b.path, "c1")
    h.wait_for(lambda: os.path.exists(os.path.join(out, "running")), timeout=10,
               what="createRuntime hook running")
    st = husk.state("c1")
    assert st["status"] == "creating", st
    assert st["pid"] == hook_state(out)["pid"] > 0
    assert st["bundle"] == b.path
    assert listed(husk) == {"c1": "creating"}
    open(os.path.join(out, "release"), "w").close()
    r = create.wait(30)
    assert r.rc == 0, r
    assert husk.status("c1") == "created"
    assert listed(husk) == {"c1": "created"}
    husk.start_ok("c1")
    assert husk.status("c1") == "running"
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("kind", ["prestart", "createRuntime"])
def test_create_killed_in_a_hook_is_cleaned_up_by_delete(husk, bundle, tmp, kind, verb):
    # By then the record, the cgroup and the init exist; the init dies with
    # its create (its socket to the parent closes).
    b, out = hook_bundle(bundle, tmp, kind, KILL_HOOK, probe("sleep 100"))
    r = husk(verb, "--bundle", b.path, "c1")
    assert r.rc == -9, r
    init = hook_state(out)["pid"]
    h.wait_for(lambda: not h.alive(init), timeout=10, what="init gone")
    assert husk.status("c1") == "stopped"
    r = husk.delete("c1")
    assert r.rc == 0, r
    assert husk.status("c1") is None
    assert husk.nothing_left() == []
    # The id is free again.
    husk.create_ok("c1", bundle(args=probe("sleep 100")))
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


def state_dir_of(husk, b, with_config=True):
    """Container c1's state directory as a create killed early leaves it:
    the directory, and config.json (the bundle's config) unless told not."""
    d = os.path.join(husk.root, "c1")
    os.makedirs(d, mode=0o700)
    if with_config:
        with open(b.config_path) as src, open(os.path.join(d, "config.json"), "w") as dst:
            dst.write(src.read())
    return d


@pytest.mark.parametrize("left", ["directory", "config", "config+fifo"])
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_delete_removes_what_a_create_killed_before_its_record_left(husk, bundle, left,
                                                                     force):
    # A create killed right after its mkdir leaves an empty directory; one
    # killed before cloning the init, its config.json (and exec.fifo).
    b = bundle(args=probe("sleep 100"))
    d = state_dir_of(husk, b, with_config=left != "directory")
    if left == "config+fifo":
        os.mkfifo(os.path.join(d, "exec.fifo"), 0o622)
    assert husk.status("c1") is None
    assert "c1" not in listed(husk)
    r = husk.delete("c1", force=force)
    if force:
        assert r.rc == 0, r
    else:
        assert r.rc != 0 and 'container "c1" does not exist' in r.err, r
    assert not os.path.exists(d)
    husk.create_ok("c1", b)
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


def leftover_without_record(husk, bundle):
    """What a create killed between its cgroups and its record leaves: the
    directory, config.json and the container's leaf in every hierarchy."""
    b = bundle(args=probe("sleep 100"))
    d = state_dir_of(husk, b)
    leaves = h.hierarchy_dirs(b.cgroup_path)
    made = []  # what this test made, parents included, deepest last
    for leaf in leaves:
        for path in (os.path.dirname(leaf), leaf):
            if not os.path.isdir(path):
                os.mkdir(path)
                made.append(path)
    return b, d, leaves, made


def remove_made(made):
    """The test's own cgroup directories, if still there (husk's registry
    knows nothing of parents a test made, so delete leaves them)."""
    for path in reversed(made):
        if os.path.isdir(path):
            try:
                os.rmdir(path)
            except OSError:
                pass


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_delete_removes_cgroups_a_create_killed_before_its_record_made(husk, bundle, force):
    # create makes and joins the cgroups, sends Start, then writes its record
    # (create.cpp, persist_record): killed in between, it leaves the
    # directory, config.json and the cgroups (its init leaves by itself).
    # delete finds them from config.json and removes them.
    b, d, leaves, made = leftover_without_record(husk, bundle)
    try:
        assert husk.status("c1") is None
        r = husk.delete("c1", force=force)
        if force:
            assert r.rc == 0, r
        else:
            assert r.rc != 0 and 'container "c1" does not exist' in r.err, r
        assert b.cgroup_dirs() == []
        assert not os.path.exists(d)
        assert husk.nothing_left() == []
    finally:
        remove_made(made)


def test_delete_without_record_leaves_a_cgroup_in_use_alone(husk, bundle):
    # Without a record nothing says the cgroup is the dead create's: another
    # container may share the cgroupsPath. delete kills nothing there and
    # removes no cgroup that still has a process.
    b, d, leaves, made = leftover_without_record(husk, bundle)
    proc = subprocess.Popen(["sleep", "100"])
    try:
        pids_leaf = next((x for x in leaves if "/pids/" in x), leaves[0])
        with open(os.path.join(pids_leaf, "cgroup.procs"), "w") as f:
            f.write(str(proc.pid))
        r = husk.delete("c1", force=True)
        assert r.rc == 0, r
        assert proc.poll() is None  # not killed
        assert os.path.isdir(pids_leaf)  # still in use: kept
        assert not os.path.exists(d)
    finally:
        proc.kill()
        proc.wait()
        remove_made(made)
    assert b.cgroup_dirs() == []


def test_delete_without_record_when_the_cgroup_cannot_be_planned(husk, bundle):
    # --systemd-cgroup is refused at plan time: create would never have made
    # a cgroup with it, and delete still removes the directory.
    b = bundle(args=probe("sleep 100"))
    d = state_dir_of(husk, b)
    r = husk("--systemd-cgroup", "delete", "--force", "c1")
    assert r.rc == 0, r
    assert not os.path.exists(d)
    assert husk.nothing_left() == []
