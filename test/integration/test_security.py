"""Regression tests for the advisories the incumbent runtimes fell to
(/work/shared/reference/anchors.md §4; docs/security.md maps each advisory to
its tests). Every test plays the attacker: a hostile rootfs (symlinks where
devices, mount points or /proc should be), hostile config paths, leaked fds,
killed runtimes. Each asserts the host is untouched (files, mtimes, mounts,
processes) and what the container or the user sees (the error, or the
container's own view)."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

import helpers as h
from helpers import probe, sh

V2_HOST = h.V2_HOST


# ---- helpers --------------------------------------------------------------

def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshot(path):
    """Everything observable about a host file or tree: per entry its type,
    mode, size, inode, mtime and (for files) content hash."""
    out = {}

    def one(p, rel):
        st = os.lstat(p)
        entry = (st.st_mode, st.st_size, st.st_ino, st.st_mtime_ns)
        if os.path.isfile(p) and not os.path.islink(p):
            entry += (sha256(p),)
        out[rel] = entry

    one(path, ".")
    if os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            for n in dirs + files:
                p = os.path.join(root, n)
                one(p, os.path.relpath(p, path))
    return out


def host_mount_points():
    return {m["mount_point"] for m in h.host_mounts()}


def drop_mount(b, destination):
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != destination]


def replace_with_symlink(path, target):
    """rootfs entry -> symlink (whatever it was)."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)
    os.symlink(target, path)


def own_dev_with_symlink(b, entry, target):
    """The rootfs brings its own /dev (no tmpfs over it), in which entry is
    a symlink to target."""
    drop_mount(b, "/dev")
    for sub in ("/dev/pts", "/dev/shm", "/dev/mqueue"):
        os.makedirs(b.host_path(sub), exist_ok=True)
    replace_with_symlink(b.host_path(entry), target)
    b.write()


def container_mounts(mountinfo_text):
    return {m["mount_point"]: m for m in h.parse_mountinfo(mountinfo_text)}


def husk_binary():
    return os.path.realpath(h.HUSK_BIN)




# ===========================================================================
# CVE-2019-5736: the container overwrote the host runtime via /proc/<pid>/exe
# ===========================================================================

@pytest.mark.parametrize("how", ["proc-self-exe", "shebang", "bind-mounted-binary"])
def test_cve_2019_5736_runtime_binary_never_becomes_the_container_process(husk, bundle, how):
    """The container's process must never be the husk binary: once it is,
    /proc/<pid>/exe in the container is the host's husk, open for rewriting."""
    before = snapshot(husk_binary())
    b = bundle(patch={"root": {"readonly": False}})
    if how == "proc-self-exe":
        # During setup /proc/self/exe of the init *is* husk.
        b.config["process"]["args"] = ["/proc/self/exe", "--version"]
    elif how == "shebang":
        with open(b.host_path("/evil.sh"), "w") as f:
            f.write("#!/proc/self/exe\n")
        os.chmod(b.host_path("/evil.sh"), 0o755)
        b.config["process"]["args"] = ["/evil.sh"]
    else:
        b.config["mounts"].append({"destination": "/husk", "type": "bind",
                                   "source": husk_binary(), "options": ["bind", "ro"]})
        b.config["process"]["args"] = ["/husk", "--version"]
    b.write()
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert "husk version" not in r.out, r
    assert "CVE-2019-5736" in r.err or "runtime binary" in r.err, r
    assert snapshot(husk_binary()) == before
    assert husk.nothing_left() == []


def test_cve_2019_5736_husk_init_exe_unreachable_from_another_container(husk, bundle, tmp):
    """Container B joins container A's pid namespace: while B is `created`,
    its init (still the husk image) is a process A can see. A must neither
    resolve nor open /proc/<B's init>/exe."""
    sig = os.path.join(tmp, "sig")
    os.makedirs(sig)
    script = ("while [ ! -e /sig/go ]; do sleep 0.05; done; "
              "for d in /proc/[0-9]*; do p=${d#/proc/}; "
              "echo \"pid=$p comm=$(cat $d/comm) open=$(/probe open $d/exe r) "
              "openw=$(/probe open $d/exe w) link=$(/probe readlink $d/exe)\"; done; echo END")
    a = bundle(args=sh(script))
    a.config["mounts"].append({"destination": "/sig", "type": "bind", "source": sig,
                               "options": ["rbind", "rw"]})
    a.write()
    out_path = os.path.join(tmp, "a.out")
    r = husk.create("a", a, stdout=out_path)
    assert r.rc == 0, r
    husk.start_ok("a")
    a_pid = husk.state("a")["pid"]

    b = bundle(args=probe("exit 0"))
    b.config["linux"]["namespaces"] = [
        ns if ns["type"] != "pid" else {"type": "pid", "path": f"/proc/{a_pid}/ns/pid"}
        for ns in b.config["linux"]["namespaces"]]
    b.write()
    husk.create_ok("b", b)
    b_pid = husk.state("b")["pid"]
    # B's init really is the husk image at this point (what the attack needs).
    assert os.readlink(f"/proc/{b_pid}/exe") == husk_binary()
    nspid = [ln for ln in h.read_text(f"/proc/{b_pid}/status").splitlines()
             if ln.startswith("NSpid:")][0].split()[-1]
    before = snapshot(husk_binary())

    with open(os.path.join(sig, "go"), "w"):
        pass
    h.wait_file_contains(out_path, "END", timeout=20)
    rows = {kv["pid"]: kv for kv in (h.parse_kv(ln) for ln in h.read_text(out_path).splitlines())
            if "pid" in kv}
    assert nspid in rows, h.read_text(out_path)
    row = rows[nspid]
    assert row["open"] in ("errno=EACCES", "errno=EPERM"), row
    assert row["openw"] in ("errno=EACCES", "errno=EPERM", "errno=ETXTBSY"), row
    assert row["link"] in ("errno=EACCES", "errno=EPERM"), row
    assert snapshot(husk_binary()) == before
    for cid in ("b", "a"):
        r = husk.delete(cid, force=True)
        assert r.rc == 0, r
        # We are the subreaper of both inits: A's init, as its pid
        # namespace's reaper, waits in exit until B's zombie is reaped.
        h.reap_orphans()
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2024-21626 "Leaky Vessels": an fd to a host directory reached the
# container; process.cwd (or args[0]) = /proc/self/fd/N walked out through it
# ===========================================================================

