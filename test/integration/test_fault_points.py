"""kill -9 at every named phase (runtime/base/phases.hpp).

The phases are listed by the binary itself (`husk __phases`, the table every
PhaseTimer mark and init step is checked against when it compiles), so a new
phase is swept without anyone adding it here. For each: husk (or, for
"init.*", the container's init) is SIGKILLed at that phase, then a user's
checks: `state` answers or says the container does not exist, `delete
--force` succeeds, nothing is left (state directory, cgroup, mount, process),
and no lock is left held (the same id can be created again).

Needs a husk built with HUSK_FAULT_POINTS (scripts/build does); skipped with
that reason otherwise.
"""

import json
import os
import signal
import subprocess

import pytest

import helpers as h


def _phases():
    try:
        r = subprocess.run([h.HUSK_BIN, "__phases"], capture_output=True, text=True, timeout=10)
    except OSError:
        return []
    return r.stdout.split() if r.returncode == 0 else []


PHASES = _phases()
pytestmark = pytest.mark.skipif(
    not PHASES, reason="husk built without HUSK_FAULT_POINTS (no `husk __phases`)")

CID = "f1"
STATUSES = {"creating", "created", "running", "paused", "stopped"}
# Every create phase is reached only when the create has hooks to run
# (create.cpp: rootfs, hooks, ready); a host binary that does nothing.
HOOKS = {"hooks": {"createRuntime": [{"path": "/bin/true"}]}}


def running(husk, bundle, **kw):
    b = bundle(args=h.probe("sleep 1000"))
    husk.create_ok(CID, b, **kw)
    husk.start_ok(CID)
    return b


# verb -> (prepare(husk, bundle), argv of the faulted husk call)
def _prep_none(husk, bundle):
    return bundle(args=h.probe("exit 0"), patch=HOOKS)


def _prep_created(husk, bundle):
    b = bundle(args=h.probe("sleep 1000"))
    husk.create_ok(CID, b)
    return b


def _prep_paused(husk, bundle):
    b = running(husk, bundle)
    assert husk("pause", CID).rc == 0
    return b


SCENARIOS = {
    "create": (_prep_none, lambda b: ["create", "--bundle", b.path, CID]),
    # run's create: the init is released over its socket, not exec.fifo
    "create-in-run": (_prep_none, lambda b: ["run", "-d", "--bundle", b.path, CID]),
    "run": (_prep_none, lambda b: ["run", "--bundle", b.path, CID]),
    "start": (_prep_created, lambda b: ["start", CID]),
    "exec": (running, lambda b: ["exec", CID, "/probe", "pid"]),
    "kill": (running, lambda b: ["kill", CID, "KILL"]),
    "delete": (running, lambda b: ["delete", "--force", CID]),
    "pause": (running, lambda b: ["pause", CID]),
    "resume": (_prep_paused, lambda b: ["resume", CID]),
    "update": (running, lambda b: ["update", "--pids-limit", "77", CID]),
}


def check_recovers(husk, bundle):
    """What a user checks after a crash: state (and list, start), delete
    --force, leftovers, lock."""
    r = husk("state", CID)
    if r.rc == 0:
        assert json.loads(r.out)["status"] in STATUSES, r
    else:
        assert "does not exist" in r.err, r
    r = husk("list", "--format", "json")
    assert r.rc == 0 and isinstance(json.loads(r.out), list), r
    # The other verbs answer too, none waits for the dead process: start
    # either refuses or starts what the crash left created.
    r = husk("start", CID, timeout=20)
    assert r.rc >= 0 and (r.rc == 0 or r.err.strip()), r
    r = husk.reaping(husk.spawn("delete", "--force", CID))
    assert r.rc == 0, r
    assert husk.nothing_left() == []
    # Every lock of the dead process went with it: the id is free again.
    husk.create_ok(CID, bundle(args=h.probe("exit 0")))
    assert husk.delete(CID, force=True).rc == 0
    assert husk.nothing_left() == []


def _husk_cases():
    for p in PHASES:
        verb = p.split(".")[0]
        if verb != "init":
            yield p, verb
        if verb == "create":
            yield p, "create-in-run"


@pytest.mark.parametrize("phase,scenario", list(_husk_cases()))
def test_kill9_husk_at_phase(husk, bundle, phase, scenario):
    assert scenario in SCENARIOS, f"no scenario reaches {phase}: add one for {scenario!r}"
    prepare, argv = SCENARIOS[scenario]
    b = prepare(husk, bundle)
    r = husk(*argv(b), env={"HUSK_FAULT": phase}, timeout=60)
    assert r.rc == -signal.SIGKILL, f"fault point {phase} not reached{r!r}"
    check_recovers(husk, bundle)


def faulted_inits(mark):
    return [pid for pid, _ in h.marked_pids(value=mark)
            if (h.read_text(f"/proc/{pid}/comm", "") or "").strip() == "husk-fault"]


# Reached during `start` (the init waits on exec.fifo until then).
INIT_AFTER_START = {"init.fifo", "init.exec"}


# The init's two ways (init.cpp, starts_early): the plain one builds its
# rootfs before the parent's Start; with a user namespace it waits for Start
# and for its ID mappings first.
USERNS = {"linux": {
    "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "user")],
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}}


@pytest.mark.parametrize("config", ["plain", "userns"])
@pytest.mark.parametrize("phase", [p for p in PHASES if p.startswith("init.")])
def test_kill9_init_at_phase(husk, bundle, phase, config):
    b = bundle(args=h.probe("sleep 1000"), patch=USERNS if config == "userns" else None)
    env = {"HUSK_FAULT": phase}
    create = husk.spawn("create", "--bundle", b.path, CID, env=env)
    if phase in INIT_AFTER_START:
        assert create.wait().rc == 0
        waiter = husk.spawn("start", CID)
    else:
        waiter = create
    pids = h.wait_for(lambda: faulted_inits(husk.ctx.mark), timeout=20,
                      what=f"the init stopped at {phase}")
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)
    r = waiter.wait(60)
    if phase in INIT_AFTER_START:
        # After the init said "go" on exec.fifo, start cannot tell its death
        # from a program that exited at once (runc's start cannot either):
        # it may succeed, and the container is stopped.
        assert r.rc is not None and r.rc >= 0, r
        assert husk.wait_status(CID, "stopped") == "stopped"
    elif phase != "init.ready":
        # The init died before its work was done: husk says so. (At
        # init.ready, create's work was done and create may already be gone.)
        assert r.rc > 0, r
    check_recovers(husk, bundle)
