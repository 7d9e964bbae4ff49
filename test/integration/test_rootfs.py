"""The container's filesystem: root (readonly, relative path, pivot or not),
mounts in order, masked and readonly paths, /dev, propagation, sysctl."""

import os
import stat
import subprocess

import pytest

import helpers as h
from helpers import probe


def container_mounts(out):
    return {m["mount_point"]: m for m in h.parse_mountinfo(out)}


def test_readonly_root(husk, bundle):
    b = bundle(args=probe("syscall mkdir /newdir", ["write", "/tmp/x", "y"]),
               patch={"root": {"readonly": True}})
    r = husk.run("c1", b)
    assert r.out == "errno=EROFS\nerrno=EROFS\n", r


def test_writable_root(husk, bundle):
    b = bundle(args=probe("syscall mkdir /newdir", ["write", "/written", "y"]),
               patch={"root": {"readonly": False}})
    assert husk.run_ok("c1", b) == "ok\nok\n"
    assert h.read_text(b.host_path("/written")) == "y"


def test_readonly_root_keeps_mounts_writable(husk, bundle):
    b = bundle(args=probe(["write", "/scratch/f", "x"]), patch={"root": {"readonly": True}})
    b.config["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"})
    b.write()
    assert husk.run_ok("c1", b) == "ok\n"


