"""OCI hooks: all six kinds run at their lifecycle point with the container
state on stdin, with their own args and env, under a timeout; failures of
create-time hooks undo the create, poststart failure stops the container,
poststop failure is only a warning."""

import json
import os
import re
import stat
import time

import pytest

import helpers as h
from helpers import probe

CREATE_KINDS = ["prestart", "createRuntime", "createContainer"]

# Records its stdin as <dir>/<name>.json, appends <name> to <dir>/order and
# exits with the given status. Runs on the host and, copied into the rootfs,
# inside the container (busybox sh).
HOOK = """#!/bin/sh
cat > "$2/$1.json"
echo "$1" >> "$2/order"
exit "${3:-0}"
"""


class HookBundle:
    """A bundle whose hooks record into a host directory that is also
    bind-mounted into the container at /hookout (for startContainer, which
    runs, and resolves its path, in the container)."""

    def __init__(self, bundle, tmp, args, fail=None, exit_code=2):
        self.out = os.path.join(tmp, "hookout")
        os.makedirs(self.out)
        self.script = os.path.join(tmp, "hook.sh")
        write_script(self.script, HOOK)
        self.b = bundle(args=args)
        write_script(self.b.host_path("/hook.sh"), HOOK)
        hooks = {}
        for kind in ["prestart", "createRuntime", "createContainer", "startContainer",
                     "poststart", "poststop"]:
            inside = kind == "startContainer"
            hooks[kind] = [{
                "path": "/hook.sh" if inside else self.script,
                "args": ["hook.sh", kind, "/hookout" if inside else self.out]
                + ([str(exit_code)] if kind == fail else []),
            }]
        self.b.config["hooks"] = hooks
        self.b.config["mounts"].append({"destination": "/hookout", "type": "bind",
                                        "source": self.out, "options": ["rbind", "rw"]})
        self.b.write()

    def order(self):
        return h.read_text(os.path.join(self.out, "order"), "").split()

    def state(self, kind):
        with open(os.path.join(self.out, f"{kind}.json")) as f:
            return json.load(f)


def write_script(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def test_create_container_hook_runs_in_the_containers_root(husk, bundle, tmp):
    """runc starts createContainer hooks in the container's root (still the
    host path there, before pivot_root), whatever the caller's directory."""
    out = os.path.join(tmp, "cwd")
    b = bundle(args=probe("pid"))
    b.config["hooks"] = {"createContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", f'pwd > {out}; ls > {out}.ls']}]}
    b.write()
    r = husk.run("c1", b, cwd=tmp)
    assert r.rc == 0, r
    assert h.read_text(out).strip() == os.path.realpath(b.rootfs)
    assert "probe" in h.read_text(f"{out}.ls").split()


def test_all_hooks_run_in_order_with_state(husk, bundle, tmp):
    hb = HookBundle(bundle, tmp, probe("sleep 100"))
    husk.create_ok("c1", hb.b)
    pid = husk.state("c1")["pid"]
    assert hb.order() == CREATE_KINDS
    # runtime.md "State": the pid as seen by the runtime for hooks run in the
    # runtime namespace, as seen by the container for hooks run in it.
    # prestart is defined as running after `start` is called on the created
    # container (runtime-tools' hooks_stdin, crun): "created".
    for kind, want_pid, status in [("prestart", pid, "created"), ("createRuntime", pid, "creating"),
                                   ("createContainer", 1, "creating")]:
        st = hb.state(kind)
        assert (st["id"], st["status"], st["pid"], st["bundle"]) == \
            ("c1", status, want_pid, hb.b.path), kind
        assert st["ociVersion"]

    husk.start_ok("c1")
    assert hb.order() == CREATE_KINDS + ["startContainer", "poststart"]
    st = hb.state("startContainer")
    assert (st["status"], st["pid"]) == ("created", 1)
    st = hb.state("poststart")
    assert (st["status"], st["pid"]) == ("running", pid)

    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")
    assert "poststop" not in hb.order()
    r = husk.delete("c1")
    assert r.rc == 0, r
    assert hb.order()[-1] == "poststop"
    st = hb.state("poststop")
    assert (st["id"], st["status"], st["bundle"]) == ("c1", "stopped", hb.b.path)


