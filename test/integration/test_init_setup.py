"""What the init builds between clone and exec, on the paths it takes to do
it cheaply and on the ones where it must check more: device nodes on the
/dev tmpfs the init mounts itself and on a /dev that comes from the image,
the /dev links when the image already has entries there, the cgroup tree at
/sys/fs/cgroup (the container's own cgroups, with and without a cgroup
namespace), and programs that are shell scripts."""

import os
import stat

import pytest

import helpers as h
from helpers import probe, sh

DEFAULT_DEVICES = {
    "/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/full": (1, 7),
    "/dev/random": (1, 8), "/dev/urandom": (1, 9), "/dev/tty": (5, 0),
}


def drop_mount(b, destination):
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != destination]


# /dev as the tmpfs of the default config (the init mounts it), or as the
# image's own directory (no /dev mount: nodes go into the rootfs itself).
@pytest.mark.parametrize("dev_from", ["tmpfs", "image"])
@pytest.mark.parametrize("mode", [0o640, 0o2640, 0o1666])
def test_device_nodes_get_mode_and_owner(husk, bundle, dev_from, mode):
    paths = list(DEFAULT_DEVICES) + ["/dev/mydev", "/dev/sub/dir/mydev2"]
    b = bundle(args=probe(*[f"stat {p}" for p in paths]))
    if dev_from == "image":
        drop_mount(b, "/dev")
        os.makedirs(b.host_path("/dev"), exist_ok=True)
    b.patch({"linux": {"devices": [
        {"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5,
         "fileMode": mode, "uid": 1000, "gid": 1001},
        {"path": "/dev/sub/dir/mydev2", "type": "c", "major": 1, "minor": 7,
         "fileMode": mode, "uid": 1002, "gid": 1003}]}})
    lines = husk.run_ok("c1", b.write()).splitlines()
    assert husk.nothing_left() == []
    got = {p: h.parse_kv(line) for p, line in zip(paths, lines)}
    for p, (major, minor) in DEFAULT_DEVICES.items():
        assert got[p] == {"type": "chr", "mode": "0666", "uid": "0", "gid": "0",
                          "rdev": f"{major}:{minor}"}, (p, lines)
    assert got["/dev/mydev"] == {"type": "chr", "mode": "%04o" % mode, "uid": "1000",
                                 "gid": "1001", "rdev": "1:5"}, lines
    assert got["/dev/sub/dir/mydev2"] == {"type": "chr", "mode": "%04o" % mode, "uid": "1002",
                                          "gid": "1003", "rdev": "1:7"}, lines
    if dev_from == "image":
        # Made in the rootfs itself, through the checked path.
        st = os.lstat(b.host_path("/dev/mydev"))
        assert stat.S_ISCHR(st.st_mode) and stat.S_IMODE(st.st_mode) == mode
        assert (st.st_uid, st.st_gid) == (1000, 1001)