def test_mounts_in_order_and_bind_ro(husk, bundle, tmp):
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    with open(os.path.join(src, "file"), "w") as f:
        f.write("from host\n")
    b = bundle(args=probe("cat /mnt/a/b/file", ["write", "/mnt/a/other", "x"], "mountinfo",
                          ["write", "/mnt/a/b/new", "x"]))
    # The bind lands inside the tmpfs mounted just before it: order matters,
    # and the mount point is created inside the tmpfs.
    b.config["mounts"] += [
        {"destination": "/mnt/a", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
        {"destination": "/mnt/a/b", "type": "bind", "source": src, "options": ["rbind", "ro"]},
    ]
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 1, r  # the last write fails
    lines = r.out.splitlines()
    assert lines[:2] == ["from host", "ok"], r
    assert lines[-1] == "errno=EROFS", r
    mounts = h.parse_mountinfo("\n".join(lines[2:-1]))
    points = [m["mount_point"] for m in mounts]
    assert points.index("/mnt/a") < points.index("/mnt/a/b")
    assert "ro" in mounts[points.index("/mnt/a/b")]["options"]
    assert not os.path.exists(os.path.join(src, "new"))


def test_bind_rw(husk, bundle, tmp):
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    b = bundle(args=probe(["write", "/data/new", "hello"]))
    b.config["mounts"].append({"destination": "/data", "type": "bind", "source": src,
                               "options": ["rbind", "rw"]})
    b.write()
    assert husk.run_ok("c1", b) == "ok\n"
    assert h.read_text(os.path.join(src, "new")) == "hello"


def test_bind_file(husk, bundle, tmp):
    src = os.path.join(tmp, "hostfile")
    with open(src, "w") as f:
        f.write("file content")
    b = bundle(args=probe("cat /etc/bound", "stat /etc/bound"))
    b.config["mounts"].append({"destination": "/etc/bound", "type": "bind", "source": src,
                               "options": ["bind", "ro"]})
    b.write()
    out = husk.run_ok("c1", b)
    assert out.startswith("file content")
    assert h.parse_kv(out[len("file content"):])["type"] == "file"


def test_tmpfs_options(husk, bundle):
    b = bundle(args=probe("mountinfo", "stat /mnt/t"))
    b.config["mounts"].append({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs",
                               "options": ["nosuid", "nodev", "size=1m", "mode=1777"]})
    b.write()
    out = husk.run_ok("c1", b)
    info, stat_line = out.rsplit("\n", 2)[0], out.rsplit("\n", 2)[1]
    t = container_mounts(info)["/mnt/t"]
    assert t["fstype"] == "tmpfs"
    assert "size=1024k" in t["super_options"]
    assert {"nosuid", "nodev"} <= set(t["options"])
    assert h.parse_kv(stat_line)["mode"] == "1777"


def test_proc_and_sys_mounted(husk, bundle):
    out = husk.run_ok("c1", bundle(args=probe("mountinfo")))
    mounts = container_mounts(out)
    assert mounts["/proc"]["fstype"] == "proc"
    assert mounts["/sys"]["fstype"] == "sysfs"
    assert "ro" in mounts["/sys"]["options"]
    assert mounts["/dev"]["fstype"] == "tmpfs"


def test_masked_paths(husk, bundle):
    b = bundle(args=probe("cat /secret/file.txt", "stat /secret/file.txt", "ls /secretdir",
                          "syscall mkdir /secretdir/x", "cat /etc/hostname"),
               patch={"root": {"readonly": False}})
    os.makedirs(b.host_path("/secret"))
    with open(b.host_path("/secret/file.txt"), "w") as f:
        f.write("TOPSECRET")
    os.makedirs(b.host_path("/secretdir"))
    with open(b.host_path("/secretdir/inner"), "w") as f:
        f.write("x")
    b.patch({"linux": {"maskedPaths": ["/secret/file.txt", "/secretdir", "/no/such/path"]}})
    lines = husk.run_ok("c1", b).splitlines()
    # A masked file reads as /dev/null; a masked directory is empty and read-only.
    st = h.parse_kv(lines[0])
    assert (st["type"], st["rdev"]) == ("chr", "1:3"), lines
    assert lines[1] == "errno=EROFS", lines
    assert lines[2] == "husk", lines
    assert "TOPSECRET" not in "\n".join(lines)


def test_readonly_paths(husk, bundle):
    b = bundle(args=probe("syscall mkdir /rodir/x", "syscall mkdir /rwdir/x",
                          ["write", "/proc/sys/kernel/hostname", "x"]),
               patch={"root": {"readonly": False}})
    os.makedirs(b.host_path("/rodir"))
    os.makedirs(b.host_path("/rwdir"))
    b.patch({"linux": {"readonlyPaths": ["/rodir", "/proc/sys", "/no/such/path"]}})
    r = husk.run("c1", b)
    assert r.out.splitlines() == ["errno=EROFS", "ok", "errno=EROFS"], r


DEFAULT_DEVICES = {
    "/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
    "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0),
}


def test_default_devices(husk, bundle):
    paths = list(DEFAULT_DEVICES)
    b = bundle(args=probe(*[f"stat {p}" for p in paths]))
    lines = husk.run_ok("c1", b).splitlines()
    for p, line in zip(paths, lines):
        st = h.parse_kv(line)
        assert st["type"] == "chr", (p, line)
        assert st["rdev"] == "%d:%d" % DEFAULT_DEVICES[p], (p, line)
        assert st["mode"] == "0666", (p, line)


def test_dev_links(husk, bundle):
    links = {"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
             "/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2",
             "/dev/ptmx": "pts/ptmx"}
    b = bundle(args=probe(*[f"readlink {p}" for p in links]))
    assert husk.run_ok("c1", b).splitlines() == list(links.values())


def test_default_devices_usable(husk, bundle):
    b = bundle(args=probe("open /dev/null rw", "open /dev/zero r", "open /dev/urandom r",
                          "ls /dev/pts", "stat /dev/shm"))
    lines = husk.run_ok("c1", b).splitlines()
    assert lines[:3] == ["ok", "ok", "ok"]
    assert "ptmx" in lines[3:-1]
    assert h.parse_kv(lines[-1])["type"] == "dir"


def test_linux_devices(husk, bundle):
    b = bundle(args=probe("stat /dev/mydev", "open /dev/mydev rw"))
    b.patch({"process": {"user": {"uid": 1000, "gid": 1001}}, "linux": {
        "devices": [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 3,
                     "fileMode": 0o640, "uid": 1000, "gid": 1001}],
        "resources": {"devices": [{"allow": False, "access": "rwm"},
                                  {"allow": True, "type": "c", "major": 1, "minor": 3,
                                   "access": "rwm"}]}}})
    lines = husk.run_ok("c1", b).splitlines()
    assert h.parse_kv(lines[0]) == {"type": "chr", "mode": "0640", "uid": "1000",
                                    "gid": "1001", "rdev": "1:3"}
    assert lines[1] == "ok"


def test_runc_accepted_values_spec_allows(husk, bundle):
    """What runc 1.1.5 takes and the spec does not forbid: a device node
    outside /dev (its directory made in the rootfs), device rule access in any
    order ("wr", "mr"), a blockIO weight of 0 (not set), a umask above 0777
    (umask(2) keeps 0777 of it)."""
    b = bundle(args=["/bin/sh", "-c",
                     "/probe stat /mydev/null; /probe open /mydev/null rw; umask"])
    b.patch({"process": {"user": {"umask": 0o1027}}, "linux": {
        "devices": [{"path": "/mydev/null", "type": "c", "major": 1, "minor": 3,
                     "fileMode": 0o666}],
        "resources": {"blockIO": {"weight": 0},
                      "devices": [{"allow": False, "access": "rwm"},
                                  {"allow": True, "type": "c", "major": 1, "minor": 3,
                                   "access": "wr"},
                                  {"allow": True, "type": "c", "major": 1, "minor": 5,
                                   "access": "mr"}]}}})
    lines = husk.run_ok("c1", b).splitlines()
    assert h.parse_kv(lines[0])["rdev"] == "1:3", lines
    assert lines[1:] == ["ok", "0027"], lines
    # An empty access is no composition of r, w, m (runc refuses it too).
    b.config["linux"]["resources"]["devices"][1]["access"] = ""
    b.write()
    r = husk.run("c2", b)
    assert r.rc != 0 and "linux.resources.devices[1].access" in r.err, r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("allowed,expect", [(False, "errno=EPERM"), (True, "ok")])
