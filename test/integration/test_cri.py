"""husk under Kubernetes' Container Runtime Interface: the test speaks CRI v1
gRPC to containerd's CRI plugin the way kubelet does, and the plugin's
runtime handler `husk` runs containerd-shim-runc-v2 with husk as its runtime.

The containerd is private (helpers.Containerd: its own root, state, socket and
config under the session directory), with the CRI plugin enabled, an empty
CNI configuration (host-network pods never call CNI) and a sandbox image
built here. Both images are made locally (scripts/mkrootfs for busybox,
catatonit for the pause image) and imported with `ctr -n k8s.io images import`.

The Python stubs are generated at test time with Debian's python3-grpc-tools,
into the session directory, from test/cri/api.proto: husk's own subset of the
CRI v1 API (the calls and fields used here, with the API's package, field
numbers and types). HUSK_CRI_PROTO names another definition, such as the
complete upstream api.proto.

Pods get linux.cgroup_parent /husk-test/<TAG>-<test>-pod, so the sandbox and
its containers live under the tests' cgroup parent and the leak check sees
them; the test removes that pod cgroup after the pod, as kubelet does
(HUSK_BIN=/usr/sbin/runc runs the same checks against runc). Containers carry the test's leak mark in their environment, the pause
process and containerd with its shims the mark <TAG>.cri.
"""

import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import helpers as h

K8S_NS = "k8s.io"
HANDLER = "husk"
PAUSE_IMAGE = "docker.io/husk/pause:test"
IMAGE = "docker.io/husk/busybox:test"
CRI_MARK = f"{h.TAG}.cri"
RPC_TIMEOUT = 120  # seconds per CRI call: a loaded 2-core machine is slow
PROTO = os.environ.get("HUSK_CRI_PROTO") or os.path.join(h.SOURCE_DIR, "test", "cri", "api.proto")
CATATONIT = shutil.which("catatonit") or "/usr/libexec/podman/catatonit"


def _missing():
    if h.missing("containerd"):
        return h.missing("containerd")
    for mod, pkg in (("grpc", "python3-grpcio"), ("grpc_tools", "python3-grpc-tools")):
        if importlib.util.find_spec(mod) is None:
            return f"{pkg} not installed (scripts/deps)"
    if not os.path.isfile(PROTO):
        return f"no CRI API definition at {PROTO} (set HUSK_CRI_PROTO)"
    if not os.path.isfile(CATATONIT):
        return "catatonit not installed (scripts/deps)"
    return None


_WHY_NOT = _missing()
pytestmark = pytest.mark.skipif(_WHY_NOT is not None, reason=str(_WHY_NOT))

# The CRI plugin with runtime handler `husk`: the runc shim with husk as its
# binary and its own state root. It is not the default runtime: pods ask for
# it by name, as a RuntimeClass makes kubelet do, and the default (which
# containerd requires) names no runtime that exists. The oom_score_adj of the pause container
# (-998) is clamped to containerd's own, which this shell can lower no
# further (it lacks CAP_SYS_RESOURCE). AppArmor stays off: containerd would
# load its default profile into the host's kernel.
PLUGINS = """\
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%s"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{d}/cni/bin"
    conf_dir = "{d}/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "{snapshotter}"
    default_runtime_name = "no-runtime-class"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.no-runtime-class]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.no-runtime-class.options]
        BinaryName = "/nonexistent/no-runtime-class"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s.options]
        BinaryName = "{husk}"
        Root = "{d}/husk-root"
        SystemdCgroup = false
""" % (PAUSE_IMAGE, HANDLER, HANDLER)


def _stubs(out):
    """The modules NAME_pb2 and NAME_pb2_grpc generated from PROTO (NAME.proto)
    into out."""
    os.makedirs(out)
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", os.path.dirname(PROTO),
                        f"--python_out={out}", f"--grpc_python_out={out}", PROTO],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert r.returncode == 0, f"protoc failed on {PROTO}:\n{r.stderr}"
    sys.path.insert(0, out)
    try:
        name = os.path.splitext(os.path.basename(PROTO))[0]
        return importlib.import_module(f"{name}_pb2"), importlib.import_module(f"{name}_pb2_grpc")
    finally:
        sys.path.remove(out)


