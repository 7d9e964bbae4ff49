"""A catalogue of bad inputs. Each must fail with a non-zero exit, an error
that names what is wrong (the JSON field, argument or id), and leave nothing
behind: no state dir, no cgroup, no mount, no process."""

import os
import re
import subprocess

import pytest

import helpers as h
from helpers import probe


def drop(*path):
    """A mutation deleting config key path[-1] under path[:-1]."""
    def mutate(b):
        node = b.config
        for k in path[:-1]:
            node = node[k]
        del node[path[-1]]
        b.write()
    return mutate


def patch(p):
    return lambda b: b.patch(p)


def set_ns(entries):
    def mutate(b):
        b.config["linux"]["namespaces"] = entries
        b.write()
    return mutate


def add_mount(m):
    def mutate(b):
        b.config["mounts"].append(m)
        b.write()
    return mutate


def raw(text):
    return lambda b: b.write_raw(text)


def remove_config(b):
    os.unlink(b.config_path)


def set_args(args):
    return lambda b: b.patch({"process": {"args": args}})


def without_ns(kind):
    def mutate(b):
        b.config["linux"]["namespaces"] = [n for n in b.config["linux"]["namespaces"]
                                           if n["type"] != kind]
        b.write()
    return mutate


def seccomp(profile):
    return lambda b: b.patch({"linux": {"seccomp": profile}})


STD_NS = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]

