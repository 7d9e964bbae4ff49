"""SELinux: process.selinuxLabel (and exec's --process-label, or a process
file's selinuxLabel) is the context the container's program runs with from
its execve on, and the context of its session keyring; linux.mountLabel is
the context of every file on the filesystems the container mounts (context=),
binds excepted, as runc does. Where SELinux is off, asking for a label is an
explicit error naming the field, and nothing is left behind.

The SELinux half runs where the kernel has SELinux enabled with a policy
loaded: the guest of scripts/vm-test --variant selinux (Debian's kernel with
security=selinux, Debian's default reference policy loaded by load_policy, in
permissive mode: the contexts transition as in enforcing mode, and denials
are only logged). Debian's policy has no container module: the labels are
sVirt's, the types the reference policy has for confined guests."""

import ctypes
import json
import os

import pytest

import helpers as h
from helpers import probe

LABEL = "system_u:system_r:svirt_t:s0:c1,c2"
OTHER = "system_u:system_r:unconfined_t:s0"
MOUNT_LABEL = "system_u:object_r:svirt_image_t:s0:c1,c2"
OWN_CONTEXT = "system_u:object_r:tmp_t:s0"
INVALID = "system_u:system_r:husk_no_such_t:s0"
CURRENT = probe("cat /proc/self/attr/current")


def current(out):
    """A context as /proc/<pid>/attr/current prints it (NUL-terminated)."""
    return out.split("\n")[0].rstrip("\0")


def running(husk, b, cid):
    husk.create_ok(cid, b)
    husk.start_ok(cid)
    return husk.state(cid)["pid"]


def xattr_label(path):
    return os.getxattr(path, "security.selinux").rstrip(b"\0").decode()


def keyring_label(description):
    """The SELinux context of the keyring named `description`, read through
    keyctl(KEYCTL_GET_SECURITY) from /proc/keys' id."""
    ids = [int(line.split()[0], 16) for line in h.read_text("/proc/keys", "").splitlines()
           if line.split()[7] == "keyring" and line.split(None, 8)[8].startswith(description + ":")]
    assert len(ids) == 1, h.read_text("/proc/keys", "")
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)
    n = libc.syscall(250, 17, ids[0], buf, 256)  # SYS_keyctl, KEYCTL_GET_SECURITY
    assert n > 0, os.strerror(ctypes.get_errno())
    return buf.value.decode()


# ---- a host without SELinux -----------------------------------------------

@pytest.mark.skipif(os.path.exists("/sys/fs/selinux/enforce"),
                    reason="SELinux is enabled on this host")
class TestWithoutSELinux:
    @pytest.mark.parametrize("patch,field", [
        ({"process": {"selinuxLabel": LABEL}}, "process.selinuxLabel"),
        ({"linux": {"mountLabel": MOUNT_LABEL}}, "linux.mountLabel"),
    ])
    def test_create_names_the_field_and_leaves_nothing(self, husk, bundle, patch, field):
        r = husk.create("c1", bundle(patch=patch))
        assert r.rc != 0
        assert f"{field}: SELinux is not enabled on this host" in r.err, r
        assert husk.ids() == []
        assert husk.nothing_left() == []

    def test_empty_labels_mean_none(self, husk, bundle):
        b = bundle(patch={"process": {"selinuxLabel": ""}, "linux": {"mountLabel": ""}})
        assert husk.run_ok("c1", b) == "1\n"

    def test_exec_flag_and_process_file_name_the_field(self, husk, bundle, tmp):
        running(husk, bundle(args=probe("sleep 1000")), "c1")
        r = husk("exec", "--process-label", LABEL, "c1", "/probe", "pid")
        assert r.rc != 0
        assert "--process-label: SELinux is not enabled on this host" in r.err, r
        r = husk("exec", "--process", h.process_file(tmp, probe("pid"), selinuxLabel=LABEL), "c1")
        assert r.rc != 0
        assert "process.selinuxLabel: SELinux is not enabled on this host" in r.err, r

    def test_features_and_check_say_the_host_has_none(self, husk, bundle):
        assert json.loads(husk("features").out)["linux"]["selinux"]["enabled"] is False
        b = bundle(patch={"process": {"selinuxLabel": LABEL}, "linux": {"mountLabel": MOUNT_LABEL}})
        r = husk("check", "--bundle", b.path)
        assert r.rc != 0
        assert "process.selinuxLabel" in r.out + r.err and "linux.mountLabel" in r.out + r.err, r


# ---- a host with SELinux --------------------------------------------------