def test_hooks_with_run(husk, bundle, tmp):
    hb = HookBundle(bundle, tmp, probe("exit 0"))
    r = husk.run("c1", hb.b)
    assert r.rc == 0, r
    assert hb.order() == CREATE_KINDS + ["startContainer", "poststart", "poststop"]
    # run hands create's record and hooks to start and delete: same states as
    # create/start/delete give them.
    pid = hb.state("prestart")["pid"]
    st = hb.state("poststart")
    assert (st["id"], st["status"], st["pid"], st["bundle"]) == ("c1", "running", pid, hb.b.path)
    st = hb.state("poststop")
    assert (st["id"], st["status"], st["bundle"]) == ("c1", "stopped", hb.b.path)
    assert husk.nothing_left() == []


@pytest.mark.parametrize("detach", [False, True])
def test_failing_start_container_hook_with_run(husk, bundle, tmp, detach):
    # run releases its init over the protocol socket, not exec.fifo: a failure
    # after the release must still come back as run's error.
    hb = HookBundle(bundle, tmp, probe(["write", "/hookout/ran", "yes"]),
                    fail="startContainer", exit_code=7)
    r = husk.run("c1", hb.b, *(["--detach"] if detach else []))
    assert r.rc != 0, r
    assert "startContainer" in r.err and "status 7" in r.err, r
    assert not os.path.exists(os.path.join(hb.out, "ran")), "user process must not run"
    assert "poststart" not in hb.order()
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


@pytest.mark.parametrize("detach", [False, True])
def test_failing_poststart_with_run(husk, bundle, tmp, detach):
    hb = HookBundle(bundle, tmp, probe("sleep 100"), fail="poststart")
    r = husk.run("c1", hb.b, *(["--detach"] if detach else []))
    assert r.rc != 0, r
    assert "poststart" in r.err, r
    # The container is stopped and, as a failed run, removed; poststop ran.
    assert hb.order() == CREATE_KINDS + ["startContainer", "poststart", "poststop"]
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_hook_args_env_and_stdin(husk, bundle, tmp):
    out = os.path.join(tmp, "record")
    script = os.path.join(tmp, "h.sh")
    write_script(script, "#!/bin/sh\n"
                 "tr '\\0' '\\n' < /proc/$$/cmdline > \"$1.cmdline\"\n"
                 "tr '\\0' '\\n' < /proc/$$/environ > \"$1.env\"\n"
                 "cat > \"$1.stdin\"\n")
    b = bundle(args=probe("exit 0"))
    b.patch({"hooks": {"createRuntime": [{"path": script, "args": ["h.sh", out, "two words"],
                                          "env": ["A=1", "B=x y"]}]}})
    assert husk.create("c1", b).rc == 0
    assert h.read_text(out + ".cmdline").splitlines() == ["/bin/sh", script, out, "two words"]
    assert h.read_text(out + ".env").splitlines() == ["A=1", "B=x y"]
    st = json.loads(h.read_text(out + ".stdin"))
    assert st["id"] == "c1" and st["pid"] == husk.state("c1")["pid"]


def test_hook_without_args_and_env(husk, bundle, tmp):
    out = os.path.join(tmp, "record")
    script = os.path.join(tmp, "h.sh")
    write_script(script, "#!/bin/sh\n"
                 f"echo \"$0 $#\" > {out}\n"
                 f"tr '\\0' '\\n' < /proc/$$/environ >> {out}\n")
    b = bundle(args=probe("exit 0"))
    b.patch({"hooks": {"prestart": [{"path": script}]}})
    assert husk.create("c1", b).rc == 0
    assert h.read_text(out) == f"{script} 0\n"


