"""Plain helpers for the integration tests: no pytest fixtures here (those live
in conftest.py), only functions that look at the host (mounts, cgroups,
processes) or reshape data. Importable from test files as `import helpers`."""

import ctypes
import errno
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time

SOURCE_DIR = os.environ.get("HUSK_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUSK_BIN = os.environ.get("HUSK_BIN") or os.path.join(SOURCE_DIR, "build", "husk")
HUSK_PROBE = os.environ.get("HUSK_PROBE") or os.path.join(SOURCE_DIR, "build", "husk-probe")

# Every process the tests start (husk invocations and container processes)
# carries MARK_VAR=<TAG>.<test index> in its environment, so that leftovers can
# be found in /proc whatever namespace they live in.
MARK_VAR = "HUSK_TEST_PROC"
TAG = re.sub(r"[^A-Za-z0-9_]", "", os.environ.get("HUSK_TEST_TAG", "")) or f"t{os.getpid()}"

# Container cgroups: linux.cgroupsPath = /husk-test/<TAG>-<test>-<bundle>,
# relative to each hierarchy's root.
CGROUP_PARENT = "husk-test"
CGROUP_ROOT = "/sys/fs/cgroup"


class WaitTimeout(AssertionError):
    pass


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_text(path, default=None):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        if default is not None:
            return default
        raise


def wait_file_contains(path, text, timeout=10.0):
    return wait_for(lambda: text in read_text(path, ""), timeout,
                    what=f"{text!r} in {path}")


def deep_merge(base, patch):
    """Merge patch into base (in place) and return base. Dicts merge
    recursively; any other value replaces; None deletes the key."""
    for k, v in patch.items():
        if v is None:
            base.pop(k, None)
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = json.loads(json.dumps(v))
    return base


# ---- mounts ---------------------------------------------------------------

def _unescape_mount_path(p):
    # proc(5): space, tab, newline and backslash are escaped as \ooo.
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), p)


def parse_mountinfo(text):
    """[{mount_point, root, fstype, source, options, super_options, optional}]"""
    out = []
    for line in text.splitlines():
        pre, _, post = line.partition(" - ")
        f = pre.split()
        g = post.split()
        if len(f) < 6 or len(g) < 2:
            continue
        out.append({
            "id": int(f[0]), "parent": int(f[1]), "dev": f[2],
            "root": _unescape_mount_path(f[3]),
            "mount_point": _unescape_mount_path(f[4]),
            "options": f[5].split(","),
            "optional": f[6:],
            "fstype": g[0],
            "source": _unescape_mount_path(g[1]),
            "super_options": g[2].split(",") if len(g) > 2 else [],
        })
    return out


def host_mounts():
    return parse_mountinfo(read_text("/proc/self/mountinfo"))


def mounts_under(prefix):
    prefix = prefix.rstrip("/")
    return [m["mount_point"] for m in host_mounts()
            if m["mount_point"] == prefix or m["mount_point"].startswith(prefix + "/")]


def unmount_all_under(prefix):
    """Detach every host mount under prefix, deepest first (cleanup only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    for mp in sorted(set(mounts_under(prefix)), key=len, reverse=True):
        libc.umount2(mp.encode(), mnt_detach)


# ---- cgroups --------------------------------------------------------------

def cgroup_name(test_index, bundle_index):
    return f"{TAG}-{test_index}-{bundle_index}"


def host_is_cgroup2():
    """/sys/fs/cgroup is itself a cgroup2 mount (a v2-only host), the test
    runc makes for its example spec's cgroup namespace."""
    r = subprocess.run(["stat", "-f", "-c", "%T", CGROUP_ROOT], capture_output=True, text=True)
    return r.stdout.strip() == "cgroup2fs"


def hierarchy_dirs(rel):
    """rel's directory in every cgroup hierarchy husk places containers in
    (each v1 controller mount and the hybrid unified one, or the v2 root)."""
    if os.path.exists(f"{CGROUP_ROOT}/cgroup.controllers"):
        return [CGROUP_ROOT + rel]
    out = []
    for name in sorted(os.listdir(CGROUP_ROOT)):
        top = os.path.join(CGROUP_ROOT, name)
        if os.path.isdir(top) and not os.path.islink(top) and os.path.ismount(top):
            out.append(top + rel)
    return out


