"""AppArmor: process.apparmorProfile (and exec's --apparmor, or a process
file's apparmorProfile) confine the container's program under a loaded
profile from its execve on, as runc does. Where AppArmor is off, asking for a
profile is an explicit error naming the field, and nothing is left behind.

The AppArmor half runs where the kernel has it enabled: the guest of
scripts/vm-test --variant apparmor (kernel apparmor=1 security=apparmor,
Debian's apparmor_parser)."""

import json
import os
import subprocess

import pytest

import helpers as h
from helpers import probe

PROFILE = "husk-test-deny-secret"
SECRET = "/etc/husk-secret"
# Everything allowed but reading SECRET: the container's program runs as
# usual, and the one denial shows the profile is in force. attach_disconnected:
# paths outside the container's mount namespace (stdio pipes from husk) are
# mediated as if attached, not refused.
ALLOW_ALL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apparmor-allow-all")
PROFILE_TEXT = f"""
profile {PROFILE} flags=(attach_disconnected,mediate_deleted) {{
  #include "{ALLOW_ALL}"
  deny {SECRET} r,
}}
"""
NOT_LOADED = "husk-test-no-such-profile"


def loaded_profiles():
    out = h.read_text("/sys/kernel/security/apparmor/profiles", "")
    return [line.rsplit(" (", 1)[0] for line in out.splitlines()]


@pytest.fixture
def profile(tmp):
    """The test profile, loaded for the test and unloaded after it."""
    path = os.path.join(tmp, "profile")
    with open(path, "w") as f:
        f.write(PROFILE_TEXT)
    r = subprocess.run(["apparmor_parser", "-r", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert PROFILE in loaded_profiles()
    yield PROFILE
    r = subprocess.run(["apparmor_parser", "-R", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert PROFILE not in loaded_profiles()


def secret_bundle(bundle, args, profile_name=None):
    patch = {"process": {"apparmorProfile": profile_name}} if profile_name else None
    b = bundle(args=args, patch=patch)
    with open(b.host_path(SECRET), "w") as f:
        f.write("husk secret\n")
    return b


# What a process prints: its AppArmor label, then whether it can read SECRET.
CHECK = probe("cat /proc/self/attr/current", f"open {SECRET} r")


def running(husk, b, cid):
    husk.create_ok(cid, b)
    husk.start_ok(cid)


# ---- a host without AppArmor ----------------------------------------------

@pytest.mark.skipif(
    h.read_text("/sys/module/apparmor/parameters/enabled", "").strip() == "Y",
    reason="AppArmor is enabled on this host")
class TestWithoutAppArmor:
    def test_create_names_the_field_and_leaves_nothing(self, husk, bundle):
        b = secret_bundle(bundle, probe("pid"), PROFILE)
        r = husk.create("c1", b)
        assert r.rc != 0
        assert "process.apparmorProfile: AppArmor is not enabled" in r.err, r
        assert PROFILE in r.err, r
        assert husk.ids() == []
        assert husk.nothing_left() == []

    def test_empty_profile_means_none(self, husk, bundle):
        # As in runc: "" asks for no profile, which needs no AppArmor.
        b = bundle(args=probe("pid"), patch={"process": {"apparmorProfile": ""}})
        assert husk.run_ok("c1", b) == "1\n"

    def test_exec_flag_and_process_file_name_the_field(self, husk, bundle, tmp):
        b = bundle(args=probe("sleep 1000"))
        running(husk, b, "c1")
        before = husk("ps", "--format", "json", "c1").out
        r = husk("exec", "--apparmor", PROFILE, "c1", "/probe", "pid")
        assert r.rc != 0
        assert "--apparmor: AppArmor is not enabled" in r.err, r
        path = h.process_file(tmp, probe("pid"), apparmorProfile=PROFILE)
        r = husk("exec", "--process", path, "c1")
        assert r.rc != 0
        assert "process.apparmorProfile: AppArmor is not enabled" in r.err, r
        assert husk("ps", "--format", "json", "c1").out == before

    def test_features_and_check_say_the_host_has_none(self, husk, bundle):
        feats = json.loads(husk("features").out)
        assert feats["linux"]["apparmor"]["enabled"] is False
        b = bundle(patch={"process": {"apparmorProfile": PROFILE}})
        r = husk("check", "--bundle", b.path)
        assert r.rc != 0
        assert "process.apparmorProfile" in r.out + r.err, r


# ---- a host with AppArmor -------------------------------------------------

@h.requires("root", "apparmor")
class TestWithAppArmor:
    def test_features_report_apparmor(self, husk):
        feats = json.loads(husk("features").out)
        assert feats["linux"]["apparmor"]["enabled"] is True

    def test_profile_confines_the_program(self, husk, bundle, profile):
        confined = husk.run_ok("c1", secret_bundle(bundle, CHECK, profile)).split("\n")
        assert confined[0] == f"{profile} (enforce)"
        assert confined[1] == "errno=EACCES"
        free = husk.run_ok("c2", secret_bundle(bundle, CHECK)).split("\n")
        assert free[0] == "unconfined"
        assert free[1] == "ok"

    def test_exec_apparmor_flag(self, husk, bundle, profile):
        running(husk, secret_bundle(bundle, probe("sleep 1000")), "c1")
        out = husk("exec", "--apparmor", profile, "c1", *CHECK)
        assert out.rc == 0, out
        assert out.out.split("\n")[:2] == [f"{profile} (enforce)", "errno=EACCES"]
        out = husk("exec", "c1", *CHECK)
        assert out.rc == 0, out
        assert out.out.split("\n")[:2] == ["unconfined", "ok"]

    def test_exec_inherits_the_container_profile(self, husk, bundle, profile, tmp):
        running(husk, secret_bundle(bundle, probe("sleep 1000"), profile), "c1")
        out = husk("exec", "c1", *CHECK)
        assert out.rc == 0, out
        assert out.out.split("\n")[:2] == [f"{profile} (enforce)", "errno=EACCES"]
        # A process file's own apparmorProfile replaces the container's.
        path = h.process_file(tmp, CHECK, apparmorProfile="unconfined")
        out = husk("exec", "--process", path, "c1")
        assert out.rc == 0, out
        assert out.out.split("\n")[:2] == ["unconfined", "ok"]

    def test_profile_not_loaded_is_a_clear_error(self, husk, bundle):
        assert NOT_LOADED not in loaded_profiles()
        b = secret_bundle(bundle, CHECK, NOT_LOADED)
        r = husk("check", "--bundle", b.path)
        assert r.rc != 0 and "is not loaded" in r.out + r.err, r
        r = husk.create("c1", b)
        assert r.rc != 0
        assert "process.apparmorProfile" in r.err and NOT_LOADED in r.err, r
        assert "not loaded" in r.err, r
        assert husk.ids() == []
        assert husk.nothing_left() == []
        running(husk, secret_bundle(bundle, probe("sleep 1000")), "c2")
        r = husk("exec", "--apparmor", NOT_LOADED, "c2", *CHECK)
        assert r.rc != 0
        assert NOT_LOADED in r.err and "not loaded" in r.err, r
