"""Rootless husk: husk run by a normal user, as runc's rootless mode is.

A normal user (USER below, made with useradd if missing, with a home and the
/etc/subuid and /etc/subgid ranges useradd gives it; left in place after the
session, since other runs reuse it) runs husk through setpriv, with
XDG_RUNTIME_DIR set to a directory of its own inside the test's directory, and
without --root: husk's default root is then $XDG_RUNTIME_DIR/husk. Bundles are
the session rootfs copied into the test's directory, which the user can read.

On this host (hybrid cgroup v1, no systemd, nothing delegated to the user) no
cgroup is writable by the user: husk then runs the container in its caller's
cgroups, and refuses a config asking for a limit.
"""

import json
import os
import pwd
import shutil
import subprocess

import pytest

import helpers as h

USER = "husk-rootless"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(b) for b in ("useradd", "setpriv")),
    reason="useradd/setpriv missing (Debian's passwd and util-linux)")


def _subids(path, name):
    """The first 'name:start:count' range of /etc/subuid or /etc/subgid."""
    try:
        with open(path) as f:
            for line in f:
                parts = line.strip().split(":")
                if len(parts) == 3 and parts[0] == name:
                    return int(parts[1]), int(parts[2])
    except OSError:
        pass
    return None


@pytest.fixture(scope="session")
def user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pass
    r = subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    return pwd.getpwnam(USER)


class Rootless:
    """husk as the user, its default root under the test's own XDG_RUNTIME_DIR."""

    def __init__(self, husk, user, ctx):
        self.user = user
        self.xdg = os.path.join(ctx.dir, "xdg")
        os.makedirs(self.xdg, mode=0o700)
        os.chown(self.xdg, user.pw_uid, user.pw_gid)
        self.root = os.path.join(self.xdg, "husk")
        # Registered for the leak check and the teardown's delete --force.
        self.husk = husk.with_root(self.root, make=False)
        self.wrapper = ["setpriv", "--reuid", str(user.pw_uid), "--regid", str(user.pw_gid),
                        "--init-groups"]
        self.env = {"XDG_RUNTIME_DIR": self.xdg, "HOME": user.pw_dir, "USER": USER,
                    "LOGNAME": USER}

    def __call__(self, *args, **kw):
        return self.husk(*args, root=False, wrapper=self.wrapper, env=self.env, **kw)

    def spec(self):
        """`husk spec --rootless` written by the user in a directory of its own."""
        d = os.path.join(self.xdg, "spec")
        os.makedirs(d)
        os.chown(d, self.user.pw_uid, self.user.pw_gid)
        r = self("spec", "--rootless", "--bundle", d)
        assert r.rc == 0, r
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        shutil.rmtree(d)
        return cfg

    def bundle(self, make, args, patch=None):
        """A bundle whose config is the user's rootless spec (cgroupsPath and
        process.args as the test fixture sets them), patched."""
        b = make(args)
        cgroups_path = b.config["linux"]["cgroupsPath"]
        b.config = self.spec()
        b.config["process"]["terminal"] = False
        b.config["process"]["args"] = list(args)
        b.config["linux"]["cgroupsPath"] = cgroups_path
        if patch:
            h.deep_merge(b.config, patch)
        return b.write()

    def refused(self, b, cid, *texts, verb="run"):
        """`verb` of bundle b fails naming texts, and leaves nothing behind."""
        r = self(verb, "--bundle", b.path, cid)
        assert r.rc != 0, r
        for t in texts:
            assert t in r.err, r
        assert self.states() == []
        assert self.husk.nothing_left() == []

    def states(self):
        """What is in the user's state root (it may not exist yet)."""
        try:
            return sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []


@pytest.fixture
def rl(husk, user, _ctx):
    return Rootless(husk, user, _ctx)


