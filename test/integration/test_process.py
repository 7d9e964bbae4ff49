"""The container process: argv, env, cwd, user, umask, rlimits, capabilities,
no_new_privs, oom_score_adj, UTS names, stdio and fds, pid namespace."""

import os

import pytest

import helpers as h
from helpers import probe

PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def test_args_passed_verbatim(husk, bundle):
    b = bundle(args=["/bin/sh", "-c", 'printf "%s|" "$0" "$@"', "zero", "a b", "", "*"])
    assert husk.run_ok("c1", b) == "zero|a b||*|"


def test_args0_resolved_through_container_path(husk, bundle):
    b = bundle(args=["probe", "pid"], patch={"process": {"env": ["PATH=/nonexistent:/"]}})
    assert husk.run_ok("c1", b) == "1\n"


@pytest.mark.parametrize("args0", ["sh", "/bin/sh"])
def test_process_is_named_after_the_requested_program(husk, bundle, args0):
    """busybox's /bin/sh is a symlink to /bin/busybox. The kernel names a
    process (comm: ps, top, /proc/PID/comm) after the path it was executed
    by; runc and crun show "sh", and so must husk, for the container's
    process and for exec."""
    b = bundle(args=[args0, "-c", "cat /proc/$$/comm; exec /probe wait-signal"])
    assert os.path.islink(b.host_path("/bin/sh"))
    out = os.path.join(b.path, "out")
    r = husk.create("c1", b, stdout=out)
    assert r.rc == 0, r
    husk.start_ok("c1")
    h.wait_file_contains(out, "waiting")
    assert h.read_text(out).splitlines()[0] == "sh"
    # (": " after it: a last command would be exec'd in place of the shell.)
    r = husk("exec", "c1", args0, "-c", "cat /proc/$$/comm; :")
    assert r.rc == 0 and r.out == "sh\n", r
    r = husk("exec", "c1", "/bin/busybox", "sh", "-c", "cat /proc/$$/comm; :")
    assert r.rc == 0 and r.out == "busybox\n", r
    assert husk.delete("c1", force=True).rc == 0


def test_env_exact(husk, bundle):
    env = [PATH, "HOME=/home/x", "A=1", "B=with spaces", "EMPTY="]
    b = bundle(args=probe("env"), patch={"process": {"env": env}})
    out = husk.run_ok("c1", b)
    assert out.splitlines() == b.config["process"]["env"]


def test_home_defaults_from_passwd(husk, bundle):
    # runc: HOME is set from the user's /etc/passwd entry when env lacks it.
    b = bundle(args=probe("env"), patch={"process": {"env": [PATH]}})
    lines = husk.run_ok("c1", b).splitlines()
    assert "HOME=/root" in lines


def test_home_from_passwd_follows_uid(husk, bundle):
    b = bundle(args=probe("env"),
               patch={"process": {"env": [PATH], "user": {"uid": 65534, "gid": 65534}}})
    assert "HOME=/nonexistent" in husk.run_ok("c1", b).splitlines()


def test_home_slash_without_passwd_entry(husk, bundle):
    # No entry for the uid (and, in a second container, no /etc/passwd at
    # all): HOME=/, as runc.
    b = bundle(args=probe("env"),
               patch={"process": {"env": [PATH], "user": {"uid": 4242, "gid": 4242}}})
    assert "HOME=/" in husk.run_ok("c1", b).splitlines()
    b2 = bundle(args=probe("env"), patch={"process": {"env": [PATH]}})
    os.unlink(b2.host_path("/etc/passwd"))
    assert "HOME=/" in husk.run("c2", b2).out.splitlines()


def test_home_from_env_wins(husk, bundle):
    b = bundle(args=probe("env"), patch={"process": {"env": [PATH, "HOME=/srv"]}})
    lines = husk.run_ok("c1", b).splitlines()
    assert [l for l in lines if l.startswith("HOME=")] == ["HOME=/srv"]


def test_cwd(husk, bundle):
    b = bundle(args=probe("cwd"), patch={"process": {"cwd": "/etc"}})
    assert husk.run_ok("c1", b) == "/etc\n"


def test_cwd_created_when_missing(husk, bundle):
    b = bundle(args=probe("cwd", "stat /work/sub"), patch={"process": {"cwd": "/work/sub"}})
    out = husk.run_ok("c1", b).splitlines()
    assert out[0] == "/work/sub"
    assert h.parse_kv(out[1])["type"] == "dir"


def test_user_uid_gid_additional_gids(husk, bundle):
    b = bundle(args=probe("id"),
               patch={"process": {"user": {"uid": 1000, "gid": 1001, "additionalGids": [10, 20]}}})
    assert husk.run_ok("c1", b) == "uid=1000 gid=1001 groups=10,20\n"