def _images(c, d):
    rootfs = os.path.join(d, "rootfs")
    r = subprocess.run([os.path.join(h.SOURCE_DIR, "scripts", "mkrootfs"), rootfs],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    c.import_image(rootfs, IMAGE, namespace=K8S_NS)
    # The sandbox's only process: catatonit in pause mode, with the leak mark.
    pause = os.path.join(d, "pause")
    for sub in ("proc", "sys", "dev", "etc"):
        os.makedirs(os.path.join(pause, sub))
    shutil.copy(CATATONIT, os.path.join(pause, "catatonit"))
    c.import_image(pause, PAUSE_IMAGE, namespace=K8S_NS, config={
        "Entrypoint": ["/catatonit", "-P"], "Env": [f"{h.MARK_VAR}={CRI_MARK}"]})
    shutil.rmtree(rootfs)
    shutil.rmtree(pause)


class Cri:
    """containerd with the CRI plugin, and the CRI v1 client to it."""

    def __init__(self, c, pb, rpc, grpc):
        self.c, self.pb, self.grpc = c, pb, grpc
        self.channel = grpc.insecure_channel(f"unix://{c.sock}")
        self.runtime = rpc.RuntimeServiceStub(self.channel)
        self.husk_root = os.path.join(c.dir, "husk-root", K8S_NS)
        self.sandboxes = []  # every pod run, for the shim sockets

    def rpc(self, name, **fields):
        """RuntimeService.name(nameRequest(**fields)) -> the response;
        raises grpc.RpcError."""
        req = getattr(self.pb, name + "Request")(**fields)
        return getattr(self.runtime, name)(req, timeout=RPC_TIMEOUT)

    def call(self, name, **fields):
        """rpc(), failing the test with containerd's side of an error."""
        try:
            return self.rpc(name, **fields)
        except self.grpc.RpcError as e:
            raise AssertionError(f"CRI {name} failed: {e}\n--- containerd log\n"
                                 f"{self.c.log_tail(40)}") from None

    def remove_pods(self, ids):
        """What kubelet does to pods it is done with (which removes their
        containers too). Cleanup only: a pod already gone is fine, other
        failures are printed."""
        for sid in ids:
            for name in ("StopPodSandbox", "RemovePodSandbox"):
                try:
                    self.rpc(name, pod_sandbox_id=sid)
                except self.grpc.RpcError as e:
                    if e.code() != self.grpc.StatusCode.NOT_FOUND:
                        print(f"CRI {name} {sid}: {e}", file=sys.stderr)

    def close(self):
        """Every pod removed, so the shims exit; containerd stopped; the
        sockets of shims that had to be killed removed."""
        try:
            self.remove_pods([p.id for p in self.rpc("ListPodSandbox").items])
        except self.grpc.RpcError as e:
            print(f"CRI ListPodSandbox: {e}", file=sys.stderr)
        self.channel.close()
        self.c.shutdown()
        for sid in self.sandboxes:
            if os.path.exists(self.c.shim_socket(sid)):
                os.unlink(self.c.shim_socket(sid))

    def husk(self, *args):
        """husk in the state root the shim gives it -> CompletedProcess."""
        return subprocess.run([h.HUSK_BIN, "--root", self.husk_root, *args], capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=60)

    def husk_state(self, cid):
        r = self.husk("state", cid)
        if r.returncode != 0:
            assert "does not exist" in r.stderr, r.stderr
            return None
        return json.loads(r.stdout)


@pytest.fixture(scope="module")
def cri(session_dir):
    d = os.path.join(session_dir, "cri")
    os.makedirs(d, mode=0o711)
    c = h.Containerd(d, CRI_MARK, K8S_NS, PLUGINS)
    client = None
    try:
        pb, rpc = _stubs(os.path.join(d, "stubs"))
        for sub in ("cni/bin", "cni/net.d"):
            os.makedirs(os.path.join(d, sub))
        c.start()
        # containerd runs on without a plugin that fails to load (a bad
        # CRI config): say why.
        plugins = c.ctr("plugins", "ls").stdout
        assert re.search(r"io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok", plugins), "\n".join(
            l for l in h.read_text(c.log).splitlines() if "level=warn" in l or "level=error" in l)
        _images(c, d)
        client = Cri(c, pb, rpc, importlib.import_module("grpc"))
        v = client.call("Version", version="v1")
        assert v.runtime_name == "containerd" and v.runtime_api_version == "v1", v
        yield client
    finally:
        if client:
            client.close()
        else:
            c.shutdown()


def test_runtime_ready_with_husk_handler(cri):
    """What kubelet asks first, and what `crictl info` shows: the runtime is
    ready (the network is not: no CNI here) and knows the husk handler."""
    r = cri.call("Status", verbose=True)
    ready = {c.type: c.status for c in r.status.conditions}
    assert ready == {"RuntimeReady": True, "NetworkReady": False}, r.status
    husk = json.loads(r.info["config"])["containerd"]["runtimes"][HANDLER]
    assert husk["runtimeType"] == "io.containerd.runc.v2", husk
    assert husk["options"]["BinaryName"] == h.HUSK_BIN, husk


# ---- per test ---------------------------------------------------------------------

class Kube:
    """kubelet's side for one test: pod and container configs that carry this
    test's cgroup parent, leak mark and log directory; at the end, the pods
    it ran are stopped and removed."""

    def __init__(self, cri, ctx):
        self.cri, self.pb, self.ctx = cri, cri.pb, ctx
        self.pods = []
        self.cgroup_parent = f"/{h.CGROUP_PARENT}/{h.TAG}-{ctx.index}-pod"
        self.log_dir = os.path.join(ctx.dir, "pod-logs")
        os.makedirs(self.log_dir)
        ctx.roots.append(cri.husk_root)

    def __getattr__(self, name):
        """The CRI calls: kube.StartContainer(container_id=...)."""
        if not name[:1].isupper():
            raise AttributeError(name)
        return lambda **fields: self.cri.call(name, **fields)

    def namespaces(self):
        """hostNetwork: true, and a PID namespace per container (kubelet
        gives the pod's options to the sandbox and to each container)."""
        return self.pb.NamespaceOption(network=self.pb.NODE, pid=self.pb.CONTAINER,
                                       ipc=self.pb.POD)

    def pod_config(self, name):
        pb = self.pb
        return pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, namespace="default",
                                           uid=f"{h.TAG}-{self.ctx.index}-{name}"),
            log_directory=self.log_dir,
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=self.cgroup_parent,
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=self.namespaces())))

    def run_pod(self, name):
        config = self.pod_config(name)
        sid = self.RunPodSandbox(config=config, runtime_handler=HANDLER).pod_sandbox_id
        self.pods.append(sid)
        self.cri.sandboxes.append(sid)
        return sid, config

    def create(self, sid, pod_config, name, script):
        """A busybox container running `sh -c script`, logging to <name>.log."""
        pb = self.pb
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(image=IMAGE),
            command=["sh", "-c", script], log_path=f"{name}.log",
            envs=[pb.KeyValue(key=h.MARK_VAR, value=self.ctx.mark.encode())],
            linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(
                namespace_options=self.namespaces())))
        return self.CreateContainer(pod_sandbox_id=sid, config=config,
                                    sandbox_config=pod_config).container_id

    def status(self, cid):
        """(ContainerStatus, the verbose info: pid, runtimeSpec, ...)"""
        r = self.ContainerStatus(container_id=cid, verbose=True)
        return r.status, json.loads(r.info.get("info", "{}"))

    def wait_state(self, cid, state, timeout=120):
        return h.wait_for(lambda: self.status(cid)[0].state == state, timeout, interval=0.2,
                          what=f"container {cid} in state {self.pb.ContainerState.Name(state)}")

    def log(self, name):
        return h.read_text(os.path.join(self.log_dir, f"{name}.log"), "")

    def pod_cgroup_dirs(self):
        """The pod's cgroup and everything below it, in every hierarchy."""
        return h.cgroup_dirs(os.path.basename(self.cgroup_parent))

    def remove_pod_cgroup(self):
        """kubelet owns the pod's cgroup and removes it after the sandbox;
        rmdir fails while anything is left below it."""
        for d in h.hierarchy_dirs(self.cgroup_parent):
            try:
                os.rmdir(d)
            except FileNotFoundError:
                pass
            except OSError as e:
                print(f"rmdir {d}: {e}", file=sys.stderr)

    def cgroup_dirs(self, cid):
        """The cgroup directory of a container or sandbox cid in every
        hierarchy, checking that there is none of that name elsewhere."""
        rel = f"{self.cgroup_parent}/{cid}"
        dirs = [d for d in h.hierarchy_dirs(rel) if os.path.isdir(d)]
        assert sorted(dirs) == sorted(h.cgroup_dirs_named(cid)), h.cgroup_dirs_named(cid)
        return dirs