def test_device_cgroup_governs_nodes_in_rootfs(husk, bundle, allowed, expect):
    # A device node shipped in the rootfs (not in linux.devices) opens only if
    # linux.resources.devices allows it; 10:237 is not a default device.
    b = bundle(args=probe("open /nodes/lc r"))
    os.makedirs(b.host_path("/nodes"))
    os.mknod(b.host_path("/nodes/lc"), 0o666 | stat.S_IFCHR, os.makedev(10, 237))
    rules = [{"allow": False, "access": "rwm"}]
    if allowed:
        rules.append({"allow": True, "type": "c", "major": 10, "minor": 237, "access": "r"})
    b.patch({"linux": {"resources": {"devices": rules}}})
    out = husk.run_ok("c1", b)
    # Without the loop driver the allowed open fails with ENXIO/ENODEV, never EPERM.
    if allowed and out != "ok\n":
        assert out in ("errno=ENXIO\n", "errno=ENODEV\n"), out
    else:
        assert out == expect + "\n"


@pytest.mark.parametrize("prop,propagates", [("slave", True), ("shared", True),
                                             ("private", False)])
def test_rootfs_propagation(husk, bundle, tmp, prop, propagates):
    # rootfsPropagation applies to the container's whole mount tree: a bind
    # volume whose host source is a shared mount receives host mounts made
    # under it while the container runs, unless the propagation is private.
    vol = os.path.join(tmp, "vol")
    os.makedirs(vol)
    subprocess.run(["mount", "-t", "tmpfs", "husk-test-vol", vol], check=True)
    try:
        subprocess.run(["mount", "--make-shared", vol], check=True)
        os.makedirs(os.path.join(vol, "late"))
        b = bundle(args=probe("wait-signal", "mountinfo"),
                   patch={"linux": {"rootfsPropagation": prop}})
        b.config["mounts"].append({"destination": "/vol", "type": "bind", "source": vol,
                                   "options": ["rbind"]})
        b.write()
        out = os.path.join(tmp, "out")
        assert husk.run("c1", b, "--detach", stdout=out).rc == 0
        h.wait_file_contains(out, "waiting")
        subprocess.run(["mount", "-t", "tmpfs", "husk-test-late", os.path.join(vol, "late")],
                       check=True)
        assert husk.kill("c1", "USR1").rc == 0
        husk.wait_status("c1", "stopped")
        mounts = container_mounts(h.read_text(out).split("\n", 2)[2])
        assert "/vol" in mounts
        assert ("/vol/late" in mounts) == propagates, sorted(mounts)
        # The rootfs mount itself carries the propagation asked for.
        tags = {t.split(":")[0] for t in mounts["/"]["optional"]}
        if prop == "shared":
            assert "shared" in tags, mounts["/"]
        if prop == "private":
            assert not tags & {"shared", "master"}, mounts["/"]
    finally:
        husk.delete("c1", force=True)
        subprocess.run(["umount", "-R", "-l", vol])


def test_read_only_dev_still_gets_devpts_and_the_default_devices(husk, bundle):
    """/dev mounted "ro": runc mounts it read-write, makes the device nodes,
    links and the mount points below it (devpts, shm, mqueue), then makes it
    read-only."""
    b = bundle(args=probe("stat /dev/null", "stat /dev/pts/ptmx", "readlink /dev/stdin",
                          "syscall mkdir /dev/x"))
    for m in b.config["mounts"]:
        if m["destination"] == "/dev":
            m["options"].append("ro")
    out = husk.run_ok("c1", b.write()).splitlines()
    assert h.parse_kv(out[0])["rdev"] == "1:3", out
    assert h.parse_kv(out[1])["type"] == "chr", out
    assert out[2] == "/proc/self/fd/0", out
    assert out[3] == "errno=EROFS", out


def test_no_pivot(husk, bundle):
    b = bundle(args=probe("cat /etc/hostname", "ls /", "pid"))
    out = husk.run_ok("c1", b, "--no-pivot")
    lines = out.splitlines()
    assert lines[0] == "husk"
    assert "probe" in lines and "bin" in lines
    assert lines[-1] == "1"