def test_user_without_additional_gids_has_no_groups(husk, bundle):
    b = bundle(args=probe("id"), patch={"process": {"user": {"uid": 65534, "gid": 65534}}})
    assert husk.run_ok("c1", b) == "uid=65534 gid=65534 groups=\n"


def test_root_user(husk, bundle):
    b = bundle(args=probe("id"), patch={"process": {"user": {"uid": 0, "gid": 0}}})
    assert husk.run_ok("c1", b) == "uid=0 gid=0 groups=\n"


@pytest.mark.parametrize("umask,expect", [(0o077, "0077"), (0, "0000"), (0o027, "0027")])
def test_umask(husk, bundle, umask, expect):
    b = bundle(args=probe("umask"), patch={"process": {"user": {"umask": umask}}})
    assert husk.run_ok("c1", b) == expect + "\n"


def test_umask_default_is_0022(husk, bundle):
    b = bundle(args=probe("umask"))
    b.config["process"]["user"].pop("umask", None)
    b.write()
    assert husk.run_ok("c1", b) == "0022\n"


def test_rlimits(husk, bundle):
    b = bundle(args=probe("rlimit NOFILE", "rlimit NPROC", "rlimit CORE"), patch={"process": {
        "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                    {"type": "RLIMIT_NPROC", "soft": 3000, "hard": 4000},
                    {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615}]}})
    assert husk.run_ok("c1", b) == "100 200\n3000 4000\n0 unlimited\n"


def caps_config(bounding, effective, permitted, inheritable, ambient):
    return {"process": {"capabilities": {
        "bounding": bounding, "effective": effective, "permitted": permitted,
        "inheritable": inheritable, "ambient": ambient}}}


def probe_caps(husk, b):
    kv = h.parse_kv(husk.run_ok("c1", b))
    return {k: h.caps_names(int(v, 16)) for k, v in kv.items()}


def test_capabilities_non_root(husk, bundle):
    # For a non-root user execve(2) keeps the bounding, inheritable and
    # ambient sets and sets permitted = effective = ambient (capabilities(7)).
    bnd = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETUID"]
    inh = ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
    amb = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    prm = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"]
    eff = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    b = bundle(args=probe("caps"), patch=caps_config(bnd, eff, prm, inh, amb))
    b.patch({"process": {"user": {"uid": 1000, "gid": 1000}}})
    caps = probe_caps(husk, b)
    assert caps == {"bnd": sorted(bnd), "inh": sorted(inh), "amb": sorted(amb),
                    "prm": sorted(amb), "eff": sorted(amb)}


def test_capabilities_root(husk, bundle):
    # For uid 0 execve(2) gives permitted = effective = bounding | inheritable
    # (the "root has all file capabilities" rule of capabilities(7)).
    bnd = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT"]
    inh = ["CAP_KILL"]
    b = bundle(args=probe("caps"), patch=caps_config(bnd, bnd, bnd, inh, []))
    caps = probe_caps(husk, b)
    assert caps["bnd"] == sorted(bnd)
    assert caps["inh"] == inh
    assert caps["amb"] == []
    assert caps["prm"] == sorted(bnd)
    assert caps["eff"] == sorted(bnd)


def test_unknown_capability_fails_create(husk, bundle):
    # runtime-spec (config.md): a value that cannot be mapped to a kernel
    # interface must cause an error; runtime-tools' process_capabilities_fail
    # asks exactly this. (husk used to warn and go on, as runc 1.2+ does.)
    b = bundle(args=probe("caps"), patch=caps_config(
        ["CAP_KILL", "CAP_TEST"], ["CAP_KILL"], ["CAP_KILL"], [], []))
    r = husk.create("c1", b)
    assert r.rc != 0, r
    assert 'process.capabilities.bounding: unknown capability "CAP_TEST"' in r.err, r
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


needs_capsh = h.requires("capsh")


@needs_capsh
def test_capability_husk_lacks_fails_create_clearly(husk, bundle):
    # capset(2) grants nothing outside the caller's bounding set. husk refuses
    # at plan time, before anything exists, naming the capability and the
    # set, instead of failing in the init with capset's bare EPERM.
    asked = ["CAP_KILL", "CAP_SYS_BOOT"]
    b = bundle(args=probe("caps"), patch=caps_config(["CAP_KILL"], asked, asked, [], []))
    r = husk.create("c1", b, wrapper=h.without_cap("CAP_SYS_BOOT"))
    assert r.rc != 0, r
    assert ("process.capabilities.permitted: CAP_SYS_BOOT cannot be granted: it is not in "
            "husk's own bounding set") in r.err, r
    assert "capset" not in r.err, r
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


@needs_capsh
def test_capability_husk_lacks_is_no_error_when_not_asked(husk, bundle):
    caps = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    b = bundle(args=probe("caps"), patch=caps_config(caps, caps, caps, [], []))
    r = husk.run("c1", b, wrapper=h.without_cap("CAP_SYS_BOOT"))
    assert r.rc == 0, r
    assert h.caps_names(int(h.parse_kv(r.out)["bnd"], 16)) == caps