# (id, mutation of a valid bundle, regexes the stderr of `create` must match)
CREATE_CASES = [
    ("malformed-json", raw('{"ociVersion": "1.2.0", "process": {'), [r"config\.json", r"(?i)json"]),
    ("not-an-object", raw("[1, 2, 3]"), [r"config\.json|(?i:object)"]),
    ("no-config-json", remove_config, [r"config\.json"]),
    ("ociVersion-wrong-type", patch({"ociVersion": 1}), [r"ociVersion"]),
    ("ociVersion-missing", drop("ociVersion"), [r"ociVersion"]),
    ("process-missing", drop("process"), [r"process"]),
    ("process-wrong-type", patch({"process": "sh"}), [r"process"]),
    ("args-missing", drop("process", "args"), [r"process\.args"]),
    ("args-empty", set_args([]), [r"process\.args"]),
    ("args-wrong-type", set_args("/probe pid"), [r"process\.args"]),
    ("args-element-wrong-type", set_args(["/probe", 1]), [r"process\.args"]),
    ("cwd-missing", drop("process", "cwd"), [r"process\.cwd"]),
    ("cwd-relative", patch({"process": {"cwd": "tmp"}}), [r"process\.cwd", r"(?i)absolute"]),
    ("uid-negative", patch({"process": {"user": {"uid": -1}}}), [r"process\.user\.uid"]),
    ("uid-wrong-type", patch({"process": {"user": {"uid": "root"}}}), [r"process\.user\.uid"]),
    ("gids-wrong-type", patch({"process": {"user": {"additionalGids": "10"}}}),
     [r"process\.user\.additionalGids"]),
    ("terminal-wrong-type", patch({"process": {"terminal": "no"}}), [r"process\.terminal"]),
    ("env-not-key-value", patch({"process": {"env": ["PATH=/bin", "NOEQUALS"]}}),
     [r"process\.env\[1\]"]),
    ("root-missing", drop("root"), [r"root"]),
    ("root-path-missing", drop("root", "path"), [r"root\.path"]),
    ("rootfs-dir-missing", patch({"root": {"path": "no-such-rootfs"}}), [r"no-such-rootfs"]),
    ("executable-missing", set_args(["/no-such-binary"]), [r"/no-such-binary"]),
    ("executable-not-in-path", set_args(["no-such-command"]),
     [r'no-such-command', r"executable file not found in \$PATH"]),
    ("executable-is-directory", set_args(["/etc"]), [r"/etc"]),
    ("namespace-path-missing", set_ns(STD_NS + [{"type": "network",
                                                 "path": "/proc/999999999/ns/net"}]),
     [r"/proc/999999999/ns/net"]),
    ("namespace-path-wrong-type", set_ns(STD_NS + [{"type": "network",
                                                    "path": "/proc/1/ns/uts"}]),
     [r"/proc/1/ns/uts"]),
    ("namespace-duplicate", set_ns(STD_NS + [{"type": "pid"}]),
     [r"linux\.namespaces", r"pid"]),
    ("namespace-unknown-type", set_ns(STD_NS + [{"type": "bogusns"}]), [r"bogusns"]),
    # No mount namespace is fine (inherited), but not with a new user
    # namespace, from which the init could not return to the shared one.
    ("namespace-userns-without-mount",
     lambda b: (set_ns([{"type": "pid"}, {"type": "uts"}, {"type": "user"}])(b),
                b.patch({"linux": {
                    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}})),
     [r"linux\.namespaces", r"new mount namespace"]),
    ("propagation-shared-without-mount-namespace",
     lambda b: (set_ns([{"type": "pid"}, {"type": "uts"}])(b),
                b.patch({"linux": {"rootfsPropagation": "rshared"}})),
     [r"linux\.rootfsPropagation", r"mount namespace of the container's own"]),
    ("hostname-without-uts", lambda b: (without_ns("uts")(b), b.patch({"hostname": "x"})),
     [r"hostname"]),
    ("net-sysctl-without-netns",
     lambda b: (without_ns("network")(b), b.patch({"linux": {"sysctl": {
         "net.ipv4.ip_forward": "1"}}})), [r"net\.ipv4\.ip_forward"]),
    ("sysctl-not-namespaced", patch({"linux": {"sysctl": {"vm.swappiness": "10"}}}),
     [r"vm\.swappiness"]),
    ("mount-no-destination", add_mount({"type": "tmpfs", "source": "tmpfs"}),
     [r"mounts\[\d+\]\.destination"]),
    ("mount-bind-no-source", add_mount({"destination": "/x", "type": "bind",
                                        "options": ["rbind"]}),
     [r"mounts\[\d+\]\.source"]),
    ("mount-idmap-without-userns", add_mount({"destination": "/x", "type": "bind",
                                              "source": "/tmp", "options": ["rbind", "idmap"]}),
     [r"mounts\[\d+\]", r"idmap"]),
    ("mount-source-missing", add_mount({"destination": "/x", "type": "bind",
                                        "source": "/no/such/source", "options": ["rbind"]}),
     [r"/no/such/source"]),
    ("mount-unknown-fstype", add_mount({"destination": "/x", "type": "nosuchfs",
                                        "source": "none"}),
     [r"nosuchfs|mounts\[\d+\]"]),
    ("rlimit-unknown", patch({"process": {"rlimits": [{"type": "RLIMIT_BOGUS", "soft": 1,
                                                       "hard": 1}]}}),
     [r"RLIMIT_BOGUS"]),
    ("rlimit-duplicate", patch({"process": {"rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": 10, "hard": 10},
        {"type": "RLIMIT_NOFILE", "soft": 20, "hard": 20}]}}),
     [r"RLIMIT_NOFILE", r"(?i)duplicate"]),
    ("rlimit-soft-above-hard", patch({"process": {"rlimits": [
        {"type": "RLIMIT_NOFILE", "soft": 200, "hard": 100}]}}),
     [r"process\.rlimits\[0\]"]),
    ("oom-score-adj-range", patch({"process": {"oomScoreAdj": 5000}}),
     [r"process\.oomScoreAdj"]),
    ("hook-path-relative", patch({"hooks": {"prestart": [{"path": "hook.sh"}]}}),
     [r"hooks\.prestart\[0\]\.path"]),
    ("hook-path-missing", patch({"hooks": {"createRuntime": [{"path": "/no/such/hook"}]}}),
     [r"/no/such/hook"]),
    ("hook-timeout-zero", patch({"hooks": {"prestart": [{"path": "/bin/true", "timeout": 0}]}}),
     [r"hooks\.prestart\[0\]\.timeout"]),
    ("seccomp-bad-default-action", seccomp({"defaultAction": "SCMP_ACT_BOGUS"}),
     [r"SCMP_ACT_BOGUS"]),
    ("seccomp-bad-rule-action", seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getcwd"], "action": "SCMP_ACT_NOPE"}]}), [r"SCMP_ACT_NOPE"]),
    ("seccomp-errnoret-on-allow", seccomp({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["getcwd"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}),
     [r"errnoRet"]),
    ("seccomp-unknown-arch", seccomp({"defaultAction": "SCMP_ACT_ALLOW",
                                      "architectures": ["SCMP_ARCH_BOGUS"]}),
     [r"SCMP_ARCH_BOGUS"]),
    ("device-bad-type", patch({"linux": {"devices": [{"path": "/dev/x", "type": "q",
                                                      "major": 1, "minor": 3}]}}),
     [r"linux\.devices\[0\]\.type"]),
    ("device-path-relative", patch({"linux": {"devices": [{"path": "dev/x", "type": "c",
                                                           "major": 1, "minor": 3}]}}),
     [r"linux\.devices\[0\]\.path"]),
    ("cgroups-path-dotdot", patch({"linux": {"cgroupsPath": "/husk-test/../escape"}}),
     [r"cgroupsPath"]),
    ("propagation-unknown", patch({"linux": {"rootfsPropagation": "sideways"}}),
     [r"rootfsPropagation", r"sideways"]),
    ("masked-path-relative", patch({"linux": {"maskedPaths": ["proc/kcore"]}}),
     [r"linux\.maskedPaths\[0\]"]),
]


@pytest.mark.parametrize("mutate,expect", [pytest.param(m, e, id=i) for i, m, e in CREATE_CASES])
def test_bad_config(husk, bundle, mutate, expect):
    b = bundle(args=probe("exit 0"))
    mutate(b)
    r = husk.create("c1", b)
    assert r.rc != 0, r
    for pat in expect:
        assert re.search(pat, r.err), f"stderr must match {pat!r}:{r!r}"
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_catalogue_is_large():
    assert len(CREATE_CASES) >= 30
    assert len({c[0] for c in CREATE_CASES}) == len(CREATE_CASES)


@pytest.mark.parametrize("cid", ["a/b", "..", "../escape", "", "a\nb"])
def test_bad_container_id(husk, bundle, cid):
    b = bundle(args=probe("exit 0"))
    r = husk.create(cid, b)
    assert r.rc != 0, r
    assert re.search(r"(?i)\bid\b", r.err), r
    assert husk.nothing_left() == []
    assert not os.path.exists(os.path.join(os.path.dirname(husk.root), "escape"))


def test_duplicate_id(husk, bundle):
    b1 = bundle(args=probe("sleep 100"))
    b2 = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b1)
    pid = husk.state("c1")["pid"]
    r = husk.create("c1", b2)
    assert r.rc != 0, r
    assert "container with id exists: c1" in r.err, r
    # The first container is untouched; the second made nothing.
    st = husk.state("c1")
    assert (st["status"], st["pid"], st["bundle"]) == ("created", pid, b1.path)
    assert b2.cgroup_dirs() == []
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