def cgroup_dirs(name_glob):
    """Directories named name_glob under husk-test/ in every hierarchy (v1
    controllers, the hybrid unified mount, or a pure v2 root), with their
    sub-cgroups."""
    pats = [f"{CGROUP_ROOT}/*/{CGROUP_PARENT}/{name_glob}",
            f"{CGROUP_ROOT}/{CGROUP_PARENT}/{name_glob}"]
    found = set()
    for pat in pats:
        for d in glob.glob(pat):
            # Hosts link controllers to their shared hierarchy (cpu ->
            # cpu,cpuacct; net_cls -> net_cls,net_prio): each directory once.
            top = os.path.join(CGROUP_ROOT, os.path.relpath(d, CGROUP_ROOT).split("/")[0])
            if not os.path.isdir(d) or os.path.islink(top):
                continue
            found.add(d)
            for root, dirs, _ in os.walk(d):
                found.update(os.path.join(root, x) for x in dirs)
    return sorted(found)


def cgroup_procs(path):
    try:
        return [int(x) for x in read_text(os.path.join(path, "cgroup.procs")).split()]
    except OSError:
        return []


def remove_cgroups(dirs, timeout=5.0):
    """rmdir cgroup dirs deepest first, killing what is still inside."""
    deadline = time.monotonic() + timeout
    for d in sorted(dirs, key=len, reverse=True):
        while os.path.isdir(d):
            for pid in cgroup_procs(d):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(d)
            except OSError as e:
                if e.errno == errno.ENOENT:
                    break
                if time.monotonic() > deadline:
                    break
                reap_orphans()
                time.sleep(0.05)


# ---- processes ------------------------------------------------------------

def _proc_field(pid, name):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return None


def proc_state(pid):
    stat = _proc_field(pid, "stat")
    if not stat:
        return None
    return stat[stat.rfind(b")") + 2:].split()[0].decode()


def proc_ppid(pid):
    stat = _proc_field(pid, "stat")
    if not stat:
        return None
    return int(stat[stat.rfind(b")") + 2:].split()[1])


def alive(pid):
    s = proc_state(pid)
    return s is not None and s not in ("Z", "X")


def marked_pids(value=None, prefix=None):
    """Live (non-zombie) processes whose environment has MARK_VAR=value, or
    MARK_VAR=<prefix>... -> [(pid, description)]."""
    out = []
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        env = _proc_field(d, "environ")
        if not env:
            continue
        for var in env.split(b"\0"):
            if not var.startswith(MARK_VAR.encode() + b"="):
                continue
            v = var.split(b"=", 1)[1].decode(errors="replace")
            if (value is not None and v == value) or (prefix is not None and v.startswith(prefix)):
                if alive(int(d)):
                    cmd = (_proc_field(d, "cmdline") or b"").replace(b"\0", b" ").decode(
                        errors="replace").strip()
                    out.append((int(d), f"pid {d} ({cmd or '?'})"))
            break
    return out


def kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def set_child_subreaper():
    """Become a subreaper (prctl(2) PR_SET_CHILD_SUBREAPER), as conmon and
    containerd's shim are: detached container processes are reparented to us
    instead of the host's init, and we reap them."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_child_subreaper = 36
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans(exclude=()):
    """Reap our zombie children that no subprocess.Popen is waiting for."""
    me = os.getpid()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        if pid in exclude or proc_ppid(pid) != me or proc_state(pid) != "Z":
            continue
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


# ---- probe ------------------------------------------------------------------

def probe(*cmds):
    """process.args running the probe, one command per argument: a string is
    split on whitespace, a list is taken as is (for arguments with spaces).
    probe("id", "cat /x", ["write", "/f", "a b"]) ->
    ["/probe", "id", ";", "cat", "/x", ";", "write", "/f", "a b"]."""
    args = ["/probe"]
    for i, c in enumerate(cmds):
        if i:
            args.append(";")
        args += c.split() if isinstance(c, str) else list(c)
    return args


# ---- probe output -----------------------------------------------------------

def parse_kv(line):
    """'a=1 b=x' -> {'a': '1', 'b': 'x'}"""
    return dict(tok.split("=", 1) for tok in line.split() if "=" in tok)


# The 41 capabilities of Linux 6.x, by bit number (capabilities(7)).
CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"]


def caps_mask(names):
    m = 0
    for n in names:
        m |= 1 << CAPS.index(n)
    return m


def caps_names(mask):
    return sorted(CAPS[i] for i in range(len(CAPS)) if mask >> i & 1)


CAPSH = shutil.which("capsh")


def without_cap(cap):
    """A `wrapper` for Husk.spawn: husk starts with `cap` dropped from its
    bounding set (capsh, libcap2-bin), as under an engine or sandbox that
    withholds it. capsh runs bash -c; husk's argv follows."""
    return [CAPSH, f"--drop={cap.lower()}", "--", "-c", 'exec "$0" "$@"']