@pytest.fixture
def kube(cri, _ctx):
    k = Kube(cri, _ctx)
    yield k
    cri.remove_pods(k.pods)
    h.reap_orphans()
    k.remove_pod_cgroup()


# A container that says it started, and exits 7 on SIGTERM (busybox sh runs
# its traps between commands, hence the short sleeps).
TRAPPER = 'trap "echo got TERM; exit 7" TERM; echo started; while :; do sleep 0.1; done'
# What an exec reports: PID 1's command line (the exec joined the container's
# PID namespace), the network namespace (the host's: a NODE-network pod),
# its stderr and its exit status.
EXEC = "tr '\\0' ' ' </proc/1/cmdline; echo; readlink /proc/self/ns/net; echo oops >&2; exit 3"


def test_pod_lifecycle_through_cri(kube):
    pb = kube.pb
    sid, pod_config = kube.run_pod("web")
    pod = kube.PodSandboxStatus(pod_sandbox_id=sid, verbose=True)
    assert pod.status.state == pb.SANDBOX_READY, pod
    pod_info = json.loads(pod.info["info"])
    assert pod_info["runtimeHandler"] == HANDLER, pod_info
    pause = kube.cri.husk_state(sid)
    assert pause and pause["status"] == "running" and pause["pid"] == pod_info["pid"], pause
    assert h.read_text(f"/proc/{pause['pid']}/cmdline") == "/catatonit\0-P\0"
    dirs = kube.cgroup_dirs(sid)
    assert dirs and all(pause["pid"] in h.cgroup_procs(d) for d in dirs), dirs
    # One shim serves the pod: the sandbox's, named after it.
    shim = kube.cri.c.shim_socket(sid)
    assert os.path.exists(shim)

    cid = kube.create(sid, pod_config, "main", TRAPPER)
    st, _ = kube.status(cid)
    assert st.state == pb.CONTAINER_CREATED, st
    # CreateContainer makes containerd's record only; the runtime's create
    # and start both come with StartContainer.
    assert kube.cri.husk_state(cid) is None

    kube.StartContainer(container_id=cid)
    st, info = kube.status(cid)
    assert st.state == pb.CONTAINER_RUNNING, st
    state = kube.cri.husk_state(cid)
    assert state["status"] == "running" and state["pid"] == info["pid"], (state, info)
    assert state["bundle"].endswith(cid), state
    # The container is in its cgroup below the pod's cgroup parent.
    dirs = kube.cgroup_dirs(cid)
    assert dirs and all(info["pid"] in h.cgroup_procs(d) for d in dirs), dirs
    h.wait_for(lambda: "stdout F started\n" in kube.log("main"), 60, what="started in the log")

    r = kube.ExecSync(container_id=cid, cmd=["sh", "-c", EXEC], timeout=60)
    assert r.exit_code == 3, r
    assert r.stdout.decode().split("\n") == [
        f"sh -c {TRAPPER} ", os.readlink("/proc/self/ns/net"), ""], r.stdout
    assert r.stderr == b"oops\n", r.stderr
    assert kube.status(cid)[0].state == pb.CONTAINER_RUNNING

    kube.StopContainer(container_id=cid, timeout=60)
    st, _ = kube.status(cid)
    assert st.state == pb.CONTAINER_EXITED and st.exit_code == 7, st
    assert "stdout F got TERM\n" in kube.log("main")
    # containerd deletes the task once it has exited: husk's state and the
    # container's cgroup are gone with it.
    assert kube.cri.husk_state(cid) is None
    assert kube.cgroup_dirs(cid) == []
    assert not h.alive(info["pid"])

    kube.RemoveContainer(container_id=cid)
    assert cid not in [c.id for c in kube.ListContainers().containers]

    kube.StopPodSandbox(pod_sandbox_id=sid)
    assert kube.PodSandboxStatus(pod_sandbox_id=sid).status.state == pb.SANDBOX_NOTREADY
    assert kube.cri.husk_state(sid) is None
    assert not h.alive(pause["pid"])
    kube.RemovePodSandbox(pod_sandbox_id=sid)
    assert sid not in [p.id for p in kube.ListPodSandbox().items]
    # Nothing is left below the pod's cgroup (husk also removes the parent
    # directories it made; runc leaves them to kubelet).
    assert kube.cgroup_dirs(sid) == []
    assert [d for d in kube.pod_cgroup_dirs() if not d.endswith(kube.cgroup_parent)] == []
    h.wait_for(lambda: not os.path.exists(shim), 60, what=f"the shim to remove {shim}")
    assert h.mounts_under(os.path.join(kube.cri.c.dir, "state")) == []


def test_container_exit_code_and_logs(kube):
    """A container that ends by itself: EXITED with its status, its output in
    the CRI log, while the pod keeps running."""
    pb = kube.pb
    sid, pod_config = kube.run_pod("batch")
    cid = kube.create(sid, pod_config, "job", "echo to-out; echo to-err >&2; exit 42")
    kube.StartContainer(container_id=cid)
    kube.wait_state(cid, pb.CONTAINER_EXITED)
    st, _ = kube.status(cid)
    assert st.exit_code == 42 and st.reason == "Error", st
    lines = [l.split(" ", 1)[1] for l in kube.log("job").splitlines()]
    assert sorted(lines) == ["stderr F to-err", "stdout F to-out"], kube.log("job")
    assert kube.cri.husk_state(cid) is None
    assert kube.PodSandboxStatus(pod_sandbox_id=sid).status.state == pb.SANDBOX_READY
    kube.RemoveContainer(container_id=cid)
