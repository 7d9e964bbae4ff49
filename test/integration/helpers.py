"""Plain helpers for the integration tests: no pytest fixtures here (those live
in conftest.py), only functions that look at the host (mounts, cgroups,
processes), ask what it offers (requires/skip_unless: the one place a test
asks), talk to sockets and terminals, or reshape data. Importable from test
files as `import helpers`."""

import ctypes
import errno
import fcntl
import glob
import gzip
import hashlib
import io
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tarfile
import termios
import time

import pytest

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
# The hybrid layout's cgroup2 mount, beside the v1 controllers.
UNIFIED = f"{CGROUP_ROOT}/unified"
V2_HOST = os.path.exists(f"{CGROUP_ROOT}/cgroup.controllers")
HYBRID = not V2_HOST and os.path.exists(f"{UNIFIED}/cgroup.controllers")


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


def hierarchy_dirs(rel=""):
    """rel's directory in every cgroup hierarchy husk places containers in
    (each v1 controller mount and the hybrid unified one, or the v2 root)."""
    if V2_HOST:
        return [CGROUP_ROOT + rel]
    out = []
    for name in sorted(os.listdir(CGROUP_ROOT)):
        top = os.path.join(CGROUP_ROOT, name)
        if os.path.isdir(top) and not os.path.islink(top) and os.path.ismount(top):
            out.append(top + rel)
    return out


def controller_file(cgroup_path, controller, v1_name, v2_name):
    """A control file of the cgroup at cgroup_path (relative to the
    hierarchies' roots): v1_name in `controller`'s hierarchy, or v2_name on a
    cgroup v2 host."""
    if V2_HOST:
        return f"{CGROUP_ROOT}{cgroup_path}/{v2_name}"
    return f"{CGROUP_ROOT}/{controller}{cgroup_path}/{v1_name}"


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


def cgroup_dirs_named(name):
    """Every cgroup directory called name, anywhere in any hierarchy."""
    found = []
    for root, dirs, _ in os.walk(CGROUP_ROOT):
        found += [os.path.join(root, d) for d in dirs if d == name]
    return found
def proc_cgroups(pid):
    """/proc/<pid>/cgroup as {controller: path}; the v2 line is under ""."""
    out = {}
    for line in read_text(f"/proc/{pid}/cgroup", "").splitlines():
        _, ctrls, path = line.split(":", 2)
        for c in ctrls.split(","):
            out[c] = path
    return out