def test_device_nodes_keep_the_callers_umask_for_directories(husk, bundle):
    """Nodes get exactly fileMode whatever the umask; directories made for
    nodes in subdirectories of /dev are made as before (0755 under the
    usual umask 022), and the container's process still gets the umask."""
    b = bundle(args=sh("/probe stat /dev/sub; /probe stat /dev/mydev; umask"))
    b.patch({"linux": {"devices": [
        {"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5, "fileMode": 0o666},
        {"path": "/dev/sub/mydev2", "type": "c", "major": 1, "minor": 7, "fileMode": 0o666}]}})
    b.config["process"].pop("umask", None)
    b.write()
    old = os.umask(0o022)
    try:
        lines = husk.run_ok("c1", b).splitlines()
        assert husk.nothing_left() == []
    finally:
        os.umask(old)
    assert h.parse_kv(lines[0])["mode"] == "0755", lines
    assert h.parse_kv(lines[1])["mode"] == "0666", lines
    assert lines[2] == "0022", lines


def test_dev_links_replace_the_images_ptmx_and_keep_its_other_entries(husk, bundle):
    """/dev from the image: a /dev/ptmx there (a stale node or file) becomes
    the link to the container's devpts; an existing /dev/fd is the image's
    business and stays."""
    b = bundle(args=probe("readlink /dev/ptmx", "readlink /dev/fd", "readlink /dev/stdin",
                          "ls /dev/pts"))
    drop_mount(b, "/dev")
    os.makedirs(b.host_path("/dev"), exist_ok=True)
    with open(b.host_path("/dev/ptmx"), "w"):
        pass
    os.symlink("/proc/self/fd/", b.host_path("/dev/fd"))
    lines = husk.run_ok("c1", b.write()).splitlines()
    assert husk.nothing_left() == []
    assert lines[0] == "pts/ptmx", lines
    assert lines[1] == "/proc/self/fd/", lines
    assert lines[2] == "/proc/self/fd/0", lines
    assert "ptmx" in lines[3:], lines


@pytest.mark.parametrize("cgroupns", [False, True])
def test_sys_fs_cgroup_shows_the_containers_own_cgroups(husk, bundle, cgroupns):
    """Every hierarchy under the container's /sys/fs/cgroup is the container's
    own cgroup (its init, pid 1, is a member of exactly that directory:
    cgroup.procs lists direct members only), named as on the host, with a
    link per controller of a co-mounted hierarchy."""
    script = ("if [ -f /sys/fs/cgroup/cgroup.procs ]; then "
              "echo \". $(tr '\\n' ' ' < /sys/fs/cgroup/cgroup.procs)\"; else "
              "for d in /sys/fs/cgroup/*; do n=${d##*/}; "
              "if [ -L $d ]; then echo \"link $n $(readlink $d)\"; "
              "else echo \"$n $(tr '\\n' ' ' < $d/cgroup.procs)\"; fi; done; fi")
    b = bundle(args=sh(script))
    nss = [ns for ns in b.config["linux"]["namespaces"] if ns["type"] != "cgroup"]
    if cgroupns:
        nss.append({"type": "cgroup"})
    b.config["linux"]["namespaces"] = nss
    lines = husk.run_ok("c1", b.write()).splitlines()
    assert husk.nothing_left() == []
    dirs = {}
    links = {}
    for line in lines:
        parts = line.split()
        if parts[0] == "link":
            links[parts[1]] = parts[2]
        else:
            dirs[parts[0]] = parts[1:]
    # The hierarchies mounted at /sys/fs/cgroup/<name>; none on a cgroup v2
    # only host (the hierarchy is /sys/fs/cgroup itself).
    names = [] if h.V2_HOST else [os.path.basename(d) for d in h.hierarchy_dirs()]
    if not names:
        assert list(dirs) == ["."], lines
    else:
        assert sorted(dirs) == names, lines
    for name, pids in dirs.items():
        assert "1" in pids, (name, lines)
    for name in names:
        for ctrl in name.split(",") if "," in name else []:
            assert links.get(ctrl) == name, (name, lines)


@pytest.mark.parametrize("how", ["path", "search"])
def test_shell_script_program_is_executed(husk, bundle, how):
    """A #! program runs through its interpreter, found directly or through
    $PATH, and gets its arguments."""
    b = bundle()
    path = "/bin/hello.sh"
    with open(b.host_path(path), "w") as f:
        f.write("#!/bin/sh\necho \"script $0 $1\"\n")
    os.chmod(b.host_path(path), 0o755)
    b.config["process"]["args"] = [path if how == "path" else "hello.sh", "arg1"]
    out = husk.run_ok("c1", b.write())
    assert husk.nothing_left() == []
    assert out == f"script {path} arg1\n", out


def test_non_executable_script_fails_create(husk, bundle):
    b = bundle()
    with open(b.host_path("/bin/noexec.sh"), "w") as f:
        f.write("#!/bin/sh\necho ran\n")
    os.chmod(b.host_path("/bin/noexec.sh"), 0o644)
    b.config["process"]["args"] = ["/bin/noexec.sh"]
    r = husk.create("c1", b.write())
    assert r.rc != 0, r
    assert "permission denied" in r.err, r
    assert husk.nothing_left() == []