def test_missing_bundle_dir(husk, tmp):
    missing = os.path.join(tmp, "no-such-bundle")
    r = husk("create", "--bundle", missing, "c1")
    assert r.rc != 0, r
    assert missing in r.err, r
    assert husk.nothing_left() == []


def test_unwritable_root(husk, bundle, tmp):
    ro = os.path.join(tmp, "ro")
    os.makedirs(ro)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro", "husk-test-ro", ro], check=True)
    try:
        other = husk.with_root(os.path.join(ro, "root"), make=False)
        r = other.create("c1", bundle(args=probe("exit 0")))
        assert r.rc != 0, r
        assert other.root in r.err, r
        assert husk.nothing_left() == [f"mount {ro}"]
    finally:
        subprocess.run(["umount", ro], check=True)
    assert husk.nothing_left() == []


def test_root_is_a_file(husk, bundle, tmp):
    f = os.path.join(tmp, "file")
    open(f, "w").close()
    other = husk.with_root(f, make=False)
    r = other.create("c1", bundle(args=probe("exit 0")))
    assert r.rc != 0, r
    assert f in r.err, r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("args,expect", [
    (["create", "--no-such-flag", "c1"], r"no-such-flag"),
    (["frobnicate"], r"frobnicate"),
    (["create"], r"(?i)id|argument"),
    (["state"], r"(?i)id|argument"),
    (["kill"], r"(?i)id|argument"),
    (["start", "a", "b"], r"(?i)argument"),
    (["--no-such-global", "list"], r"no-such-global"),
])
def test_bad_command_line(husk, args, expect):
    r = husk(*args)
    assert r.rc != 0, r
    assert re.search(expect, r.err), r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("verb", ["start", "kill", "delete", "pause", "resume", "ps"])