def systemd_show(unit, *props):
    """{property: value} of `systemctl show unit -pPROP...`."""
    r = subprocess.run(["systemctl", "show", unit, *[f"-p{p}" for p in props]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


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

def process_file(directory, args, **fields):
    """A process file for `exec --process`: args, cwd "/" and `fields`
    (e.g. selinuxLabel=...) -> its path."""
    path = os.path.join(directory, "process.json")
    with open(path, "w") as f:
        json.dump({"args": list(args), "cwd": "/", **fields}, f)
    return path


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


# ---- OCI images and a private containerd (test_containerd, test_cri) ---------

def _blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
        f.write(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def _layer_tar(rootfs):
    def owner_root(ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        ti.mtime = 0
        return ti
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for entry in sorted(os.listdir(rootfs)):
            t.add(os.path.join(rootfs, entry), arcname=entry, filter=owner_root)
    return buf.getvalue()


def make_oci_archive(rootfs, out_tar, name, config=None):
    """An OCI image layout (oci-layout, index.json, blobs/sha256/...) holding
    one single-layer image of rootfs, tarred into out_tar for `ctr images
    import`. config: the image's runtime config (Cmd, Entrypoint, Env, ...);
    by default `sh` with a PATH."""
    layout = out_tar + ".d"
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    tar = _layer_tar(rootfs)
    layer = _blob(layout, gzip.compress(tar, mtime=0))
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = _blob(layout, json.dumps({
        "architecture": arch, "os": "linux",
        "config": config or {"Cmd": ["sh"], "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
    }).encode())
    manifest = _blob(layout, json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
    }).encode())
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"io.containerd.image.name": name,
                            "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}}]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with tarfile.open(out_tar, "w") as t:
        for entry in ("oci-layout", "index.json", "blobs"):
            t.add(os.path.join(layout, entry), arcname=entry)
    shutil.rmtree(layout)


# Everything of containerd's own lives under its directory; the snapshotters
# and tracing plugins that could touch the host or the network are off.
# `plugins` (TOML tables) and `disabled` are the caller's; in plugins,
# {d}, {husk} and {snapshotter} are filled in.
_CONTAINERD_CONFIG = """\
version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = [{disabled}]

[grpc]
  address = "{d}/containerd.sock"

[ttrpc]
  address = "{d}/containerd.sock.ttrpc"

[debug]
  level = "debug"

[metrics]
  address = ""

[cgroup]
  path = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{d}/opt"

[plugins."io.containerd.monitor.v1.cgroups"]
  no_prometheus = true

"""

_CONTAINERD_OFF = ("io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                   "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
                   "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing")


class Containerd:
    """A private containerd (Debian's 1.6) in directory d: its config, root,
    state, sockets, FIFOs, TMPDIR and XDG_RUNTIME_DIR all live there. It and
    the shims it starts carry the leak mark `mark`; `ctr` talks to it in
    `namespace`. Started in the background, stopped by PID (shutdown)."""

    def __init__(self, d, mark, namespace, plugins="", disabled=()):
        self.dir, self.mark, self.namespace = d, mark, namespace
        self.plugins, self.disabled = plugins, tuple(disabled) + _CONTAINERD_OFF
        self.sock = os.path.join(d, "containerd.sock")
        self.log = os.path.join(d, "containerd.log")
        self.runc_root = os.path.join(d, "runc")
        self.fifo_dir = os.path.join(d, "fifo")
        self.tmp = os.path.join(d, "tmp")
        for sub in ("tmp", "xdg", "fifo", "runc"):
            os.makedirs(os.path.join(d, sub), mode=0o700)
        self.proc = None
        self.snapshotter = "overlayfs"

    def env(self, mark=None):
        e = dict(os.environ)
        e.update({MARK_VAR: mark or self.mark, "TMPDIR": self.tmp,
                  "XDG_RUNTIME_DIR": os.path.join(self.dir, "xdg"),
                  "CONTAINERD_SNAPSHOTTER": self.snapshotter})
        e.pop("CONTAINERD_ADDRESS", None)
        e.pop("CONTAINERD_NAMESPACE", None)
        return e

    def config(self):
        fill = {"d": self.dir, "husk": HUSK_BIN, "snapshotter": self.snapshotter}
        disabled = ", ".join(f'"{p}"' for p in self.disabled)
        return (_CONTAINERD_CONFIG.format(disabled=disabled, **fill)
                + self.plugins.format(**fill))

    def _launch(self):
        cfg = os.path.join(self.dir, "config.toml")
        with open(cfg, "w") as f:
            f.write(self.config())
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(["containerd", "--config", cfg], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=self.env(), cwd=self.dir)
        try:
            wait_for(lambda: self.proc.poll() is not None or
                     self.ctr("version", check=False).returncode == 0,
                     timeout=60, interval=0.1, what="containerd to answer")
        except WaitTimeout:
            raise AssertionError("containerd did not come up:\n" + self.log_tail()) from None
        assert self.proc.poll() is None, "containerd exited:\n" + self.log_tail()

    def start(self):
        self._launch()
        # overlayfs needs a backing filesystem that can hold an upper dir;
        # the native snapshotter (plain copies) works on any. A config that
        # names the snapshotter is written again with native.
        plugins = self.ctr("plugins", "ls").stdout
        if not re.search(r"io\.containerd\.snapshotter\.v1\s+overlayfs\s+\S+\s+ok", plugins):
            self.snapshotter = "native"
            if "{snapshotter}" in self.plugins:
                self.stop()
                self._launch()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def shutdown(self):
        """Stop containerd, reap the shims that exit after it (the session
        is their subreaper), and remove the directory once nothing is
        mounted in it."""
        self.stop()
        try:
            wait_for(lambda: (reap_orphans() or True) and not marked_pids(value=self.mark),
                     timeout=20)
        except WaitTimeout:
            pass
        unmount_all_under(self.dir)
        if not mounts_under(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=60):
        return "\n".join(read_text(self.log, "").splitlines()[-n:])

    def ctr_cmd(self, *args, namespace=None):
        return (["ctr", "--address", self.sock, "--namespace", namespace or self.namespace]
                + [str(a) for a in args])

    def ctr(self, *args, check=True, timeout=60, stdin=subprocess.DEVNULL, mark=None,
            namespace=None):
        """Run ctr to completion -> CompletedProcess (text). check: assert rc 0."""
        cmd = self.ctr_cmd(*args, namespace=namespace)
        try:
            r = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True, timeout=timeout,
                               env=self.env(mark), cwd=self.dir)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"$ {' '.join(cmd)}\ntimed out after {timeout}s\n"
                                 f"stdout: {e.stdout}\nstderr: {e.stderr}\n"
                                 f"containerd log:\n{self.log_tail()}") from None
        if check:
            assert r.returncode == 0, describe_run(r, self)
        return r

    def shim_socket(self, cid, namespace=None):
        """Where containerd 1.6 puts the socket of the shim serving cid: under
        /run/containerd/s/ whatever its state directory, named by the
        SHA-256 of <containerd address>/<namespace>/<id>."""
        key = os.path.join(self.sock, namespace or self.namespace, cid)
        return f"/run/containerd/s/{hashlib.sha256(key.encode()).hexdigest()}"

    def import_image(self, rootfs, name, config=None, namespace=None):
        """rootfs as image `name` (make_oci_archive), imported and unpacked
        into the snapshotter in use."""
        archive = os.path.join(self.dir, re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".tar")
        make_oci_archive(rootfs, archive, name, config)
        self.ctr("images", "import", archive, namespace=namespace)
        assert name in self.ctr("images", "ls", "-q", namespace=namespace).stdout
        os.unlink(archive)


def describe_run(r, ctrd=None):
    """A CompletedProcess for an assertion message, with containerd's log."""
    s = f"\n$ {' '.join(r.args)}\nrc={r.returncode}\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}"
    if ctrd:
        s += f"\n--- containerd log\n{ctrd.log_tail(30)}"
    return s
# ---- what the host offers -----------------------------------------------------
# A test that needs a host property asks here, by name, and is skipped with the
# reason when the host lacks it: @requires("root", "cgroup-v1") on the test, or
# skip_unless(...) in its body where the need depends on a parameter.
# "v1:<controller>": that controller has a v1 hierarchy of its own;
# "cgroup2:<controller>": the cgroup2 hierarchy husk would use (the v2 root, or
# the hybrid unified mount) offers it.

def v2_controllers(root):
    return set(read_text(f"{root}/cgroup.controllers", "").split())


def _cgroup2_root():
    return CGROUP_ROOT if V2_HOST else UNIFIED if HYBRID else None


def _memsw():
    return not V2_HOST and os.path.exists(f"{CGROUP_ROOT}/memory/memory.memsw.limit_in_bytes")


_PROPERTIES = {
    "root": (lambda: os.geteuid() == 0, "needs root"),
    "cgroup-v1": (lambda: not V2_HOST, "needs cgroup v1 (this host is cgroup v2 only)"),
    "cgroup2": (lambda: _cgroup2_root() is not None, "needs a cgroup2 hierarchy"),
    "hybrid": (lambda: HYBRID, "needs the hybrid layout's cgroup2 mount at " + UNIFIED),
    "memsw": (_memsw, "needs cgroup v1 swap accounting (memsw)"),
    "tun": (lambda: os.path.exists("/dev/net/tun"), "needs the tun driver (/dev/net/tun)"),
    "fuse": (lambda: os.path.exists("/dev/fuse"), "needs the fuse device (/dev/fuse)"),
    "keys": (lambda: os.path.exists("/proc/keys"), "needs a kernel with keys (/proc/keys)"),
    "capsh": (lambda: CAPSH is not None,
              "needs capsh (scripts/deps installs libcap2-bin)"),
    "2-cpus": (lambda: len(os.sched_getaffinity(0)) >= 2, "needs at least 2 CPUs"),
    "containerd": (lambda: all(shutil.which(b) for b in
                               ("containerd", "ctr", "containerd-shim-runc-v2")),
                   "needs containerd (scripts/deps installs Debian's containerd package)"),
    "apparmor": (lambda: read_text("/sys/module/apparmor/parameters/enabled", "").strip() == "Y"
                 and shutil.which("apparmor_parser") is not None
                 and os.path.exists("/sys/kernel/security/apparmor/profiles"),
                 "needs AppArmor enabled (kernel apparmor=1 security=apparmor, securityfs "
                 "mounted) and apparmor_parser: scripts/vm-test --variant apparmor"),
    "selinux": (lambda: os.path.exists("/sys/fs/selinux/enforce"),
                "needs SELinux enabled with a policy loaded (kernel security=selinux, "
                "load_policy): scripts/vm-test --variant selinux"),
    "podman": (lambda: all(shutil.which(b) for b in ("podman", "conmon")),
               "needs podman and conmon (scripts/deps installs Debian's podman, conmon, "
               "catatonit)"),
}


def _has(prop):
    kind, _, arg = prop.partition(":")
    if kind == "v1" and arg:
        return not V2_HOST and os.path.isdir(f"{CGROUP_ROOT}/{arg}")
    if kind == "cgroup2" and arg:
        root = _cgroup2_root()
        return root is not None and arg in v2_controllers(root)
    return _PROPERTIES[prop][0]()


def _reason(prop):
    kind, _, arg = prop.partition(":")
    if kind == "v1" and arg:
        return f"needs a cgroup v1 {arg} hierarchy"
    if kind == "cgroup2" and arg:
        return f"needs the {arg} controller in the cgroup2 hierarchy"
    return _PROPERTIES[prop][1]


def host_has(prop):
    """The one predicate: does this host offer prop (a name above)?"""
    return _has(prop)


def missing(*props):
    """Why this host cannot run a test needing props, or None if it can."""
    reasons = [_reason(p) for p in props if not _has(p)]
    return "; ".join(reasons) or None


def requires(*props):
    """Marker: skip the test, with the reason, unless the host has props."""
    why = missing(*props)
    return pytest.mark.skipif(why is not None, reason=why or "")


def skip_unless(*props):
    """In a test body: skip it, with the reason, unless the host has props."""
    why = missing(*props)
    if why:
        pytest.skip(why)


# ---- shell, sockets, terminals ------------------------------------------------

def sh(script):
    """process.args running script with the container's /bin/sh."""
    return ["/bin/sh", "-c", script]


def listen(path):
    """A listening unix stream socket at path (what a --console-socket or
    --pidfd-socket caller holds)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


def recv_fds(listener, timeout=30):
    """Accept one connection and read one message as runc's receivers do ->
    (payload text, [fds passed with SCM_RIGHTS])."""
    listener.settimeout(timeout)
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(timeout)
        msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
    return msg.decode(errors="replace"), fds


def read_until(fd, needle, timeout=20, so_far=b""):
    """Read fd (a pipe or a pty master) until needle is in so_far plus what
    was read, the other side is closed (EOF, or EIO on a pty), or timeout ->
    all of it: text if needle is text, else bytes."""
    want = needle.encode() if isinstance(needle, str) else needle
    out = so_far
    deadline = time.monotonic() + timeout
    while want not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError as e:
            if e.errno == errno.EIO:  # every slave fd is closed
                break
            raise
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace") if isinstance(needle, str) else out


def sized_pty(rows, cols):
    """A new pty whose window is rows x cols -> (master fd, slave fd)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return master, slave


def spawn_on_pty(spawn, rows, cols):
    """spawn(stdin=f, stdout=f, stderr=f) with f a new pty of rows x cols, as
    a user at a terminal runs husk -> (what spawn returned, the pty master)."""
    master, slave = sized_pty(rows, cols)
    with os.fdopen(slave, "rb+", buffering=0) as f:
        return spawn(stdin=f, stdout=f, stderr=f), master


def answer_read(proc, master):
    """Type a line on the pty of spawn_on_pty, for a container program that
    runs `read x; echo got-$x` on it, and check it got there -> proc's
    result once it has exited."""
    os.write(master, b"typed\r")
    out = read_until(master, "got-typed")
    assert "got-typed" in out, out
    return proc.wait()


class Pty:
    """A command on a new pty of rows x cols, which is its controlling
    terminal (as a user at a terminal runs podman, ctr or husk)."""

    def __init__(self, cmd, env, rows=24, cols=80):
        master, slave = sized_pty(rows, cols)

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        self.p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                                  start_new_session=True, preexec_fn=ctty, env=env)
        os.close(slave)
        self.master = master
        self.size = f"{rows} {cols}".encode()
        self.buf = b""

    def read_until(self, text, timeout=60):
        """Everything the terminal showed so far, once it shows text."""
        self.buf = read_until(self.master, text, timeout, self.buf)
        assert text in self.buf, f"{text!r} not in the terminal output: {self.buf!r}"
        return self.buf

    def write(self, data):
        os.write(self.master, data)

    def wait(self, timeout=60):
        """The command's exit code; the terminal is drained meanwhile so that
        it never blocks on a full pty."""
        deadline = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < deadline:
            seen = len(self.buf)
            self.buf = read_until(self.master, b"\0never", 0.2, self.buf)
            if len(self.buf) == seen:  # closed (EIO) while it still runs
                time.sleep(0.05)
        if self.p.poll() is None:
            self.close()
            raise AssertionError(f"{self.p.args[0]} did not exit within {timeout}s: {self.buf!r}")
        return self.p.returncode

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.master)

    def shell_session(self, code, timeout=60):
        """Drive the interactive sh the command runs on this terminal: it
        prompts, its stdin is a terminal of this pty's size, and it exits
        with code, which is the command's exit code -> all it showed."""
        try:
            self.read_until(b"# ")
            self.write(b"[ -t 0 ] && echo TTY-$((6*7)); stty size; tty; exit %d\n" % code)
            rc = self.wait(timeout)
        finally:
            self.close()
        assert rc == code, self.buf
        assert b"TTY-42" in self.buf and self.size in self.buf and b"/dev/pts/" in self.buf, \
            self.buf
        return self.buf