def host_ids(pid):
    """Real uid and gid of a process as the host sees them."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                ids[key] = int(value.split()[0])
    return ids["Uid"], ids["Gid"]


def test_rootless_spec_runs_id_as_mapped_root(rl, bundle, user):
    b = rl.bundle(bundle, ["id"])
    assert [ns["type"] for ns in b.config["linux"]["namespaces"]].count("user") == 1
    assert "network" not in [ns["type"] for ns in b.config["linux"]["namespaces"]]
    assert b.config["linux"]["uidMappings"] == [
        {"containerID": 0, "hostID": user.pw_uid, "size": 1}]
    r = rl("run", "--bundle", b.path, "r1")
    assert r.rc == 0, r
    assert "uid=0(root) gid=0(root)" in r.out, r
    # The default root for a non-root caller, left empty by run.
    assert os.path.isdir(rl.root)
    assert rl.states() == []


def test_rootless_lifecycle_leaves_nothing(rl, bundle, user):
    b = rl.bundle(bundle, ["sleep", "1000"])
    r = rl("create", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    r = rl("state", "c1")
    assert r.rc == 0, r
    st = json.loads(r.out)
    assert st["status"] == "created"
    # Root in the container is the user on the host.
    assert host_ids(st["pid"]) == (user.pw_uid, user.pw_gid)
    assert rl("start", "c1").rc == 0
    assert json.loads(rl("state", "c1").out)["status"] == "running"
    # No cgroup of its own here: nothing to freeze, said so.
    r = rl("pause", "c1")
    assert r.rc != 0 and "no cgroup" in r.err, r
    assert json.loads(rl("state", "c1").out)["status"] == "running"
    r = rl("kill", "c1", "KILL")
    assert r.rc == 0, r
    h.wait_for(lambda: json.loads(rl("state", "c1").out)["status"] == "stopped",
               what="container c1 stopped")
    r = rl("delete", "c1")
    assert r.rc == 0, r
    assert rl.states() == []
    assert rl.husk.nothing_left() == []


def test_rootless_subuid_ranges_through_newuidmap(rl, bundle, user):
    if not shutil.which("newuidmap"):
        pytest.fail("newuidmap missing: scripts/deps installs Debian's uidmap")
    sub_u, sub_g = _subids("/etc/subuid", USER), _subids("/etc/subgid", USER)
    if not sub_u or not sub_g or sub_u[1] < 1001 or sub_g[1] < 1001:
        pytest.skip(f"{USER} has no /etc/subuid and /etc/subgid ranges of 1001 ids")
    maps = lambda own, sub: [{"containerID": 0, "hostID": own, "size": 1},
                             {"containerID": 1, "hostID": sub[0], "size": sub[1]}]
    b = rl.bundle(bundle, ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map"], {
        "process": {"user": {"uid": 1000, "gid": 1000}},
        "linux": {"uidMappings": maps(user.pw_uid, sub_u),
                  "gidMappings": maps(user.pw_gid, sub_g)}})
    r = rl("run", "--bundle", b.path, "m1")
    assert r.rc == 0, r
    lines = r.out.split("\n")
    assert lines[0:2] == ["1000", "1000"], r
    rows = [l.split() for l in lines[2:] if l.strip()]
    assert ["0", str(user.pw_uid), "1"] in rows, r
    assert ["1", str(sub_u[0]), str(sub_u[1])] in rows, r
    assert rl.states() == []


def test_rootless_range_not_granted_is_refused(rl, bundle, user):
    # Ids no /etc/subuid line gives the user: newuidmap refuses them.
    b = rl.bundle(bundle, ["true"], {"linux": {"uidMappings": [
        {"containerID": 0, "hostID": user.pw_uid, "size": 1},
        {"containerID": 1, "hostID": 10, "size": 5}]}})
    rl.refused(b, "m2", "linux.uidMappings", "newuidmap")


def test_rootless_memory_limit_without_cgroup_is_refused(rl, bundle):
    b = rl.bundle(bundle, ["true"], {"linux": {"resources": {"memory": {"limit": 64 << 20}}}})
    rl.refused(b, "l1", "linux.resources.memory.limit", verb="create")


def test_rootless_devices_are_binds_of_the_hosts(rl, bundle):
    # mknod(2) of a device is refused in a user namespace: /dev/null and a
    # linux.devices entry are binds of the host's nodes (as under runc).
    b = rl.bundle(bundle, ["sh", "-c", "echo x > /dev/null && stat -c '%t:%T %F' /dev/kmsg"], {
        "linux": {"devices": [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]}})
    r = rl("run", "--bundle", b.path, "d1")
    assert r.rc == 0, r
    assert r.out.strip() == "1:b character special file", r


def test_rootless_device_missing_on_host_is_named(rl, bundle):
    b = rl.bundle(bundle, ["true"], {"linux": {"devices": [
        {"path": "/dev/husk-no-such-node", "type": "c", "major": 1, "minor": 3}]}})
    rl.refused(b, "d2", "linux.devices[0]")


def test_rootless_sysctl_of_the_host_is_named(rl, bundle):
    # No network namespace of its own (the rootless spec has none): the
    # host's net.* sysctls are not the user's to change.
    b = rl.bundle(bundle, ["true"], {"linux": {"sysctl": {"net.ipv4.ip_forward": "1"}}})
    rl.refused(b, "s1", 'net.ipv4.ip_forward')


def test_rootless_mount_the_user_cannot_make_is_named(rl, bundle):
    b = rl.bundle(bundle, ["true"])
    n = len(b.config["mounts"])
    # ext4 is no filesystem a user namespace may mount (no FS_USERNS_MOUNT).
    b.config["mounts"].append({"destination": "/tmp", "type": "ext4", "source": "/dev/null"})
    b.write()
    rl.refused(b, "b1", f"mounts[{n}] (ext4 on /tmp)")


# ---- podman, rootless -------------------------------------------------------------

PODMAN_IMAGE = "localhost/husk-rootless:test"


class RootlessPodman:
    """podman as the user, with husk as its runtime: a private store in the
    test's directory (vfs: no fuse-overlayfs needed), file events, and the
    cgroupfs manager (on a v1 host podman gives a rootless container no
    cgroupsPath) unless told to use the user's systemd (env: its bus)."""

    def __init__(self, rl, ctx, cgroup_manager="cgroupfs", env=None):
        self.rl = rl
        self.cgroup_manager = cgroup_manager
        self.extra_env = env or {}
        self.d = os.path.join(ctx.dir, "podman")
        os.makedirs(self.d, mode=0o700)
        os.chown(self.d, rl.user.pw_uid, rl.user.pw_gid)

    def __call__(self, *args, timeout=120):
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "XDG_DATA_HOME": f"{self.d}/data", "XDG_CONFIG_HOME": f"{self.d}/config",
               "TMPDIR": self.d, **self.rl.env, **self.extra_env}
        cmd = (self.rl.wrapper + ["podman", "--runtime", h.HUSK_BIN, "--storage-driver", "vfs",
                                  "--cgroup-manager", self.cgroup_manager,
                                  "--events-backend", "file"]
               + list(args))
        return subprocess.run(cmd, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def import_image(self, rootfs):
        tarball = os.path.join(self.d, "busybox.tar")
        subprocess.run(["tar", "-C", rootfs, "-cf", tarball, "."], check=True)
        os.chmod(tarball, 0o644)
        r = self("import", tarball, PODMAN_IMAGE)
        assert r.returncode == 0, r.stderr

    def stop_pause_process(self):
        """podman keeps its user namespace alive with a pause process: ours,
        found through its pid file, is ended after the test."""
        path = os.path.join(self.rl.xdg, "libpod", "tmp", "pause.pid")
        pid = h.read_text(path)
        if pid and pid.strip().isdigit():
            h.kill_pids([int(pid)])
            h.reap_orphans()


def _podman(rl, ctx, **kw):
    if not all(shutil.which(b) for b in ("podman", "conmon", "newuidmap")):
        pytest.skip("podman, conmon or newuidmap missing")
    pm = RootlessPodman(rl, ctx, **kw)
    yield pm
    pm("rm", "--all", "--force")
    pm.stop_pause_process()


@pytest.fixture
def podman(rl, _ctx):
    yield from _podman(rl, _ctx)


def test_rootless_podman_runs_with_husk(podman, rootfs_template, _ctx, user):
    podman.import_image(rootfs_template)
    r = podman("run", "--rm", "--network", "none", PODMAN_IMAGE,
               "sh", "-c", "id; cat /proc/self/uid_map")
    assert r.returncode == 0, r.stderr
    assert "uid=0(root) gid=0(root)" in r.stdout, r.stdout
    # podman's user namespace: root is the user, the rest its subuids.
    assert ["0", str(user.pw_uid), "1"] in [l.split() for l in r.stdout.splitlines()], r.stdout


def test_rootless_uses_a_delegated_cgroup(rl, bundle, user):
    # A subtree handed to the user (chowned, as systemd's Delegate=yes does)
    # is used as usual, limits included. On cgroup v2 (the hybrid host's
    # unified mount too) moving a process also needs write access to the
    # common ancestor's cgroup.procs, so husk itself starts inside the
    # subtree, as a delegated user's processes do.
    limit = 64 << 20
    b = rl.bundle(bundle, ["sleep", "1000"],
                  {"linux": {"resources": {"memory": {"limit": limit}}}})
    delegated = b.config["linux"]["cgroupsPath"]
    b.config["linux"]["cgroupsPath"] = delegated + "/ctr"
    b.write()
    dirs = h.hierarchy_dirs(delegated)
    callers = [d + "/caller" for d in dirs if h.host_is_cgroup2() or "/unified/" in d]
    try:
        for d in dirs + callers:
            os.makedirs(d)
            for x in [d] + [os.path.join(d, f) for f in os.listdir(d)]:
                os.chown(x, user.pw_uid, user.pw_gid)
            if h.host_is_cgroup2() and d in dirs:  # the admin enables memory down to it
                for level in (os.path.dirname(d), d):
                    if "memory" not in h.read_text(f"{level}/cgroup.controllers").split():
                        pytest.skip("the memory controller is not enabled for the test's "
                                    "cgroups (the root's cgroup.subtree_control)")
                    if "memory" not in h.read_text(f"{level}/cgroup.subtree_control"):
                        with open(f"{level}/cgroup.subtree_control", "w") as out:
                            out.write("+memory")
            if "/cpuset/" in d:  # a new cpuset has no CPUs: the admin gives it some
                for level in (os.path.dirname(d), d):
                    for f in ("cpuset.cpus", "cpuset.mems"):
                        if not h.read_text(f"{level}/{f}").strip():
                            with open(f"{level}/{f}", "w") as out:
                                out.write(h.read_text(f"{os.path.dirname(level)}/{f}"))
        enter = " && ".join(f"echo $$ > {c}/cgroup.procs" for c in callers) or "true"
        wrapper = ["sh", "-c", f'{enter} && exec "$@"', "sh"] + rl.wrapper
        run = lambda *a: rl.husk(*a, root=False, wrapper=wrapper, env=rl.env)
        r = run("create", "--bundle", b.path, "g1")
        assert r.rc == 0, r
        pid = json.loads(run("state", "g1").out)["pid"]
        mem = [d for d in dirs if "/memory/" in d]
        if mem:
            assert pid in h.cgroup_procs(mem[0] + "/ctr")
            assert int(h.read_text(mem[0] + "/ctr/memory.limit_in_bytes")) == limit
        else:
            assert pid in h.cgroup_procs(dirs[0] + "/ctr")
            assert int(h.read_text(dirs[0] + "/ctr/memory.max")) == limit
        r = run("delete", "--force", "g1")
        assert r.rc == 0, r
        assert [d for d in dirs if os.path.exists(d + "/ctr")] == []
        assert rl.states() == []
    finally:
        h.remove_cgroups(callers + dirs)


# ---- the user's systemd (--systemd-cgroup) ---------------------------------------

def user_manager(user):
    """The user's systemd instance: (its bus address, its cgroup), skipping
    where there is none (systemd not PID 1, or no user@UID.service running:
    the systemd guest starts one with `loginctl enable-linger`)."""
    if not os.path.isdir("/run/systemd/system"):
        pytest.skip("systemd is not PID 1 on this host: no user manager to delegate a cgroup")
    if not h.V2_HOST:
        pytest.skip("the user's systemd is delegated controllers on cgroup v2 hosts only")
    unit = f"user@{user.pw_uid}.service"
    props = h.systemd_show(unit, "ActiveState", "ControlGroup")
    bus = f"/run/user/{user.pw_uid}/bus"
    if props.get("ActiveState") != "active" or not os.path.exists(bus):
        pytest.skip(f"no systemd user manager with a bus for {USER} ({unit} not active or {bus} "
                    f"missing: `loginctl enable-linger {USER}` starts one)")
    return f"unix:path={bus}", props["ControlGroup"]


def test_rootless_systemd_cgroup_scope_on_the_users_manager(rl, bundle, user):
    # As podman rootless with cgroup_manager=systemd: cgroupsPath
    # "user.slice:PREFIX:NAME" is a scope of the user's own systemd, in its
    # user.slice (below user@UID.service), delegated to the user, with the
    # limits as unit properties and in the files.
    address, manager_cg = user_manager(user)
    name = f"{h.TAG}-rl"
    unit = f"husk-{name}.scope"
    limit = 64 << 20
    b = rl.bundle(bundle, ["sleep", "1000"],
                  {"linux": {"resources": {"memory": {"limit": limit}, "pids": {"limit": 30}}}})
    b.config["linux"]["cgroupsPath"] = f"user.slice:husk:{name}"
    b.write()
    # husk finds the user's manager by its uid (/run/user/UID/systemd/private),
    # whatever XDG_RUNTIME_DIR says (here the test's own directory).
    env = rl.env
    run = lambda *a: rl.husk(*a, root=False, wrapper=rl.wrapper, env=env)
    user_show = lambda *props: dict(
        line.split("=", 1) for line in subprocess.run(
            rl.wrapper + ["systemctl", "--user", "show", unit] + [f"-p{p}" for p in props],
            env={**env, "XDG_RUNTIME_DIR": f"/run/user/{user.pw_uid}",
                 "DBUS_SESSION_BUS_ADDRESS": address}, capture_output=True,
            text=True, timeout=60).stdout.splitlines() if "=" in line)
    r = run("--systemd-cgroup", "create", "--bundle", b.path, "u1")
    assert r.rc == 0, r
    try:
        pid = json.loads(run("state", "u1").out)["pid"]
        cg = f"{manager_cg}/user.slice/{unit}"
        assert h.proc_cgroups(pid)[""] == cg
        props = user_show("ActiveState", "Delegate", "MemoryMax", "TasksMax")
        assert props == {"ActiveState": "active", "Delegate": "yes", "MemoryMax": str(limit),
                         "TasksMax": "30"}, props
        d = h.CGROUP_ROOT + cg
        assert (h.read_text(f"{d}/memory.max").strip(), h.read_text(f"{d}/pids.max").strip()) \
            == (str(limit), "30")
        assert os.stat(d).st_uid == user.pw_uid  # Delegate=yes: the subtree is the user's
        assert run("start", "u1").rc == 0
        assert run("pause", "u1").rc == 0
        assert "frozen 1" in h.read_text(f"{d}/cgroup.events")
        assert run("resume", "u1").rc == 0
        r = run("update", "--pids-limit", "40", "u1")
        assert r.rc == 0, r
        assert user_show("TasksMax")["TasksMax"] == "40"
        assert h.read_text(f"{d}/pids.max").strip() == "40"
    finally:
        r = run("delete", "--force", "u1")
    assert r.rc == 0, r
    assert user_show("LoadState")["LoadState"] == "not-found"
    assert not os.path.exists(d)
    assert rl.states() == []


@pytest.fixture
def podman_systemd(rl, _ctx, user):
    """Rootless podman with its systemd cgroup manager on the user's systemd."""
    address, _ = user_manager(user)
    yield from _podman(rl, _ctx, cgroup_manager="systemd",
                       env={"DBUS_SESSION_BUS_ADDRESS": address})


def test_rootless_podman_with_the_users_systemd(podman_systemd, rootfs_template, user):
    # podman's default on a systemd host, rootless too: its systemd cgroup
    # manager, which gives husk --systemd-cgroup and "user.slice:libpod:ID";
    # the limits apply, which rootless podman allows only there.
    pm = podman_systemd
    _, manager_cg = user_manager(user)
    pm.import_image(rootfs_template)
    r = pm("run", "-d", "--network", "none", "--memory", "64m", "--pids-limit", "30",
           PODMAN_IMAGE, "sleep", "1000")
    assert r.returncode == 0, r.stderr
    cid = r.stdout.strip()
    pid = int(pm("inspect", "--format", "{{.State.Pid}}", cid).stdout)
    cg = f"{manager_cg}/user.slice/libpod-{cid}.scope"
    assert h.proc_cgroups(pid)[""] == cg
    d = h.CGROUP_ROOT + cg
    assert (h.read_text(f"{d}/memory.max").strip(), h.read_text(f"{d}/pids.max").strip()) \
        == (str(64 << 20), "30")
    r = pm("rm", "--force", "--time", "0", cid)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(d)