@h.requires("root", "selinux")
class TestWithSELinux:
    def test_features_and_check_report_selinux(self, husk, bundle):
        assert json.loads(husk("features").out)["linux"]["selinux"]["enabled"] is True
        b = bundle(patch={"process": {"selinuxLabel": LABEL}, "linux": {"mountLabel": MOUNT_LABEL}})
        r = husk("check", "--bundle", b.path)
        assert "selinux" not in (r.out + r.err).lower(), r

    def test_process_runs_with_the_label(self, husk, bundle):
        mine = current(h.read_text("/proc/self/attr/current", ""))
        labelled = husk.run_ok("c1", bundle(args=CURRENT, patch={"process": {"selinuxLabel": LABEL}}))
        assert current(labelled) == LABEL
        # Without a label the program keeps its caller's context.
        assert current(husk.run_ok("c2", bundle(args=CURRENT))) == mine != LABEL

    def test_session_keyring_gets_the_label(self, husk, bundle):
        running(husk, bundle(args=probe("sleep 1000"), patch={"process": {"selinuxLabel": LABEL}}),
                "c1")
        assert keyring_label("c1") == LABEL

    def test_exec_process_label(self, husk, bundle):
        running(husk, bundle(args=probe("sleep 1000")), "c1")
        out = husk("exec", "--process-label", LABEL, "c1", *CURRENT)
        assert out.rc == 0, out
        assert current(out.out) == LABEL
        out = husk("exec", "c1", *CURRENT)
        assert out.rc == 0, out
        assert current(out.out) != LABEL

    def test_exec_inherits_the_container_label(self, husk, bundle, tmp):
        running(husk, bundle(args=probe("sleep 1000"), patch={"process": {"selinuxLabel": LABEL}}),
                "c1")
        out = husk("exec", "c1", *CURRENT)
        assert out.rc == 0, out
        assert current(out.out) == LABEL
        # A process file's own selinuxLabel replaces the container's.
        out = husk("exec", "--process", h.process_file(tmp, CURRENT, selinuxLabel=OTHER), "c1")
        assert out.rc == 0, out
        assert current(out.out) == OTHER

    def test_mount_label_on_the_containers_filesystems(self, husk, bundle, tmp):
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        b = bundle(args=probe("write /t/f x", "mountinfo", "sleep 1000"),
                   patch={"linux": {"mountLabel": MOUNT_LABEL}})
        b.config["mounts"] += [
            {"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]},
            {"destination": "/own", "type": "tmpfs", "source": "tmpfs",
             "options": [f'context="{OWN_CONTEXT}"']},
            {"destination": "/b", "type": "bind", "source": src, "options": ["rbind"]},
        ]
        b.write()
        pid = running(husk, b, "c1")
        root = f"/proc/{pid}/root"
        h.wait_for(lambda: os.path.exists(f"{root}/t/f"), 10, what="the container's file")
        # The tmpfs root, and a file the container made in it.
        assert xattr_label(f"{root}/t") == MOUNT_LABEL
        assert xattr_label(f"{root}/t/f") == MOUNT_LABEL
        # The default config's own filesystems under /dev.
        assert xattr_label(f"{root}/dev/shm") == MOUNT_LABEL
        assert xattr_label(f"{root}/dev/mqueue") == MOUNT_LABEL
        # The empty tmpfs over each masked directory, as runc labels it.
        masked = [p for p in b.config["linux"]["maskedPaths"] if os.path.isdir(f"{root}{p}")]
        assert masked, b.config["linux"]["maskedPaths"]
        for p in masked:
            assert xattr_label(f"{root}{p}") == MOUNT_LABEL, p
        # A mount that names its own context keeps it; a bind shows its source.
        assert xattr_label(f"{root}/own") == OWN_CONTEXT
        assert xattr_label(f"{root}/b") == xattr_label(src) != MOUNT_LABEL
        info = h.read_text(f"/proc/{pid}/mountinfo", "")
        t = [line for line in info.splitlines() if line.split()[4] == "/t"]
        assert len(t) == 1 and f'context="{MOUNT_LABEL}"' in t[0], info

    @pytest.mark.parametrize("patch,field", [
        ({"process": {"selinuxLabel": INVALID}}, "process.selinuxLabel"),
        ({"linux": {"mountLabel": INVALID}}, "linux.mountLabel"),
    ])
    def test_invalid_label_is_a_clear_error(self, husk, bundle, patch, field):
        b = bundle(patch=patch)
        r = husk("check", "--bundle", b.path)
        assert r.rc != 0 and field in r.out + r.err, r
        r = husk.create("c1", b)
        assert r.rc != 0
        assert f'{field}: "{INVALID}" is not a valid SELinux context' in r.err, r
        assert husk.ids() == []
        assert husk.nothing_left() == []

    def test_exec_invalid_label_is_a_clear_error(self, husk, bundle):
        running(husk, bundle(args=probe("sleep 1000")), "c1")
        before = husk("ps", "--format", "json", "c1").out
        r = husk("exec", "--process-label", INVALID, "c1", *CURRENT)
        assert r.rc != 0
        assert f'--process-label: "{INVALID}" is not a valid SELinux context' in r.err, r
        assert husk("ps", "--format", "json", "c1").out == before
