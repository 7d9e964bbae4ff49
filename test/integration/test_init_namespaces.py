"""Namespaces the init creates and joins: user (with id maps), time (with
offsets), joins by path (pid in the parent, others in the init, user first),
the intermediate path that creates a pid namespace after joining a user
namespace, and the init staying non-dumpable until execve."""

import os

import helpers as h
from helpers import sh

STD_NS = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]
MAP = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def ns_inode(pid, ns):
    return os.readlink(f"/proc/{pid}/ns/{ns}")


def status_ids(pid, field):
    for line in h.read_text(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return line.split()[1:]
    return None


def created(husk, cid, b):
    """create cid with its output in a file -> (its init's pid, the file)."""
    out = os.path.join(husk.ctx.dir, f"{cid}.out")
    husk.create_ok(cid, b, stdout=out)
    return husk.state(cid)["pid"], out


def finished(husk, cid, out):
    """start cid, wait until it stopped -> what it printed."""
    husk.start_ok(cid)
    husk.wait_status(cid, "stopped")
    return h.read_text(out)


def userns_bundle(bundle, args, extra=None):
    b = bundle(args=args)
    cfg = {"linux": {"namespaces": STD_NS + [{"type": "user"}] + (extra or []),
                     "uidMappings": MAP, "gidMappings": MAP}}
    return b.patch(cfg)


def test_new_user_namespace_maps_root(husk, bundle, tmp):
    b = userns_bundle(bundle, sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g"))
    r = husk.run("c1", b)
    assert r.rc == 0, r
    lines = [ln.split() for ln in r.out.splitlines()]
    assert lines[0] == ["0", "100000", "65536"]
    assert lines[1] == ["0", "100000", "65536"]
    assert lines[2:] == [["0"], ["0"]]


def private_sources(tmp):
    """A directory only root may search (0700, root's), holding a directory
    and a file to bind: out of reach of the container's root, uid 100000 on
    the host."""
    private = os.path.join(tmp, "private")
    os.makedirs(os.path.join(private, "dir"))
    with open(os.path.join(private, "dir", "hello"), "w") as f:
        f.write("from a private dir\n")
    with open(os.path.join(private, "file"), "w") as f:
        f.write("a private file\n")
    os.chmod(private, 0o700)
    return private


def bind(source, destination, *options):
    return {"destination": destination, "type": "bind", "source": source,
            "options": ["rbind", *options]}


def test_user_namespace_bind_sources_only_root_can_reach(husk, bundle, tmp):
    """runc opens bind sources before the init becomes the mapped root, so a
    source below a 0700 root directory is bound all the same; so does husk,
    for create and run, read-only options kept, and a missing source still
    fails naming its mount."""
    private = private_sources(tmp)
    script = ("cat /mnt/d/hello /mnt/f; touch /mnt/ro/x 2>/dev/null && echo writable; "
              "grep -c ' /mnt/' /proc/self/mountinfo")
    b = userns_bundle(bundle, sh(script))
    n = len(b.config["mounts"])
    b.config["mounts"] += [bind(os.path.join(private, "dir"), "/mnt/d"),
                           bind(os.path.join(private, "file"), "/mnt/f"),
                           bind(os.path.join(private, "dir"), "/mnt/ro", "ro")]
    b.write()
    # The mount points exist: the container's root may not create them in a
    # rootfs owned by the host's root.
    for d in ("/mnt/d", "/mnt/ro"):
        os.makedirs(b.host_path(d))
    open(b.host_path("/mnt/f"), "w").close()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out.split("\n")[:2] == ["from a private dir", "a private file"], r
    assert "writable" not in r.out, r
    assert r.out.split()[-1] == "3", r
    # create + start take the same path.
    _, out = created(husk, "c2", b)
    assert finished(husk, "c2", out).startswith("from a private dir\na private file\n")
    assert husk("delete", "c2").rc == 0
    # A source that does not exist: an error naming the mount, nothing left.
    b.config["mounts"][n + 1]["source"] = os.path.join(private, "missing")
    b.write()
    r = husk.run("c3", b)
    assert r.rc != 0, r
    assert f"mounts[{n + 1}]" in r.err and "missing" in r.err, r
    assert husk.nothing_left() == []


def test_user_namespace_init_is_mapped_root_on_the_host(husk, bundle):
    b = userns_bundle(bundle, h.probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    # Before execve the init is non-dumpable, so its /proc entries (other
    # than the world-readable directory) belong to root, not to the mapped
    # uid (CVE-2019-5736).
    assert os.stat(f"/proc/{pid}/status").st_uid == 0
    assert status_ids(pid, "Uid")[:3] == ["100000"] * 3
    assert status_ids(pid, "Gid")[:3] == ["100000"] * 3
    assert ns_inode(pid, "user") != ns_inode(os.getpid(), "user")
    husk.start_ok("c1")
    # execve made the probe dumpable again: /proc/<pid> is its own.
    h.wait_for(lambda: h.read_text(f"/proc/{pid}/cmdline", "").startswith("/probe"), 5)
    assert os.stat(f"/proc/{pid}/status").st_uid == 100000


def test_user_namespace_mappings_without_namespace_fail(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    b.patch({"linux": {"uidMappings": MAP, "gidMappings": MAP}})
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "uidMappings" in r.err, r
    assert husk.nothing_left() == []


def test_time_namespace_offsets(husk, bundle):
    days = 400
    b = bundle(args=sh("cat /proc/uptime"))
    b.patch({"linux": {"namespaces": STD_NS + [{"type": "time"}],
                       "timeOffsets": {"boottime": {"secs": days * 86400, "nanosecs": 0},
                                       "monotonic": {"secs": days * 86400, "nanosecs": 0}}}})
    r = husk.run("c1", b)
    assert r.rc == 0, r
    inside = float(r.out.split()[0])
    host = float(h.read_text("/proc/uptime").split()[0])
    assert days * 86400 <= inside - host + 5 < days * 86400 + 60


def test_time_offsets_need_a_time_namespace(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    b.patch({"linux": {"timeOffsets": {"boottime": {"secs": 10, "nanosecs": 0}}}})
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "timeOffsets" in r.err, r
    assert husk.nothing_left() == []


def test_join_network_and_ipc_by_path(husk, bundle, tmp):
    b1 = bundle(args=h.probe("sleep 100"))
    husk.create_ok("c1", b1)
    p1 = husk.state("c1")["pid"]
    b2 = bundle(args=h.probe("sleep 100"))
    b2.patch({"linux": {"namespaces": [
        {"type": "pid"}, {"type": "uts"}, {"type": "mount"},
        {"type": "network", "path": f"/proc/{p1}/ns/net"},
        {"type": "ipc", "path": f"/proc/{p1}/ns/ipc"}]}})
    husk.create_ok("c2", b2)
    p2 = husk.state("c2")["pid"]
    for ns in ("net", "ipc"):
        assert ns_inode(p2, ns) == ns_inode(p1, ns), ns
    for ns in ("pid", "uts", "mnt"):
        assert ns_inode(p2, ns) != ns_inode(p1, ns), ns


def test_join_pid_namespace_by_path(husk, bundle, tmp):
    b1 = bundle(args=h.probe("sleep 100"))
    husk.create_ok("c1", b1)
    husk.start_ok("c1")
    p1 = husk.state("c1")["pid"]
    b2 = bundle(args=sh("echo $$"))
    b2.patch({"linux": {"namespaces": [
        {"type": "pid", "path": f"/proc/{p1}/ns/pid"}, {"type": "mount"}, {"type": "uts"},
        {"type": "ipc"}, {"type": "network"}]}})
    r = husk.run("c2", b2)
    assert r.rc == 0, r
    # Not pid 1: the pid namespace is c1's, whose pid 1 is c1's init.
    assert int(r.out) > 1, r
    # husk itself is back in its own pid namespace for its children.
    assert ns_inode(os.getpid(), "pid_for_children") == ns_inode(os.getpid(), "pid")


def test_join_user_namespace_and_create_pid_namespace(husk, bundle):
    """The intermediate path: the pid namespace must be created inside the
    joined user namespace, so the init is cloned by a first child."""
    b1 = userns_bundle(bundle, h.probe("sleep 100"))
    husk.create_ok("c1", b1)
    p1 = husk.state("c1")["pid"]
    b2 = bundle(args=sh("echo $$; id -u; cat /proc/self/uid_map"))
    b2.patch({"linux": {"namespaces": STD_NS + [
        {"type": "user", "path": f"/proc/{p1}/ns/user"}]}})
    p2, out = created(husk, "c2", b2)
    assert ns_inode(p2, "user") == ns_inode(p1, "user")
    assert ns_inode(p2, "pid") != ns_inode(p1, "pid")
    lines = finished(husk, "c2", out).splitlines()
    assert lines[0] == "1"
    assert lines[1] == "0"
    assert lines[2].split() == ["0", "100000", "65536"]


def test_create_user_namespace_and_join_network(husk, bundle):
    """Joins of host-owned namespaces happen before the new user namespace
    exists (inside it, they are out of reach)."""
    b1 = bundle(args=h.probe("sleep 100"))
    husk.create_ok("c1", b1)
    p1 = husk.state("c1")["pid"]
    b2 = bundle(args=sh("echo $$; id -u"))
    b2.patch({"linux": {"namespaces": [
        {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "user"},
        {"type": "network", "path": f"/proc/{p1}/ns/net"}],
        "uidMappings": MAP, "gidMappings": MAP}})
    # sysfs cannot be mounted for a network namespace owned by another user
    # namespace: no /sys (nor the cgroup mount below it) in this container.
    b2.config["mounts"] = [m for m in b2.config["mounts"]
                           if not m["destination"].startswith("/sys")]
    b2.write()
    p2, out = created(husk, "c2", b2)
    assert ns_inode(p2, "net") == ns_inode(p1, "net")
    assert ns_inode(p2, "user") != ns_inode(p1, "user")
    assert finished(husk, "c2", out).split() == ["1", "0"]


def test_namespace_path_of_wrong_type_names_field(husk, bundle):
    b = bundle(args=h.probe("exit 0"))
    b.config["linux"]["namespaces"] = [
        {"type": "pid"}, {"type": "mount"}, {"type": "ipc", "path": "/proc/self/ns/net"},
        {"type": "uts"}]
    b.write()
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "linux.namespaces[2].path" in r.err, r
    assert "network" in r.err, r
    assert husk.nothing_left() == []


def test_cgroup_namespace_root_is_the_container_cgroup(husk, bundle):
    b = bundle(args=sh("cat /proc/self/cgroup"))
    b.patch({"linux": {"namespaces": STD_NS + [{"type": "cgroup"}]}})
    r = husk.run("c1", b)
    assert r.rc == 0, r
    # Inside its own cgroup namespace the container sees its cgroup as "/".
    paths = {ln.split(":", 2)[2] for ln in r.out.splitlines() if ln}
    assert paths == {"/"}, r


def link_flags(ip_output):
    """"1: lo: <LOOPBACK,UP,LOWER_UP> mtu ..." -> {"LOOPBACK", "UP", "LOWER_UP"}"""
    return set(ip_output.split("<", 1)[1].split(">", 1)[0].split(","))


def test_new_network_namespace_has_loopback_up(husk, bundle):
    """The kernel creates lo down in a new network namespace; runc and crun
    bring it up, and programs in containers expect 127.0.0.1 to work."""
    b = bundle(args=sh("cat /sys/class/net/lo/flags; ip -o link show lo; "
                       "ip -o -4 addr show dev lo"))
    r = husk.run("c1", b)
    assert r.rc == 0, r
    flags, link, addr = r.out.splitlines()[:3]
    assert int(flags, 16) & 0x1, r.out  # IFF_UP
    assert "UP" in link_flags(link), r.out
    # IFF_UP on lo also gives it 127.0.0.1 (the kernel adds it then).
    assert "127.0.0.1/8" in addr, r.out


def test_loopback_up_in_network_namespace_of_new_user_namespace(husk, bundle):
    """The init brings lo up as root of the new user namespace, which owns
    the new network namespace (CAP_NET_ADMIN over it, none on the host)."""
    b = userns_bundle(bundle, sh("ip -o link show lo"))
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert "UP" in link_flags(r.out), r.out


def test_joined_network_namespace_is_left_alone(husk, bundle, tmp):
    """lo of a network namespace joined by path belongs to its owner: husk
    does not bring it up."""
    ns = os.path.join(tmp, "netns")
    open(ns, "w").close()
    # A network namespace with lo down, pinned by a bind mount of its nsfs file.
    assert os.system(f"unshare --net={ns} true") == 0
    try:
        b = bundle(args=sh("ip -o link show lo"))
        b.patch({"linux": {"namespaces": [
            {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
            {"type": "network", "path": ns}]}})
        r = husk.run("c1", b)
        assert r.rc == 0, r
        assert "UP" not in link_flags(r.out), r.out
    finally:
        os.system(f"umount {ns}")


NS_LINKS = ("mnt", "pid", "net", "ipc", "uts", "cgroup", "user")


def masked_and_readonly(b):
    """A masked file and a read-only directory of the rootfs's own (checking
    them touches nothing of the host's, whose namespaces the container may
    share)."""
    with open(b.host_path("/secret"), "w") as f:
        f.write("host secret\n")
    os.makedirs(b.host_path("/ro"))
    b.config["linux"]["maskedPaths"] = b.config["linux"].get("maskedPaths", []) + ["/secret"]
    b.config["linux"]["readonlyPaths"] = b.config["linux"].get("readonlyPaths", []) + ["/ro"]
    b.write()


def test_no_namespaces_shares_the_callers_and_leaves_no_mount(husk, bundle):
    """No namespace listed: every one is inherited (runtime-spec), the mount
    namespace included. The rootfs and config.mounts (/proc, /dev, /sys, ...)
    are still the container's view, but no mount ever appears in the shared
    namespace, neither while it runs nor after delete."""
    b = bundle(args=h.probe("cat /secret", ["write", "/ro/f", "x"]))
    b.config.pop("hostname", None)
    b.config["linux"]["namespaces"] = []
    masked_and_readonly(b)
    before = {m["id"] for m in h.host_mounts()}
    out = os.path.join(husk.ctx.dir, "c1.out")
    err = os.path.join(husk.ctx.dir, "c1.err")
    husk.create_ok("c1", b, stdout=out, stderr=err)
    pid = husk.state("c1")["pid"]
    for ns in NS_LINKS:
        assert ns_inode(pid, ns) == ns_inode(os.getpid(), ns), ns
    # Nothing attached in the caller's namespace, under the rootfs or anywhere.
    assert h.mounts_under(b.path) == []
    new = [m for m in h.host_mounts() if m["id"] not in before]
    assert [m for m in new if m["mount_point"].startswith(husk.ctx.dir)] == []
    # The init's root is the rootfs, with the config's mounts below it.
    root = f"/proc/{pid}/root"
    assert os.path.exists(f"{root}/probe")
    assert os.path.exists(f"{root}/proc/self/status")
    assert os.path.exists(f"{root}/dev/null") and os.path.isdir(f"{root}/dev/pts")
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    # Masked: empty; read-only: the write fails.
    assert h.read_text(out).split() == ["errno=EROFS"], (h.read_text(out), h.read_text(err))
    husk.delete("c1")
    assert h.mounts_under(b.path) == []
    assert husk.nothing_left() == []


def test_no_namespaces_exec_enters_the_containers_root(husk, bundle):
    b = bundle(args=h.probe("sleep 100"))
    b.config.pop("hostname", None)
    b.config["linux"]["namespaces"] = []
    b.write()
    with open(b.host_path("/marker"), "w") as f:
        f.write("in the rootfs\n")
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk("exec", "c1", *h.probe("cat /marker", "readlink /proc/self/ns/mnt"))
    assert r.rc == 0, r
    assert r.out.splitlines() == ["in the rootfs", ns_inode(os.getpid(), "mnt")], r
    husk.kill("c1", "KILL")
    husk.wait_status("c1", "stopped")
    husk.delete("c1")
    assert husk.nothing_left() == []


def test_no_namespaces_with_terminal(husk, bundle, tmp):
    """/dev/console is bound to the pty before the init leaves its private
    copy of the namespace (no mount is made in the shared one)."""
    path = os.path.join(tmp, "console.sock")
    listener = h.listen(path)
    b = bundle(args=sh("tty; stat -c %t,%T /dev/console; echo console-ok"))
    b.config.pop("hostname", None)
    b.config["process"]["terminal"] = True
    b.config["linux"]["namespaces"] = []
    b.write()
    proc = husk.spawn("create", "--bundle", b.path, "--console-socket", path, "c1")
    name, fds = h.recv_fds(listener)
    assert proc.wait().rc == 0
    try:
        husk.start_ok("c1")
        lines = [ln.strip() for ln in h.read_until(fds[0], "console-ok").splitlines()]
        assert lines[0] == name, lines
        # /dev/console is the pty slave: devpts major 136 (0x88).
        assert lines[1].split(",")[0] == "88", lines
    finally:
        os.close(fds[0])
        listener.close()
    husk.wait_status("c1", "stopped")
    husk.delete("c1")
    assert h.mounts_under(b.path) == []
    assert husk.nothing_left() == []


def test_no_mount_namespace_refuses_new_user_namespace(husk, bundle):
    b = userns_bundle(bundle, h.probe("exit 0"))
    b.config["linux"]["namespaces"] = [n for n in b.config["linux"]["namespaces"]
                                       if n["type"] != "mount"]
    b.write()
    r = husk.create("c1", b)
    assert r.rc != 0
    assert "linux.namespaces: a new user namespace needs a new mount namespace" in r.err, r
    assert husk.nothing_left() == []


def test_join_mount_namespace_by_path(husk, bundle, tmp):
    """The rootfs path is resolved in the joined namespace (as runc does):
    there, another directory is bound over the bundle's rootfs. The container
    runs in that namespace and leaves it as it was."""
    b = bundle(args=h.probe("cat /marker", "readlink /proc/self/ns/mnt"))
    other = bundle(args=h.probe("exit 0"))
    with open(other.host_path("/marker"), "w") as f:
        f.write("joined namespace's rootfs\n")
    ns = os.path.join(tmp, "mntns")
    open(ns, "w").close()
    # A mount namespace pinned by a bind of its nsfs file (unshare(1)
    # --mount=FILE), in which other's rootfs covers b's.
    assert os.system(f"unshare --mount={ns} --propagation private "
                     f"mount --bind {other.rootfs} {b.rootfs}") == 0
    try:
        inside = f"nsenter --mount={ns} cat /proc/self/mountinfo"
        before = os.popen(inside).read()
        b.patch({"linux": {"namespaces": [
            {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"},
            {"type": "mount", "path": ns}]}})
        r = husk.run("c1", b)
        assert r.rc == 0, r
        want = f"mnt:[{os.stat(ns).st_ino}]"
        assert r.out.splitlines() == ["joined namespace's rootfs", want], r
        # Nothing left in the joined namespace, nor in ours.
        assert os.popen(inside).read() == before
        assert h.mounts_under(b.path) == []
    finally:
        os.system(f"umount {ns}")
    assert husk.nothing_left() == []