def host_escape_dir(tmp):
    """A host directory with a marker file and a copy of the probe, which
    a container must never be able to reach."""
    d = os.path.join(tmp, "host-secret")
    os.makedirs(d)
    with open(os.path.join(d, "marker"), "w") as f:
        f.write("HOST-ONLY")
    shutil.copy(h.HUSK_PROBE, os.path.join(d, "hostprobe"))
    os.chmod(os.path.join(d, "hostprobe"), 0o755)
    return d


@pytest.mark.parametrize("fd", range(3, 16))
def test_cve_2024_21626_cwd_through_internal_fd(husk, bundle, fd):
    """Whatever fds husk holds during setup, cwd=/proc/self/fd/N never leaves
    the container's root: either refused, or the cwd is inside the root."""
    b = bundle(args=probe("cwd", "ls ."), patch={"process": {"cwd": f"/proc/self/fd/{fd}"}})
    r = husk.run("c1", b)
    if r.rc == 0:
        cwd = r.out.splitlines()[0]
        assert cwd.startswith("/") and "unreachable" not in cwd, r
        assert "HOST-ONLY" not in r.out
    else:
        assert "cwd" in r.err, r
    assert husk.nothing_left() == []


def test_cve_2024_21626_cwd_through_fd_leaked_by_the_caller(husk, bundle, tmp):
    d = host_escape_dir(tmp)
    before = snapshot(d)
    b = bundle(args=probe("cwd", "cat marker"), patch={"process": {"cwd": "/proc/self/fd/7"}})
    r = husk.run("c1", b, extra_fds={7: d})
    assert r.rc != 0, r
    assert "HOST-ONLY" not in r.out
    assert "process.cwd" in r.err and "outside the container's root" in r.err, r
    assert snapshot(d) == before
    assert husk.nothing_left() == []


@pytest.mark.parametrize("fd", range(3, 16))
def test_cve_2024_21626_args0_through_internal_fd(husk, bundle, tmp, fd):
    """Attack 3 of the advisory: the container's own program is a host binary
    reached through a leaked directory fd (".." climbs the host tree)."""
    d = host_escape_dir(tmp)
    climb = "/".join([".."] * 30)
    target = f"/proc/self/fd/{fd}/{climb}{d}/hostprobe"
    b = bundle(args=[target, "cat", "/proc/self/cmdline"])
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert "hostprobe" not in r.out, r
    assert husk.nothing_left() == []


def test_cve_2024_21626_args0_through_fd_leaked_by_the_caller(husk, bundle, tmp):
    d = host_escape_dir(tmp)
    before = snapshot(d)
    b = bundle(args=["/proc/self/fd/7/hostprobe", "cat", "/proc/self/cmdline"])
    r = husk.run("c1", b, extra_fds={7: d})
    assert r.rc != 0, r
    assert "hostprobe" not in r.out, r
    assert snapshot(d) == before
    assert husk.nothing_left() == []


def test_cve_2024_21626_caller_fds_never_reach_the_container(husk, bundle, tmp):
    d = host_escape_dir(tmp)
    b = bundle(args=probe("fds", "ls /proc/self/fd"))
    r = husk.run("c1", b, extra_fds={3: d, 5: d, 9: os.path.join(d, "marker")})
    assert r.rc == 0, r
    fds, listing = r.out.split("\n", 1)
    assert fds == "0 1 2", r
    # ls itself holds one directory fd (3) while listing.
    assert listing.split() == ["0", "1", "2", "3"], r


# ===========================================================================
# CVE-2025-31133 / 52565 / 52881: /dev/null, /dev/console swapped for symlinks;
# writes to /proc redirected through a fake procfs
# ===========================================================================

def test_cve_2025_31133_masked_path_never_binds_a_symlinked_dev_null(husk, bundle, tmp):
    """The rootfs brings its own /dev (no tmpfs over it) whose null is a
    symlink to a procfs file: a mask made from it would be that file, rw."""
    victim = "/proc/sys/kernel/core_pattern"
    host_before = h.read_text(victim)
    b = bundle(args=probe("stat /etc/hostname", ["write", "/etc/hostname", "|/evil"],
                          "cat /etc/hostname"),
               patch={"root": {"readonly": False},
                      "linux": {"maskedPaths": ["/etc/hostname"]}})
    own_dev_with_symlink(b, "/dev/null", victim)
    r = husk.run("c1", b)
    if r.rc == 0:
        lines = r.out.splitlines()
        st = h.parse_kv(lines[0])
        assert (st["type"], st["rdev"]) == ("chr", "1:3"), r
    else:
        assert "/dev/null" in r.err, r
    assert h.read_text(victim) == host_before
    assert husk.nothing_left() == []


def test_cve_2025_31133_masks_use_the_real_null_device(husk, bundle):
    """With the usual tmpfs /dev: a masked file reads as the null device and
    cannot be written through."""
    b = bundle(args=probe("stat /proc/timer_list", "open /proc/timer_list w", "stat /proc/keys"))
    b.config["linux"]["maskedPaths"] = ["/proc/timer_list", "/proc/keys"]
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    for ln in (lines[0], lines[2]):
        st = h.parse_kv(ln)
        assert (st["type"], st["rdev"]) == ("chr", "1:3"), r


def console_listener(tmp):
    path = os.path.join(tmp, "console.sock")
    return path, h.listen(path)