def test_capabilities_empty(husk, bundle):
    b = bundle(args=probe("caps"), patch=caps_config([], [], [], [], []))
    caps = probe_caps(husk, b)
    assert caps == {"bnd": [], "inh": [], "amb": [], "prm": [], "eff": []}


def test_bounding_set_limits_the_container(husk, bundle):
    # Without CAP_SYS_ADMIN, even root may not sethostname(2) (EPERM).
    b = bundle(args=probe("syscall sethostname"),
               patch=caps_config(["CAP_KILL"], ["CAP_KILL"], ["CAP_KILL"], [], []))
    assert husk.run_ok("c1", b) == "errno=EPERM\n"


@pytest.mark.parametrize("nnp,expect", [(True, "1"), (False, "0")])
def test_no_new_privileges(husk, bundle, nnp, expect):
    b = bundle(args=probe("nnp"), patch={"process": {"noNewPrivileges": nnp}})
    assert husk.run_ok("c1", b) == expect + "\n"


# Values below the caller's own would need CAP_SYS_RESOURCE, which CI hosts
# (and this one) may not grant even to root.
@pytest.mark.parametrize("adj", [0, 123, 1000])
def test_oom_score_adj(husk, bundle, adj):
    b = bundle(args=probe("oom_score_adj"), patch={"process": {"oomScoreAdj": adj}})
    assert husk.run_ok("c1", b) == f"{adj}\n"


def test_hostname_and_domainname(husk, bundle):
    b = bundle(args=probe("hostname", "domainname"),
               patch={"hostname": "box1", "domainname": "example.test"})
    assert husk.run_ok("c1", b) == "box1\nexample.test\n"
    assert os.uname().nodename != "box1"


def test_stdio_inherited_from_create(husk, bundle, tmp):
    out = os.path.join(tmp, "out")
    err = os.path.join(tmp, "err")
    b = bundle(args=["/bin/sh", "-c", "read line; echo \"got $line\"; echo oops >&2"])
    r = husk.create("c1", b, stdin="hello\n", stdout=out, stderr=err)
    assert r.rc == 0, r
    assert husk.start("c1").rc == 0
    husk.wait_status("c1", "stopped")
    assert h.read_text(out) == "got hello\n"
    assert h.read_text(err).endswith("oops\n")


def test_only_stdio_fds_open(husk, bundle):
    # husk's caller has more fds open (not O_CLOEXEC); none may reach the container.
    b = bundle(args=probe("fds"))
    r = husk.run("c1", b, extra_fds={3: "/dev/null", 4: "/dev/null", 9: "/dev/null"})
    assert r.rc == 0, r
    assert r.out == "0 1 2\n"


def test_preserve_fds(husk, bundle, tmp):
    # --preserve-fds N passes fds 3 .. 3+N-1 of husk's caller, and no more.
    paths = [os.path.join(tmp, f"f{i}") for i in range(3)]
    for i, p in enumerate(paths):
        with open(p, "w") as f:
            f.write(f"content{i}")
    b = bundle(args=probe("fds", "cat /proc/self/fd/3", "cat /proc/self/fd/4"))
    r = husk.run("c1", b, "--preserve-fds", "2",
                 extra_fds={3: paths[0], 4: paths[1], 5: paths[2]})
    assert r.rc == 0, r
    assert r.out == "0 1 2 3 4\ncontent0content1"


def test_pid_one_in_new_pid_namespace(husk, bundle):
    b = bundle(args=probe("pid", "ppid", "ls /proc"))
    lines = husk.run_ok("c1", b).splitlines()
    assert lines[:2] == ["1", "0"]
    pids = sorted(int(x) for x in lines[2:] if x.isdigit())
    assert pids == [1]


def test_process_sees_own_namespaces(husk, bundle):
    b = bundle(args=probe("readlink /proc/self/ns/uts", "readlink /proc/self/ns/pid",
                          "readlink /proc/self/ns/mnt"))
    out = husk.run_ok("c1", b).splitlines()
    for line, ns in zip(out, ["uts", "pid", "mnt"]):
        assert line.startswith(f"{ns}:["), out
        assert line != os.readlink(f"/proc/self/ns/{ns}"), f"{ns} namespace not new"


def test_run_exit_code_of_signal_death(husk, bundle, tmp):
    # A container killed by signal N: `run` exits 128+N, as a shell reports it.
    out = os.path.join(tmp, "out")
    b = bundle(args=probe("wait-signal"))
    p = husk.spawn("run", "--bundle", b.path, "c1", stdout=out)
    h.wait_file_contains(out, "waiting")
    assert husk.kill("c1", "KILL").rc == 0
    r = p.wait()
    assert r.rc == 137, r
