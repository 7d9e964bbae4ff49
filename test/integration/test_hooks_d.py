"""Admin hooks from hooks.d YAML files (--hooks-dir): a file whose
conditions match the container's config adds its hook at its stages, after
the config's own hooks, with the state on stdin; a file that does not match
adds nothing; a bad file fails create before anything exists; later
directories replace earlier ones' files of the same name."""

import json
import os
import re

import pytest

from helpers import probe
from test_hooks import HOOK, write_script

import helpers as h


class HooksD:
    """A hooks.d directory, the recording hook script its files run, and the
    directory the script records into (see test_hooks.HOOK)."""

    def __init__(self, tmp, name="hooks.d"):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.out = os.path.join(tmp, name + "-out")
        os.makedirs(self.out)
        self.script = os.path.join(tmp, name + "-hook.sh")
        write_script(self.script, HOOK)

    def add(self, file_name, tag, stages, when):
        """A file whose hook records as <tag>-<stage> at each of stages."""
        for stage in stages:
            text = (f"version: 1.0.0\n"
                    f"hook:\n  path: {self.script}\n"
                    f"  args: [hook.sh, {tag}-{stage}, {self.out}]\n"
                    f"when:\n{when}"
                    f"stages: [{stage}]\n")
            with open(os.path.join(self.dir, f"{file_name}-{stage}.yaml"), "w") as f:
                f.write(text)

    def write(self, file_name, text):
        with open(os.path.join(self.dir, file_name), "w") as f:
            f.write(text)

    def order(self):
        return h.read_text(os.path.join(self.out, "order"), "").split()

    def state(self, name):
        with open(os.path.join(self.out, f"{name}.json")) as f:
            return json.load(f)


LOG_WHEN = "  annotations:\n    '^com\\.example\\.log$': '^(yes|true)$'\n"


def annotated(bundle, args, value, own_poststop=None):
    b = bundle(args=args)
    b.config["annotations"] = {"com.example.log": value, "other": "x"}
    if own_poststop:
        b.config["hooks"] = {"poststop": [{"path": "/bin/sh",
                                           "args": ["sh", "-c", f"echo own >> {own_poststop}"]}]}
    return b.write()