def test_cve_2025_52565_dev_console_symlink_is_not_followed(husk, bundle, tmp):
    """The rootfs's /dev/console is a symlink to a host-looking path: the pty
    must not be bind-mounted onto whatever it names."""
    victim_dir = os.path.join(tmp, "victim")
    os.makedirs(victim_dir)
    victim = os.path.join(victim_dir, "file")
    with open(victim, "w") as f:
        f.write("HOST")
    before = snapshot(victim_dir)
    b = bundle(args=probe("stat /dev/console"), patch={"process": {"terminal": True}})
    own_dev_with_symlink(b, "/dev/console", victim)
    path, listener = console_listener(tmp)
    try:
        r = husk.create("c1", b, "--console-socket", path)
        if r.rc == 0:
            husk.start_ok("c1")
            husk.wait_status("c1", "stopped")
    finally:
        listener.close()
    if r.rc != 0:
        assert "/dev/console" in r.err, r
    assert snapshot(victim_dir) == before
    assert not [m for m in host_mount_points() if m.startswith(victim_dir)]
    husk.delete("c1", force=True)
    assert husk.nothing_left() == []


def test_cve_2025_52881_no_mounts_over_proc_sys_before_sysctl(husk, bundle):
    """A tmpfs over /proc/sys would turn the sysctl writes into writes to
    files the container controls (or, redirected, to anything)."""
    b = bundle(args=probe("exit 0"),
               patch={"linux": {"sysctl": {"kernel.domainname": "ctr.example"}}})
    b.config["mounts"].append({"destination": "/proc/sys", "type": "tmpfs", "source": "tmpfs"})
    b.write()
    host_domain = h.read_text("/proc/sys/kernel/domainname")
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert f"mounts[{len(b.config['mounts']) - 1}].destination" in r.err, r
    assert "/proc" in r.err, r
    assert h.read_text("/proc/sys/kernel/domainname") == host_domain
    assert husk.nothing_left() == []


def test_cve_2025_52881_mount_through_symlink_into_proc_is_refused(husk, bundle):
    """/data -> /proc/sys in the rootfs: a tmpfs on /data would land inside
    the container's procfs."""
    b = bundle(args=probe("exit 0"), patch={"root": {"readonly": False},
                                            "linux": {"sysctl": {"kernel.domainname": "x.y"}}})
    os.symlink("/proc/sys", b.host_path("/data"))
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs"})
    b.write()
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert "resolves inside /proc" in r.err or "inside /proc" in r.err, r
    assert husk.nothing_left() == []


def test_cve_2025_52881_sysctl_not_written_through_a_bind_over_proc(husk, bundle, tmp):
    """/proc/sys/kernel/ns_last_pid is one of the binds engines may place in
    /proc: a sysctl of that name must not write the bound host file."""
    fake = os.path.join(tmp, "ns_last_pid")
    with open(fake, "w") as f:
        f.write("HOST-FILE\n")
    before = snapshot(fake)
    b = bundle(args=probe("exit 0"),
               patch={"linux": {"sysctl": {"kernel.ns_last_pid": "4242"}}})
    b.config["mounts"].append({"destination": "/proc/sys/kernel/ns_last_pid", "type": "bind",
                               "source": fake, "options": ["bind", "rw"]})
    b.write()
    r = husk.run("c1", b)
    assert snapshot(fake) == before
    if r.rc != 0:
        assert "linux.sysctl" in r.err and "ns_last_pid" in r.err, r
    assert husk.nothing_left() == []


def test_cve_2025_52881_sysctl_ignores_a_fake_procfs_in_the_rootfs(husk, bundle):
    """No procfs is mounted; the rootfs's /proc is a plain tree with a fake
    sys/kernel/domainname. The sysctl must reach the container's real UTS
    namespace, not that file, and not the host's."""
    host_domain = h.read_text("/proc/sys/kernel/domainname")
    b = bundle(args=probe("domainname"),
               patch={"linux": {"sysctl": {"kernel.domainname": "ctr.example"}}})
    drop_mount(b, "/proc")
    b.config["linux"]["maskedPaths"] = []
    b.config["linux"]["readonlyPaths"] = []
    fake = b.host_path("/proc/sys/kernel/domainname")
    os.makedirs(os.path.dirname(fake))
    with open(fake, "w") as f:
        f.write("FAKE\n")
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out == "ctr.example\n"
    assert h.read_text(fake) == "FAKE\n"
    assert h.read_text("/proc/sys/kernel/domainname") == host_domain
    assert husk.nothing_left() == []


def test_cve_2025_52881_start_gate_not_redirected_by_a_fake_proc(husk, bundle):
    """No procfs is mounted and the rootfs's /proc/self/fd/N are plain files.
    The init reopens exec.fifo after pivot_root to wait for `start`: through
    that fake tree it would find a file to write at once and run the
    container's program at create time (before the engine's network or
    hooks are in place)."""
    b = bundle(args=probe(["write", "/ran", "yes"]), patch={"root": {"readonly": False}})
    drop_mount(b, "/proc")
    b.config["linux"]["maskedPaths"] = []
    b.config["linux"]["readonlyPaths"] = []
    fd_dir = b.host_path("/proc/self/fd")
    os.makedirs(fd_dir)
    for n in range(3, 256):
        with open(os.path.join(fd_dir, str(n)), "w"):
            pass
    b.write()
    r = husk.create("c1", b)
    # husk reopens exec.fifo through a procfs of its own, made before
    # pivot_root, never through the container's /proc: create succeeds as with
    # a real /proc, and the gate holds until start.
    assert r.rc == 0 and r.err == "", r
    with pytest.raises(h.WaitTimeout):
        h.wait_for(lambda: os.path.exists(b.host_path("/ran")), timeout=2,
                   what="the program ran before start")
    assert husk.status("c1") == "created"
    # The init wrote its "0" to the real fifo, not into a fake fd file.
    assert {n: os.path.getsize(os.path.join(fd_dir, n)) for n in os.listdir(fd_dir)} == \
        {str(n): 0 for n in range(3, 256)}
    husk.start_ok("c1")
    # The program creates /ran and then writes to it: wait for it to stop
    # before reading, or the read can land between the two.
    husk.wait_status("c1", "stopped", timeout=30)
    assert h.read_text(b.host_path("/ran")) == "yes"
    assert husk.delete("c1").rc == 0
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2026-41579, crun CVE-2026-47766 / 88264 / 88265: rootfs-controlled /dev
# symlinks redirect device setup onto the host
# ===========================================================================