def test_hook_timeout(husk, bundle):
    b = bundle(args=probe("exit 0"))
    b.patch({"hooks": {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"],
                                          "timeout": 1}]}})
    t0 = time.monotonic()
    r = husk.create("c1", b)
    took = time.monotonic() - t0
    assert r.rc != 0, r
    assert took < 15
    assert re.search(r"timed out|timeout", r.err, re.I), r
    assert "createRuntime" in r.err, r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("kind", CREATE_KINDS)
def test_failing_create_hook_undoes_create(husk, bundle, tmp, kind):
    hb = HookBundle(bundle, tmp, probe("sleep 100"), fail=kind, exit_code=3)
    r = husk.create("c1", hb.b)
    assert r.rc != 0, r
    assert kind in r.err, r
    assert "status 3" in r.err, r
    # Later hooks do not run; the container never existed.
    assert hb.order() == CREATE_KINDS[:CREATE_KINDS.index(kind) + 1]
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_failing_start_container_hook(husk, bundle, tmp):
    hb = HookBundle(bundle, tmp, probe(["write", "/hookout/ran", "yes"]),
                    fail="startContainer")
    husk.create_ok("c1", hb.b)
    pid = husk.state("c1")["pid"]
    r = husk.start("c1")
    assert r.rc != 0, r
    assert "startContainer" in r.err, r
    assert not os.path.exists(os.path.join(hb.out, "ran")), "user process must not run"
    assert "poststart" not in hb.order()
    h.wait_for(lambda: not h.alive(pid), 5, what="init to exit")
    assert husk.status("c1") in ("stopped", None)


def test_failing_poststart_stops_container(husk, bundle, tmp):
    hb = HookBundle(bundle, tmp, probe("sleep 100"), fail="poststart")
    husk.create_ok("c1", hb.b)
    pid = husk.state("c1")["pid"]
    r = husk.start("c1")
    assert r.rc != 0, r
    assert "poststart" in r.err, r
    h.wait_for(lambda: not h.alive(pid), 5, what="container process to be killed")
    assert husk.status("c1") in ("stopped", None)


def test_failing_poststop_only_warns(husk, bundle, tmp):
    hb = HookBundle(bundle, tmp, probe("exit 0"), fail="poststop")
    second = os.path.join(tmp, "second")
    hb.b.config["hooks"]["poststop"].append(
        {"path": "/bin/sh", "args": ["sh", "-c", f"cat > {second}"]})
    hb.b.write()
    husk.create_ok("c1", hb.b)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    r = husk.delete("c1")
    assert r.rc == 0, r
    assert "poststop" in r.err, r
    assert husk.status("c1") is None
    # The remaining poststop hooks still ran.
    assert json.loads(h.read_text(second))["id"] == "c1"
    assert husk.nothing_left() == []


def test_hook_not_reading_stdin(husk, bundle, tmp):
    b = bundle(args=probe("exit 0"))
    b.patch({"hooks": {"prestart": [{"path": "/bin/true"}],
                       "poststart": [{"path": "/bin/sh", "args": ["sh", "-c", "exec 0<&-"]}]}})
    assert husk.create("c1", b).rc == 0
    r = husk.start("c1")
    assert r.rc == 0, r


def test_hook_stdout_inherited(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("exit 0"))
    b.patch({"hooks": {"prestart": [{"path": "/bin/echo", "args": ["echo", "from-hook"]}]}})
    r = husk.create("c1", b, stdout=out)
    assert r.rc == 0, r
    assert "from-hook\n" in h.read_text(out)


def test_hook_path_must_be_executable(husk, bundle, tmp):
    script = os.path.join(tmp, "noexec.sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(script, stat.S_IRUSR | stat.S_IWUSR)
    b = bundle(args=probe("exit 0"))
    b.patch({"hooks": {"prestart": [{"path": script}]}})
    r = husk.create("c1", b)
    assert r.rc != 0, r
    assert script in r.err, r
    assert husk.nothing_left() == []