def test_verb_on_nonexistent_container(husk, verb):
    r = husk(verb, "ghost")
    assert r.rc != 0, r
    assert "does not exist" in r.err, r
    assert "ghost" in r.err, r
    assert husk.nothing_left() == []


def running(husk, bundle):
    husk.create_ok("c1", bundle(args=probe("sleep 100")))
    husk.start_ok("c1")
    return husk.state("c1")["pid"]


def stopped(husk, bundle):
    husk.create_ok("c1", bundle(args=probe("exit 0")))
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")


def cleanup(husk):
    assert husk.delete("c1", force=True).rc == 0
    assert husk.nothing_left() == []


def assert_refused(husk, args, message, status):
    """`husk args...` on c1 fails saying message, and c1 keeps its status."""
    r = husk(*args)
    assert r.rc != 0, r
    assert message in r.err, r
    assert husk.status("c1") == status


@pytest.mark.parametrize("sig", ["SIGBOGUS", "BOGUS", "99", "0x9"])
def test_bad_signal(husk, bundle, sig):
    pid = running(husk, bundle)
    r = husk.kill("c1", sig)
    assert r.rc != 0, r
    assert re.search(r"(?i)signal", r.err), r
    assert sig in r.err, r
    assert h.alive(pid) and husk.status("c1") == "running"
    cleanup(husk)


def test_start_running_container(husk, bundle):
    pid = running(husk, bundle)
    assert_refused(husk, ["start", "c1"], "running", "running")
    assert h.alive(pid)
    cleanup(husk)


def test_start_stopped_container(husk, bundle):
    stopped(husk, bundle)
    assert_refused(husk, ["start", "c1"], "cannot start a container that has stopped", "stopped")
    cleanup(husk)


def test_pause_stopped_container(husk, bundle):
    stopped(husk, bundle)
    assert_refused(husk, ["pause", "c1"], "not running", "stopped")
    cleanup(husk)


def test_resume_running_container(husk, bundle):
    running(husk, bundle)
    assert_refused(husk, ["resume", "c1"], "not paused", "running")
    cleanup(husk)


def test_kill_created_with_bad_signal_keeps_it(husk, bundle):
    husk.create_ok("c1", bundle(args=probe("sleep 100")))
    r = husk.kill("c1", "NOTASIGNAL")
    assert r.rc != 0, r
    assert husk.status("c1") == "created"
    cleanup(husk)


def test_delete_running_without_force_has_no_effect(husk, bundle):
    pid = running(husk, bundle)
    r = husk.delete("c1")
    assert r.rc != 0, r
    assert h.alive(pid) and husk.status("c1") == "running"
    cleanup(husk)


def test_config_edits_after_create_have_no_effect(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("hostname"), patch={"hostname": "before"})
    husk.create_ok("c1", b, stdout=out)
    b.patch({"hostname": "after", "process": {"args": ["/no-such-binary"]}})
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "before\n"
    cleanup(husk)