def test_cve_2026_41579_dev_is_a_symlink_to_a_host_directory(husk, bundle, tmp):
    """rootfs/dev -> <absolute host dir>: the /dev tmpfs, the device nodes and
    the /dev links all belong inside the rootfs."""
    host_dir = os.path.join(tmp, "hostdev")
    os.makedirs(host_dir)
    with open(os.path.join(host_dir, "keep"), "w") as f:
        f.write("x")
    before = snapshot(host_dir)
    b = bundle(args=probe("stat /dev/null", "readlink /dev/ptmx", "open /dev/null w"))
    replace_with_symlink(b.host_path("/dev"), host_dir)
    b.write()
    r = husk.run("c1", b)
    assert snapshot(host_dir) == before
    assert not [m for m in host_mount_points() if m.startswith(host_dir)]
    if r.rc == 0:
        lines = r.out.splitlines()
        st = h.parse_kv(lines[0])
        assert (st["type"], st["rdev"]) == ("chr", "1:3"), r
        assert lines[1] == "pts/ptmx" and lines[2] == "ok", r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("entry", ["null", "ptmx", "console", "tty", "pts", "shm", "fd"])
def test_dev_entry_symlinked_to_a_host_file(husk, bundle, tmp, entry):
    """The rootfs brings its own /dev (no tmpfs) and one entry is a symlink to
    an absolute host path. Neither the host file nor its directory may change
    (contents, mtime, new entries, mounts)."""
    victim_dir = os.path.join(tmp, "victim")
    os.makedirs(victim_dir)
    victim = os.path.join(victim_dir, "file")
    with open(victim, "w") as f:
        f.write("HOST")
    os.chmod(victim, 0o600)
    before = snapshot(victim_dir)
    b = bundle(args=probe("stat /dev/null", "stat /dev/tty"),
               patch={"process": {"terminal": entry == "console"}})
    drop_mount(b, "/dev")
    for sub in ("/dev/pts", "/dev/shm", "/dev/mqueue"):
        os.makedirs(b.host_path(sub), exist_ok=True)
    replace_with_symlink(b.host_path(f"/dev/{entry}"),
                         victim_dir if entry in ("pts", "shm", "fd") else victim)
    b.write()
    listener = None
    flags = []
    if entry == "console":
        path, listener = console_listener(tmp)
        flags = ["--console-socket", path]
    try:
        r = husk.create("c1", b, *flags)
        if r.rc == 0:
            husk.start_ok("c1")
            husk.wait_status("c1", "stopped")
    finally:
        if listener:
            listener.close()
    assert snapshot(victim_dir) == before
    assert not [m for m in host_mount_points() if m.startswith(victim_dir)]
    husk.delete("c1", force=True)
    assert husk.nothing_left() == []


def test_dev_ptmx_symlink_replaced_by_containers_own(husk, bundle, tmp):
    """With the rootfs's own /dev, /dev/ptmx pointing at a host file is
    replaced by the link to the container's devpts, and the host file stays."""
    victim = os.path.join(tmp, "ptmx-victim")
    with open(victim, "w") as f:
        f.write("HOST")
    before = snapshot(victim)
    b = bundle(args=probe("readlink /dev/ptmx", "open /dev/ptmx rw"),
               patch={"root": {"readonly": False}})
    own_dev_with_symlink(b, "/dev/ptmx", victim)
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out == "pts/ptmx\nok\n"
    assert snapshot(victim) == before
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2021-30465: mount destinations resolved (or swapped) through symlinks
# ===========================================================================

@pytest.mark.parametrize("link", ["/etc", "../../../../../../../../etc"])
def test_cve_2021_30465_destination_symlink_resolved_in_rootfs(husk, bundle, link):
    """rootfs/mnt/x -> /etc: a tmpfs for /mnt/x lands on the container's /etc,
    never the host's."""
    host_etc = snapshot("/etc/hostname")
    mounts_before = host_mount_points()
    b = bundle(args=probe("mountinfo"), patch={"root": {"readonly": False}})
    os.makedirs(b.host_path("/mnt"), exist_ok=True)
    os.symlink(link, b.host_path("/mnt/x"))
    b.config["mounts"].append({"destination": "/mnt/x", "type": "tmpfs", "source": "tmpfs",
                               "options": ["size=1m"]})
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert container_mounts(r.out)["/etc"]["fstype"] == "tmpfs"
    assert host_mount_points() - mounts_before == set()
    assert "/etc" not in host_mount_points()
    assert snapshot("/etc/hostname") == host_etc
    assert husk.nothing_left() == []


def test_cve_2021_30465_bind_file_destination_symlink_to_host_file(husk, bundle, tmp):
    src = os.path.join(tmp, "src")
    with open(src, "w") as f:
        f.write("FROM-BIND\n")
    host_passwd = snapshot("/etc/passwd")
    b = bundle(args=probe("cat /etc/passwd"), patch={"root": {"readonly": False}})
    os.symlink("/etc/passwd", b.host_path("/evil"))
    b.config["mounts"].append({"destination": "/evil", "type": "bind", "source": src,
                               "options": ["bind", "ro"]})
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out == "FROM-BIND\n"
    assert snapshot("/etc/passwd") == host_passwd
    assert not [m for m in host_mount_points() if m.startswith("/etc")]
    assert husk.nothing_left() == []