@pytest.mark.parametrize("flags", [["--no-pivot"], []])
def test_no_pivot_gives_no_bare_procfs_to_a_user_namespace(husk, bundle, flags):
    """The kernel lets a user namespace mount procfs only where one is fully
    visible already. With --no-pivot the host's /proc stayed in the
    container's mount namespace, so an unprivileged process could unshare
    and mount a procfs without the masked paths; runc refuses that ("mount:
    permission denied"), as pivot_root does."""
    b = bundle(args=["unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo mounted"],
               patch={"process": {"user": {"uid": 1000, "gid": 1000}}})
    r = husk.run("c1", b, *flags)
    assert r.rc != 0, r
    assert "mounted" not in r.out and "permission denied" in r.err, r
    assert husk.nothing_left() == []


def test_sysctl(husk, bundle):
    b = bundle(args=probe("sysctl net.ipv4.ip_forward", "sysctl kernel.domainname",
                          "sysctl kernel.msgmax"),
               patch={"linux": {"sysctl": {"net.ipv4.ip_forward": "1",
                                           "kernel.domainname": "sysctl.test",
                                           "kernel.msgmax": "12345"}}})
    assert husk.run_ok("c1", b) == "1\nsysctl.test\n12345\n"


def test_sysctl_does_not_touch_host(husk, bundle):
    names = ["kernel/domainname", "kernel/msgmax", "net/ipv4/ip_forward"]
    before = [h.read_text(f"/proc/sys/{n}") for n in names]
    b = bundle(args=probe("exit 0"),
               patch={"linux": {"sysctl": {"kernel.domainname": "not.the.host",
                                           "kernel.msgmax": "4321",
                                           "net.ipv4.ip_forward": "1"
                                           if before[2].strip() == "0" else "0"}}})
    husk.run_ok("c1", b)
    assert [h.read_text(f"/proc/sys/{n}") for n in names] == before


def test_relative_root_path_and_bundle(husk, bundle, tmp):
    b = bundle(args=probe("cat /etc/hostname"))
    assert b.config["root"]["path"] == "rootfs"
    # husk runs from elsewhere, with a relative --bundle; state.bundle is absolute.
    rel = os.path.relpath(b.path, tmp)
    r = husk("run", "--bundle", rel, "--detach", "c1", cwd=tmp)
    assert r.rc == 0, r
    st = husk.state("c1")
    assert st["bundle"] == b.path
    husk.wait_status("c1", "stopped")


def test_absolute_root_path(husk, bundle):
    b = bundle(args=probe("cat /etc/hostname"))
    b.patch({"root": {"path": b.rootfs}})
    assert husk.run_ok("c1", b) == "husk\n"


def test_mount_through_symlink_stays_in_rootfs(husk, bundle, tmp):
    # rootfs/evil -> /<outside dir>: the mount must land inside the rootfs, never
    # on the host path the symlink names (CVE-2021-30465-style escapes).
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    b = bundle(args=probe("exit 0"), patch={"root": {"readonly": False}})
    os.symlink(outside, b.host_path("/evil"))
    b.config["mounts"].append({"destination": "/evil", "type": "tmpfs", "source": "tmpfs"})
    b.write()
    husk.run("c1", b)
    assert h.mounts_under(outside) == []
    assert os.listdir(outside) == []


def test_bind_of_own_cgroup_listed_first(husk, bundle):
    # The init builds the mounts before the first one showing cgroups while
    # husk is still making them (init.cpp, starts_early): a bind of the
    # container's own cgroup directory, listed first, must wait for it and
    # find the init inside. (Mounted early, it loses the race with husk's
    # mkdir most of the time, so this catches that mistake in most runs.)
    hier = "/sys/fs/cgroup/pids" if os.path.isdir("/sys/fs/cgroup/pids") else "/sys/fs/cgroup"
    b = bundle(args=probe("cat /mnt/cg/cgroup.procs"))
    b.config["mounts"].insert(0, {"destination": "/mnt/cg", "type": "bind",
                                  "source": hier + b.cgroup_path, "options": ["rbind", "ro"]})
    b.write()
    assert husk.run_ok("c1", b) == "1\n"


def test_fifo_device_with_major_minor_is_made(husk, bundle):
    """config-linux.md: major/minor are "REQUIRED unless type is p"; a fifo
    that carries them anyway (runtime-tools' linux_devices does) is valid and
    made as a fifo, as runc and crun do."""
    b = bundle(args=probe("stat /dev/fifo1"),
               patch={"linux": {"devices": [{"path": "/dev/fifo1", "type": "p", "major": 1,
                                             "minor": 3, "fileMode": 0o640}]}})
    kv = h.parse_kv(husk.run_ok("c1", b).strip())
    assert (kv["type"], kv["mode"]) == ("fifo", "0640"), kv