def test_matching_file_runs_its_hook_at_every_stage(husk, bundle, tmp):
    d = HooksD(tmp)
    stages = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]
    d.add("10-log", "log", stages, LOG_WHEN)
    b = annotated(bundle, probe("sleep 100"), "yes", own_poststop=os.path.join(d.out, "order"))
    r = husk("--hooks-dir", d.dir, "create", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    pid = husk.state("c1")["pid"]
    assert d.order() == ["log-prestart", "log-createRuntime", "log-createContainer"]
    for name, want_pid, status in [("log-prestart", pid, "created"),
                                   ("log-createRuntime", pid, "creating"),
                                   ("log-createContainer", 1, "creating")]:
        st = d.state(name)
        assert (st["id"], st["status"], st["pid"], st["bundle"]) == \
            ("c1", status, want_pid, b.path), name

    # Resolved at create: start and delete run what create matched, even
    # once hooks.d is gone, and without being given --hooks-dir again.
    os.rename(d.dir, d.dir + ".gone")
    husk.start_ok("c1")
    assert d.order()[-1] == "log-poststart"
    st = d.state("log-poststart")
    assert (st["id"], st["status"], st["pid"]) == ("c1", "running", pid)
    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")
    r = husk.delete("c1")
    assert r.rc == 0, r
    # The config's own poststop hook first, then the hooks.d one.
    assert d.order()[-2:] == ["own", "log-poststop"]
    st = d.state("log-poststop")
    assert (st["id"], st["status"], st["bundle"]) == ("c1", "stopped", b.path)
    assert husk.nothing_left() == []


def test_start_container_stage_runs_in_the_container(husk, bundle, tmp):
    d = HooksD(tmp)
    b = annotated(bundle, probe("exit 0"), "true")
    # startContainer hooks run in the container: path and output inside it.
    write_script(b.host_path("/hook.sh"), HOOK)
    b.config["mounts"].append({"destination": "/hookout", "type": "bind",
                               "source": d.out, "options": ["rbind", "rw"]})
    b.write()
    d.write("20-start.yaml", "version: 1.0.0\nhook: {path: /hook.sh, "
            "args: [hook.sh, in-container, /hookout]}\n" + "when:\n" + LOG_WHEN +
            "stages: [startContainer]\n")
    r = husk("--hooks-dir", d.dir, "run", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    assert d.order() == ["in-container"]
    st = d.state("in-container")
    assert (st["id"], st["status"], st["pid"]) == ("c1", "created", 1)
    assert husk.nothing_left() == []


@pytest.mark.parametrize("value", ["no", "yes-but-not-anchored-here"])
def test_file_that_does_not_match_adds_nothing(husk, bundle, tmp, value):
    d = HooksD(tmp)
    d.add("10-log", "log", ["prestart", "poststart", "poststop"], LOG_WHEN)
    b = annotated(bundle, probe("exit 0"), value)
    r = husk("--hooks-dir", d.dir, "run", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    assert d.order() == []
    assert husk.nothing_left() == []


def test_all_conditions_must_hold(husk, bundle, tmp):
    d = HooksD(tmp)
    # The annotation matches, the command (/probe) does not.
    d.add("10-both", "both", ["prestart"], LOG_WHEN + "  commands: ['^/bin/']\n")
    d.add("20-cmd", "cmd", ["prestart"], "  commands: ['^/probe$']\n")
    b = annotated(bundle, probe("exit 0"), "yes")
    r = husk("--hooks-dir", d.dir, "run", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    assert d.order() == ["cmd-prestart"]


def test_later_hooks_dir_replaces_same_name(husk, bundle, tmp):
    usr, etc = HooksD(tmp, "usr"), HooksD(tmp, "etc")
    usr.add("10-same", "usr", ["prestart"], "  always: true\n")
    usr.add("20-usr-only", "usr-only", ["prestart"], "  always: true\n")
    etc.add("10-same", "etc", ["prestart"], "  always: true\n")
    etc.add("05-etc-only", "etc-only", ["prestart"], "  always: true\n")
    b = bundle(args=probe("exit 0"))
    r = husk("--hooks-dir", usr.dir, "--hooks-dir", etc.dir, "run", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    # File-name order across directories; 10-same from the later directory only.
    assert etc.order() == ["etc-only-prestart", "etc-prestart"]
    assert usr.order() == ["usr-only-prestart"]


BAD_FILES = [
    ("yaml", "version: 1.0.0\nhook: {path: /bin/true\n", r"YAML line"),
    ("version", "version: 2.0.0\nhook: {path: /bin/true}\nwhen: {always: true}\n"
     "stages: [prestart]\n", r"version: unsupported"),
    ("no-path", "version: 1.0.0\nhook: {args: [x]}\nwhen: {always: true}\nstages: [prestart]\n",
     r"hook\.path: required"),
    ("relative", "version: 1.0.0\nhook: {path: bin/true}\nwhen: {always: true}\n"
     "stages: [prestart]\n", r"hook\.path: must be an absolute path"),
    ("regex", "version: 1.0.0\nhook: {path: /bin/true}\nwhen: {commands: ['(']}\n"
     "stages: [prestart]\n", r"when\.commands\[0\]: invalid POSIX extended regular expression"),
    ("stage", "version: 1.0.0\nhook: {path: /bin/true}\nwhen: {always: true}\n"
     "stages: [prestop]\n", r"stages\[0\]: unknown stage \"prestop\""),
    ("type", "version: 1.0.0\nhook: {path: /bin/true, timeout: soon}\nwhen: {always: true}\n"
     "stages: [prestart]\n", r"hook\.timeout: must be a whole number"),
]


@pytest.mark.parametrize("verb", ["create", "run"])
@pytest.mark.parametrize("case,text,expect", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_file_fails_before_anything_exists(husk, bundle, tmp, verb, case, text, expect):
    d = HooksD(tmp)
    d.add("10-fine", "fine", ["prestart"], "  always: true\n")
    d.write(f"50-{case}.yaml", text)
    b = bundle(args=probe("exit 0"))
    r = husk("--hooks-dir", d.dir, verb, "--bundle", b.path, "c1")
    assert r.rc != 0, r
    assert os.path.join(d.dir, f"50-{case}.yaml") in r.err, r
    assert re.search(expect, r.err), r
    assert d.order() == [], "no hook of any file may run"
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_missing_hooks_dir_is_an_error(husk, bundle, tmp):
    missing = os.path.join(tmp, "no-such-hooks.d")
    b = bundle(args=probe("exit 0"))
    r = husk("--hooks-dir", missing, "create", "--bundle", b.path, "c1")
    assert r.rc != 0, r
    assert missing in r.err, r
    assert husk.status("c1") is None
    assert husk.nothing_left() == []


def test_only_yaml_files_count(husk, bundle, tmp):
    d = HooksD(tmp)
    d.add("10-log", "log", ["prestart"], "  always: true\n")
    d.write("README", "not a hook file")
    d.write("30-broken.yaml.disabled", "version: [")
    d.write(".40-editor.yaml", "version: [")
    b = bundle(args=probe("exit 0"))
    r = husk("--hooks-dir", d.dir, "run", "--bundle", b.path, "c1")
    assert r.rc == 0, r
    assert d.order() == ["log-prestart"]