def test_cve_2021_30465_destination_swapped_during_setup(husk, bundle, tmp):
    """The exchange race: while containers start, a thread keeps swapping a
    mount destination between a directory and a symlink to a host directory
    (as a shared volume would let another container do). Whatever the
    timing, nothing is ever mounted on or created in the host directory."""
    target = os.path.join(tmp, "host-target")
    os.makedirs(target)
    before = snapshot(target)
    b = bundle(args=probe("exit 0"), patch={"root": {"readonly": False}})
    vol = b.host_path("/vol")
    os.makedirs(vol)
    b.config["mounts"].append({"destination": "/vol/d", "type": "tmpfs", "source": "tmpfs",
                               "options": ["size=1m"]})
    b.write()
    stop = threading.Event()

    def swapper():
        d, lnk = os.path.join(vol, "d"), os.path.join(vol, "d.lnk")
        while not stop.is_set():
            try:
                os.makedirs(d, exist_ok=True)
                if not os.path.lexists(lnk):
                    os.symlink(target, lnk)
                os.rename(lnk, d + ".tmp")
                os.rename(d, lnk + ".dir")
                os.rename(d + ".tmp", d)       # d is now the symlink
                os.rename(d, lnk)
                os.rename(lnk + ".dir", d)     # d is a directory again
            except OSError:
                pass

    t = threading.Thread(target=swapper, daemon=True)
    t.start()
    try:
        for i in range(15):
            husk.run(f"c{i}", b, timeout=60)
            assert not [m for m in host_mount_points() if m.startswith(target)]
    finally:
        stop.set()
        t.join()
    assert snapshot(target) == before
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2024-45310: mkdir for mount points created files/dirs on the host
# ===========================================================================

@pytest.mark.parametrize("kind", ["tmpfs", "bind-dir", "bind-file"])
@pytest.mark.parametrize("style", ["dotdot", "absolute-link", "relative-link"])
def test_cve_2024_45310_mountpoint_creation_stays_in_rootfs(husk, bundle, tmp, kind, style):
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    before = snapshot(outside)
    src_dir = os.path.join(tmp, "srcdir")
    os.makedirs(src_dir)
    src_file = os.path.join(tmp, "srcfile")
    with open(src_file, "w") as f:
        f.write("s")
    b = bundle(args=probe("exit 0"), patch={"root": {"readonly": False}})
    if style == "dotdot":
        dest = "/" + "/".join([".."] * 20) + outside + "/new/deeper"
    else:
        link = outside if style == "absolute-link" else "/".join([".."] * 20) + outside
        os.symlink(link, b.host_path("/out"))
        dest = "/out/new/deeper"
    if kind == "tmpfs":
        m = {"destination": dest, "type": "tmpfs", "source": "tmpfs"}
    else:
        m = {"destination": dest, "type": "bind", "options": ["bind"],
             "source": src_dir if kind == "bind-dir" else src_file}
    b.config["mounts"].append(m)
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert snapshot(outside) == before
    assert not os.path.exists(os.path.join(outside, "new"))
    # It went where the path means inside the rootfs.
    assert os.path.lexists(b.host_path(outside.lstrip("/") + "/new/deeper"))
    assert husk.nothing_left() == []


def test_cve_2024_45310_cwd_and_device_creation_stay_in_rootfs(husk, bundle, tmp):
    outside = os.path.join(tmp, "outside")
    os.makedirs(outside)
    before = snapshot(outside)
    b = bundle(args=probe("cwd"), patch={"root": {"readonly": False}})
    os.symlink(outside, b.host_path("/work"))
    b.config["process"]["cwd"] = "/work/sub"
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    # The link resolved inside the container: getcwd names where it led.
    assert r.out == outside + "/sub\n"
    assert snapshot(outside) == before
    assert os.path.isdir(b.host_path(outside.lstrip("/") + "/sub"))
    # A device whose directory in the rootfs's own /dev points outward.
    b2 = bundle(args=probe("stat /dev/net/tun"), patch={"root": {"readonly": False}})
    drop_mount(b2, "/dev")
    for sub in ("/dev/pts", "/dev/shm", "/dev/mqueue"):
        os.makedirs(b2.host_path(sub), exist_ok=True)
    os.symlink(outside, b2.host_path("/dev/net"))
    b2.config["linux"]["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10,
                                      "minor": 200, "fileMode": 0o666}]
    b2.write()
    r = husk.run("c2", b2)
    assert r.rc == 0, r
    assert h.parse_kv(r.out)["rdev"] == "10:200", r
    assert snapshot(outside) == before
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2022-29162 / crun CVE-2022-27650: non-empty inheritable capabilities
# ===========================================================================

def caps_of(out):
    return {k: int(v, 16) for k, v in h.parse_kv(out).items()}


def test_cve_2022_29162_inheritable_empty_unless_asked(husk, bundle):
    names = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"]
    b = bundle(args=probe("caps"), patch={"process": {"capabilities": {
        "bounding": names, "effective": names, "permitted": names}}})
    b.config["process"]["capabilities"].pop("inheritable", None)
    b.config["process"]["capabilities"].pop("ambient", None)
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    c = caps_of(r.out)
    assert c["inh"] == 0 and c["amb"] == 0, r
    assert c["prm"] == h.caps_mask(names)


def test_cve_2022_29162_inheritable_only_what_was_asked(husk, bundle):
    names = ["CAP_CHOWN", "CAP_KILL"]
    b = bundle(args=probe("caps"), patch={"process": {"capabilities": {
        "bounding": names, "effective": names, "permitted": names,
        "inheritable": ["CAP_KILL"]}}})
    r = husk.run("c1", b)
    assert r.rc == 0, r
    c = caps_of(r.out)
    assert c["inh"] == h.caps_mask(["CAP_KILL"]) and c["amb"] == 0, r


def test_cve_2022_29162_exec_cap_leaves_inheritable_empty(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk("exec", "--cap", "CAP_SYS_ADMIN", "c1", "/probe", "caps")
    assert r.rc == 0, r
    c = caps_of(r.out)
    assert c["inh"] == 0 and c["amb"] == 0, r
    assert c["eff"] & h.caps_mask(["CAP_SYS_ADMIN"]), r
    r = husk("exec", "c1", "/probe", "caps")
    assert r.rc == 0, r
    assert caps_of(r.out)["inh"] == 0, r


# ===========================================================================
# CVE-2023-27561 / CVE-2023-28642 (CVE-2019-19921 again): /proc a symlink
# ===========================================================================

@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_cve_2023_27561_proc_symlink_never_mounts_procfs_on_the_host(husk, bundle, tmp, style):
    host_dir = os.path.join(tmp, "host-proc-target")
    os.makedirs(host_dir)
    before = snapshot(host_dir)
    host_domain = h.read_text("/proc/sys/kernel/domainname")
    b = bundle(args=probe("domainname", "stat /proc/self"),
               patch={"linux": {"sysctl": {"kernel.domainname": "ctr.example"}}})
    link = host_dir if style == "absolute" else "/".join([".."] * 20) + host_dir
    replace_with_symlink(b.host_path("/proc"), link)
    b.write()
    r = husk.run("c1", b)
    assert snapshot(host_dir) == before
    assert not [m for m in host_mount_points() if m.startswith(host_dir)]
    assert h.read_text("/proc/sys/kernel/domainname") == host_domain
    assert r.rc != 0 and ORDINARY_DIR.format("proc") in r.err, r
    assert husk.nothing_left() == []


def test_cve_2023_28642_proc_symlink_to_a_tmpfs_volume(husk, bundle):
    """The variant: /proc -> a directory that a later mount covers with a
    tmpfs, so /proc/... writes done after mounting land in a fake tree."""
    host_domain = h.read_text("/proc/sys/kernel/domainname")
    b = bundle(args=probe("domainname", "hostname"),
               patch={"root": {"readonly": False},
                      "linux": {"sysctl": {"kernel.domainname": "ctr.example"}}})
    os.makedirs(b.host_path("/vol"))
    replace_with_symlink(b.host_path("/proc"), "/vol")
    b.config["mounts"].append({"destination": "/vol", "type": "tmpfs", "source": "tmpfs"})
    b.write()
    r = husk.run("c1", b)
    assert h.read_text("/proc/sys/kernel/domainname") == host_domain
    assert r.rc != 0 and ORDINARY_DIR.format("proc") in r.err, r
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2019-16884: /proc (or /sys) a symlink inside the rootfs
# ===========================================================================

ORDINARY_DIR = 'filesystem "{}" must be mounted on ordinary directory'


@pytest.mark.parametrize("fstype,dest", [("proc", "/proc"), ("sysfs", "/sys")])
@pytest.mark.parametrize("entry", ["symlink-to-dir", "file"])
def test_cve_2019_16884_proc_and_sys_only_on_an_ordinary_directory(husk, bundle, fstype, dest,
                                                                    entry):
    """A procfs or sysfs mounted through a link the image chose lands where
    the LSM profile and masked paths (written for /proc) do not look; runc
    refuses ("must be mounted on ordinary directory"), so does husk, even when
    the link stays inside the rootfs."""
    b = bundle()
    os.makedirs(b.host_path("/fake"))
    if entry == "symlink-to-dir":
        replace_with_symlink(b.host_path(dest), "/fake")
    else:
        shutil.rmtree(b.host_path(dest))
        with open(b.host_path(dest), "w"):
            pass
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert ORDINARY_DIR.format(fstype) in r.err, r
    assert os.listdir(b.host_path("/fake")) == []
    assert not [m for m in host_mount_points() if m.startswith(b.rootfs)]
    assert husk.nothing_left() == []


# ===========================================================================
# CVE-2023-25809: rootless /sys/fs/cgroup writable
# ===========================================================================

def userns_bundle(bundle, args, sysfs_as="rbind"):
    """A user-namespaced container without its own network namespace (what
    `spec --rootless` produces), owned by an unprivileged host range."""
    b = bundle(args=args)
    lnx = b.config["linux"]
    lnx["namespaces"] = [ns for ns in lnx["namespaces"] if ns["type"] != "network"]
    lnx["namespaces"].append({"type": "user"})
    lnx["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    lnx["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    drop_mount(b, "/sys")
    i = [m["destination"] for m in b.config["mounts"]].index("/sys/fs/cgroup")
    if sysfs_as == "rbind":
        sys_mount = {"destination": "/sys", "type": "none", "source": "/sys",
                     "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]}
    else:
        sys_mount = {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                     "options": ["nosuid", "noexec", "nodev", "ro"]}
    b.config["mounts"].insert(i, sys_mount)
    for m in b.config["mounts"]:
        m["options"] = [o for o in m.get("options", [])
                        if not o.startswith(("uid=", "gid="))]
    subprocess.run(["chown", "-R", "200000:200000", b.rootfs], check=True)
    return b.write()


@pytest.mark.parametrize("sysfs_as", ["rbind", "sysfs"])
def test_cve_2023_25809_userns_sees_no_writable_host_cgroup(husk, bundle, sysfs_as):
    b = userns_bundle(bundle, probe("mountinfo"), sysfs_as)
    r = husk.run("c1", b)
    assert r.rc == 0, r
    mounts = h.parse_mountinfo(r.out)
    under_sys = [m for m in mounts
                 if m["mount_point"] == "/sys" or m["mount_point"].startswith("/sys/")]
    assert under_sys, r
    writable = [m["mount_point"] for m in under_sys if "ro" not in m["options"]]
    assert writable == [], writable
    assert husk.nothing_left() == []


def test_cve_2023_25809_rootless_flag_is_handled_explicitly(husk, bundle):
    """--rootless true as root: either honoured (and then no writable host
    cgroup is exposed) or refused with an error naming the flag."""
    b = bundle(args=probe("mountinfo"))
    r = husk("--rootless", "true", "run", "--bundle", b.path, "c1")
    if r.rc == 0:
        writable = [m["mount_point"] for m in h.parse_mountinfo(r.out)
                    if m["mount_point"].startswith("/sys/fs/cgroup")
                    and "ro" not in m["options"]]
        assert writable == [], r
    else:
        assert "rootless" in r.err, r
    assert husk.nothing_left() == []


# ===========================================================================
# crun CVE-2026-30892: `exec -u` user parsing
# ===========================================================================

@pytest.mark.parametrize("user", ["1000:abc", "-1", "0:0:0", "abc", "99999999999999999999",
                                  "4294967295", "1000:-1", ":", "1000:", ":1000", " 0", "0 "])
def test_crun_cve_2026_30892_malformed_exec_user_rejected(husk, bundle, user):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk("exec", "--user", user, "c1", "/probe", "id")
    assert r.rc != 0, r
    assert "uid=" not in r.out, r
    assert "user" in r.err, r


@pytest.mark.parametrize("field", ["uid", "gid", "additionalGids"])
def test_crun_cve_2026_30892_user_id_minus_one_rejected(husk, bundle, field):
    """4294967295 is (uid_t)-1, which set*id(2) reads as "unchanged": the
    process would keep the init's root identity."""
    b = bundle(args=probe("id"))
    b.config["process"]["user"] = {"uid": 1000, "gid": 1000}
    b.config["process"]["user"][field] = [4294967295] if field == "additionalGids" \
        else 4294967295
    b.write()
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert "uid=0" not in r.out, r
    assert f"process.user.{field}" in r.err, r
    assert husk.nothing_left() == []


def test_crun_cve_2026_30892_wellformed_exec_user(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk("exec", "--user", "1000:1001", "c1", "/probe", "id")
    assert r.rc == 0, r
    assert r.out.startswith("uid=1000 gid=1001"), r


# ===========================================================================
# CVE-2025-24965 (crun/krun): writes on the container's behalf via host paths
# ===========================================================================

def test_cve_2025_24965_hostname_and_sysctl_stay_in_the_container(husk, bundle):
    host = (os.uname().nodename, h.read_text("/proc/sys/kernel/domainname"),
            h.read_text("/proc/sys/kernel/msgmax"))
    b = bundle(args=probe("hostname", "domainname", "sysctl kernel.msgmax"),
               patch={"hostname": "ctr-host", "domainname": "ctr-domain",
                      "linux": {"sysctl": {"kernel.msgmax": "31337"}}})
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out == "ctr-host\nctr-domain\n31337\n"
    assert (os.uname().nodename, h.read_text("/proc/sys/kernel/domainname"),
            h.read_text("/proc/sys/kernel/msgmax")) == host


def test_cve_2025_24965_sysctl_path_cannot_escape_procfs(husk, bundle):
    for name in ("../../etc/passwd", "kernel/../../../etc/passwd", "/etc/passwd"):
        b = bundle(args=probe("exit 0"), patch={"linux": {"sysctl": {name: "x"}}})
        before = snapshot("/etc/passwd")
        r = husk.run("c1", b)
        assert r.rc != 0, r
        assert "linux.sysctl" in r.err, r
        assert snapshot("/etc/passwd") == before
    assert husk.nothing_left() == []


# ===========================================================================
# runc#4534: SIGKILL of `create` at any point, then `delete --force`
# ===========================================================================

def hook(marker, seconds=30):
    """A hook that records its pid in marker, then waits."""
    return {"path": "/bin/sh", "args": ["sh", "-c", f"echo $$ > {marker}; exec sleep {seconds}"]}


def kill_pid_file(path):
    try:
        os.kill(int(h.read_text(path).strip()), signal.SIGKILL)
    except (OSError, ValueError):
        pass


def assert_force_delete_cleans(husk, cid="c1"):
    r = husk.delete(cid, force=True, timeout=60)
    assert r.rc == 0, r
    h.reap_orphans()
    assert husk.status(cid) is None
    assert husk.nothing_left(grace=5) == []


@pytest.mark.parametrize("delay_ms", [0, 2, 5, 10, 20, 40, 80, 150, 300])
def test_runc_4534_sigkill_create_after_delay(husk, bundle, delay_ms):
    b = bundle(args=probe("sleep 100"))
    p = husk.spawn("create", "--bundle", b.path, "c1")
    time.sleep(delay_ms / 1000)
    p.popen.kill()
    p.popen.wait()
    assert_force_delete_cleans(husk)


@pytest.mark.parametrize("kind", ["createRuntime", "prestart", "createContainer"])
def test_runc_4534_sigkill_create_during_hook(husk, bundle, tmp, kind):
    marker = os.path.join(tmp, "hook.pid")
    b = bundle(args=probe("sleep 100"))
    if kind == "createContainer":
        # Runs in the container's mount namespace: the marker must be
        # reachable there too.
        b.config["mounts"].append({"destination": tmp, "type": "bind", "source": tmp,
                                   "options": ["rbind", "rw"]})
    b.config["hooks"] = {kind: [hook(marker)]}
    b.write()
    p = husk.spawn("create", "--bundle", b.path, "c1")
    try:
        h.wait_for(lambda: h.read_text(marker, "").strip(), timeout=20, what="hook started")
        p.popen.kill()
        p.popen.wait()
        assert_force_delete_cleans(husk)
    finally:
        kill_pid_file(marker)
        h.reap_orphans()


def test_runc_4534_sigkill_create_after_created(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    pid = husk.state("c1")["pid"]
    assert_force_delete_cleans(husk)
    assert not h.alive(pid)


# ===========================================================================
# runc#5208: run/exec hung when the process exited immediately
# ===========================================================================

def test_runc_5208_run_of_short_lived_process_never_hangs(husk, bundle):
    b = bundle(args=["/bin/true"])
    for i in range(50):
        r = husk.run(f"t{i}", b, timeout=30)
        assert r.rc == 0, r
        r = husk.delete(f"t{i}")
        assert r.rc == 0 or "does not exist" in r.err, r
    assert husk.nothing_left() == []


def test_runc_5208_exec_of_short_lived_process_never_hangs(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    for _ in range(50):
        r = husk("exec", "c1", "/bin/true", timeout=30)
        assert r.rc == 0, r


# ===========================================================================
# crun#1200 (pid reuse): never signal a stranger that inherited the pid
# ===========================================================================

def fake_pid(husk, cid, pid):
    path = os.path.join(husk.root, cid, "state.json")
    with open(path) as f:
        record = json.load(f)
    record["pid"] = pid  # pidStartTime stays the dead init's
    with open(path, "w") as f:
        json.dump(record, f)


def test_crun_1200_delete_force_spares_a_process_that_reused_the_pid(husk, bundle):
    b = bundle(args=probe("exit 0"))
    r = husk.run("c1", b, "--detach")
    assert r.rc == 0, r
    husk.wait_status("c1", "stopped")
    stranger = subprocess.Popen(["sleep", "100"], env=husk.ctx.env())
    try:
        fake_pid(husk, "c1", stranger.pid)
        assert husk.status("c1") == "stopped"
        husk.kill("c1", "KILL", all=True)
        husk.kill("c1", "KILL")
        r = husk.delete("c1", force=True)
        assert r.rc == 0, r
        time.sleep(0.2)
        assert stranger.poll() is None, "delete --force killed an unrelated process"
        assert husk.status("c1") is None
    finally:
        stranger.kill()
        stranger.wait()
    assert husk.nothing_left() == []


def test_crun_1200_running_container_with_reused_pid_record(husk, bundle):
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    stranger = subprocess.Popen(["sleep", "100"], env=husk.ctx.env())
    try:
        fake_pid(husk, "c1", stranger.pid)
        r = husk.delete("c1", force=True)
        assert r.rc == 0, r
        time.sleep(0.2)
        assert stranger.poll() is None, "delete --force killed an unrelated process"
    finally:
        stranger.kill()
        stranger.wait()
    assert husk.nothing_left() == []


# ===========================================================================
# crun#868: delete --force spun forever on a process that would not die
# ===========================================================================

@h.requires("v1:freezer")  # frozen tasks ignore SIGKILL
def test_crun_868_delete_force_is_bounded_on_an_unkillable_process(husk, bundle):
    """A v1-frozen task does not die on SIGKILL until thawed: the closest
    test stand-in for a process stuck in D state. delete --force must come
    back in bounded time; husk thaws the sub-cgroups frozen below the
    container's after its SIGKILL (a frozen task holds the pid namespace's
    init forever otherwise), so it succeeds and leaves nothing."""
    b = bundle(args=probe("sleep 100"))
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    pid = husk.state("c1")["pid"]
    cg = f"{h.CGROUP_ROOT}/freezer{b.cgroup_path}"
    sub = os.path.join(cg, "stuck")
    os.mkdir(sub)
    try:
        with open(os.path.join(sub, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        with open(os.path.join(sub, "freezer.state"), "w") as f:
            f.write("FROZEN")
        h.wait_for(lambda: h.read_text(os.path.join(sub, "freezer.state")).strip() == "FROZEN",
                   timeout=10)
        start = time.monotonic()
        r = husk.delete("c1", force=True, timeout=120)
        took = time.monotonic() - start
        assert r.rc == 0, r
        assert took < 90
    finally:
        if os.path.isdir(sub):
            try:
                with open(os.path.join(sub, "freezer.state"), "w") as f:
                    f.write("THAWED")
            except OSError:
                pass
    assert not os.path.isdir(sub)
    assert not h.alive(pid)
    assert husk.nothing_left() == []


# ===========================================================================
# anchors #19: the default device allow-list (tun/tap must stay allowed)
# ===========================================================================

# runc's libcontainer/specconv AllowedDevices (rwm unless noted), plus a node
# outside it that must stay denied.
RUNC_DEFAULT_ALLOWED = [("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
                        ("urandom", 1, 9), ("tty", 5, 0), ("ptmx", 5, 2), ("pts0", 136, 0),
                        ("tun", 10, 200)]


@h.requires("tun")
def test_default_device_allow_list_matches_runc(husk, bundle):
    script = ["mkdir -p /tmp/d"]
    for name, major, minor in RUNC_DEFAULT_ALLOWED + [("mem", 1, 1), ("sda", 8, 0)]:
        kind = "b" if name == "sda" else "c"
        script.append(f"mknod /tmp/d/{name} {kind} {major} {minor} && "
                      f"echo {name} $(/probe open /tmp/d/{name} r)")
    b = bundle(args=sh("; ".join(script)),
               patch={"root": {"readonly": False}, "process": {"capabilities": {
                   "bounding": ["CAP_MKNOD"], "effective": ["CAP_MKNOD"],
                   "permitted": ["CAP_MKNOD"]}}})
    b.config["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                               "options": ["mode=1777"]})
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    got = dict(ln.split(" ", 1) for ln in r.out.splitlines())
    # The cgroup decides EPERM; anything else (ENXIO, EIO, ok) got through it.
    for name, _, _ in RUNC_DEFAULT_ALLOWED:
        assert got.get(name) not in (None, "errno=EPERM"), (name, r)
    assert got.get("mem") == "errno=EPERM", r
    assert got.get("sda") == "errno=EPERM", r


@h.requires("tun")
def test_dev_net_tun_usable_when_listed(husk, bundle):
    b = bundle(args=probe("stat /dev/net/tun", "open /dev/net/tun rw"))
    b.config["linux"]["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10,
                                     "minor": 200, "fileMode": 0o666}]
    b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert h.parse_kv(lines[0])["rdev"] == "10:200", r
    assert lines[1] == "ok", r


# ===========================================================================
# anchors #21: containers inherited the runtime's CPU affinity
# ===========================================================================

def parse_cpus(text):
    out = set()
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def container_cpuset(b):
    for p in (f"{h.CGROUP_ROOT}/cpuset{b.cgroup_path}/cpuset.effective_cpus",
              f"{h.CGROUP_ROOT}/cpuset{b.cgroup_path}/cpuset.cpus",
              f"{h.CGROUP_ROOT}{b.cgroup_path}/cpuset.cpus.effective"):
        if os.path.exists(p) and h.read_text(p).strip():
            return parse_cpus(h.read_text(p))
    return parse_cpus(h.read_text("/sys/devices/system/cpu/online"))


@h.requires("2-cpus")
def test_affinity_is_reset_to_the_containers_cpuset(husk, bundle):
    b = bundle(args=sh("grep Cpus_allowed_list /proc/self/status; sleep 100"))
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(saved)})  # as `taskset -c 0 husk ...`
    try:
        r = husk.create("c1", b)
    finally:
        os.sched_setaffinity(0, saved)
    assert r.rc == 0, r
    husk.start_ok("c1")
    pid = husk.state("c1")["pid"]
    expected = container_cpuset(b)
    assert len(expected) >= 2
    allowed = os.sched_getaffinity(pid)
    assert allowed == expected, (allowed, expected)
    husk.delete("c1", force=True)
