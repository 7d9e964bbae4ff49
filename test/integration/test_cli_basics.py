"""The command line without a running container: version and help shapes,
runc's wording for flag and argument errors, missing containers, --root and
--log handling, list on an empty root, events, spec and features."""

import json
import os
import re
import shutil
import subprocess

import pytest

import helpers as h

VERBS = ("create", "start", "run", "exec", "state", "kill", "delete", "list", "ps",
         "pause", "resume", "update", "events", "features", "spec")


def test_version_is_runc_shaped(husk):
    for flag in ("--version", "-v"):
        r = husk(flag, root=False)
        assert r.rc == 0, r
        lines = r.out.splitlines()
        assert len(lines) == 3, r
        assert re.fullmatch(r"husk version \d+\.\d+\.\d+", lines[0]), r
        assert re.fullmatch(r"commit: [0-9a-f]*", lines[1]), r
        assert lines[2] == "spec: 1.3.0", r


def test_help_lists_every_verb(husk):
    r = husk("--help", root=False)
    assert r.rc == 0, r
    for verb in VERBS:
        assert re.search(rf"^   {verb} ", r.out, re.M), (verb, r)
    for args in (["help", "kill"], ["kill", "--help"], ["kill", "-h"]):
        r = husk(*args)
        assert r.rc == 0, r
        assert r.out.startswith("Usage: husk kill"), r
        assert "--all" in r.out, r


@pytest.mark.parametrize("args,message", [
    (["frobnicate"], 'unknown command "frobnicate" (see husk --help)'),
    (["--nope", "list"], "flag provided but not defined: -nope"),
    (["list", "--nope"], "flag provided but not defined: -nope"),
    (["kill", "-x", "c1"], "flag provided but not defined: -x"),
    (["delete", "--force=maybe", "c1"], 'invalid boolean value "maybe" for -force: parse error'),
    (["--log-format", "xml", "list"], 'unknown log-format "xml"'),
    (["--rootless", "sometimes", "list"], 'invalid value for --rootless: "sometimes"'),
    (["--criu", "/usr/sbin/criu", "list"], "--criu: checkpoint/restore is not supported"),
    (["state"], '"state" requires exactly 1 argument(s)'),
    (["state", "a", "b"], '"state" requires exactly 1 argument(s)'),
    (["kill", "a", "KILL", "extra"], '"kill" requires a maximum of 2 argument(s)'),
    (["ps"], '"ps" requires a minimum of 1 argument(s)'),
    (["list", "extra"], '"list" requires exactly 0 argument(s)'),
    (["ps", "--format", "yaml", "c1"], 'invalid format option "yaml" (table or json)'),
    (["list", "--format", "yaml"], 'invalid format option "yaml" (table or json)'),
    (["update", "--memory", "lots", "c1"], 'invalid value "lots" for flag --memory: not a size'),
    (["update", "--pids-limit", "x", "c1"], 'invalid value "x" for flag --pids-limit'),
    (["events", "--interval", "soon", "c1"], 'invalid value "soon" for flag -interval: parse error'),
])
def test_command_line_errors_are_one_clear_line(husk, args, message):
    r = husk(*args)
    assert r.rc == 1, r
    assert r.out == "", r
    assert r.err.startswith(message) and r.err.count("\n") == 1, r
    assert husk.nothing_left() == []


@pytest.mark.parametrize("argv", [["state", "nope"], ["kill", "nope"], ["kill", "--all", "nope", "9"],
                                  ["delete", "nope"], ["pause", "nope"], ["resume", "nope"],
                                  ["ps", "--format", "json", "nope"],
                                  ["update", "--memory", "1m", "nope"], ["events", "--stats", "nope"]])
def test_missing_container_in_runcs_words(husk, argv):
    r = husk(*argv)
    assert r.rc == 1, r
    assert r.err == 'container "nope" does not exist\n', r
    assert r.out == "", r


def test_delete_force_of_missing_container_succeeds(husk):
    # containerd's shim cleanup runs `delete --force` and needs exit 0.
    for flag in ("--force", "-f", "--force=true"):
        r = husk("delete", flag, "nope")
        assert r.rc == 0, r
        assert r.err == "", r


@pytest.mark.parametrize("cid", ["a/b", "..", ".", "a b", "x" * 256])
def test_invalid_ids(husk, cid):
    r = husk("state", cid)
    assert r.rc == 1, r
    assert r.err == f"invalid id format: {cid}\n", r


def test_directory_without_record(husk):
    # A create killed before its first record leaves only the directory.
    os.makedirs(os.path.join(husk.root, "half"))
    r = husk("list", "-q")
    assert r.rc == 0 and r.out == "", r
    r = husk("state", "half")
    assert r.rc == 1 and 'container "half" does not exist' in r.err, r
    r = husk("delete", "--force", "half")
    assert r.rc == 0, r
    assert husk.ids() == []


def test_root_spellings_and_mode(husk, tmp):
    spellings = {"a": ["--root", "{}"], "b": ["--root={}"], "c": ["-root", "{}"],
                 "d": ["-root={}"]}
    for name, form in spellings.items():
        path = os.path.join(tmp, name, "nested")
        other = husk.with_root(path, make=False)
        r = other(*[f.format(path) for f in form], "list", root=False)
        assert r.rc == 0, r
        assert os.path.isdir(path)
        assert os.stat(path).st_mode & 0o777 == 0o700


def test_default_root_without_root_flag(husk, tmp):
    # No --root: /run/husk for root. Only look, never create containers there.
    r = husk("state", "husk-no-such-container", root=False)
    assert r.rc == 1, r
    assert 'container "husk-no-such-container" does not exist' in r.err, r
    assert os.path.isdir("/run/husk")


def test_unusable_root_is_named(husk, tmp):
    blocker = os.path.join(tmp, "file")
    open(blocker, "w").close()
    other = husk.with_root(os.path.join(blocker, "root"), make=False)
    r = other("list")
    assert r.rc == 1, r
    assert blocker in r.err, r


def test_errors_go_to_stderr_and_json_log(husk, tmp):
    log = os.path.join(tmp, "log.json")
    r = husk("--log", log, "--log-format=json", "state", "nope")
    assert r.rc == 1, r
    assert r.err == 'container "nope" does not exist\n', r
    r = husk(f"--log={log}", "--log-format", "json", "kill", "gone", "9")
    assert r.rc == 1, r
    entries = [json.loads(line) for line in h.read_text(log).splitlines()]
    assert [e["level"] for e in entries] == ["error"] * 2
    assert entries[-2]["msg"] == 'container "nope" does not exist'
    assert entries[-1]["msg"] == 'container "gone" does not exist'
    for e in entries:
        assert set(e) == {"level", "msg", "time"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", e["time"]), e


def test_text_log_is_logrus_shaped(husk, tmp):
    log = os.path.join(tmp, "log.txt")
    r = husk("--log", log, "delete", "nope")
    assert r.rc == 1, r
    line = h.read_text(log).rstrip("\n")
    assert "\n" not in line
    assert re.fullmatch(r'time="[^"]+Z" level=error msg="container \\"nope\\" does not exist"',
                        line), line


def test_list_of_empty_root(husk):
    r = husk("list")
    assert r.rc == 0, r
    assert r.out == "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n", r
    r = husk("list", "--format", "json")
    assert r.rc == 0 and json.loads(r.out) == [], r
    r = husk("list", "-f", "json", "-q")
    assert r.rc == 0 and r.out == "", r


def test_spec_writes_default_config_and_never_overwrites(husk, tmp):
    r = husk("spec", cwd=tmp, root=False)
    assert r.rc == 0, r
    path = os.path.join(tmp, "config.json")
    with open(path) as f:
        cfg = json.load(f)
    assert cfg["ociVersion"] == "1.3.0"
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"] == ["sh"]
    before = h.read_text(path)
    r = husk("spec", cwd=tmp, root=False)
    assert r.rc == 1, r
    assert r.err == "File config.json exists. Remove it first.\n", r
    assert h.read_text(path) == before


def test_spec_namespaces_match_runc_for_the_host(husk, tmp, bundle):
    # runc lists a cgroup namespace in its example spec only on a cgroup v2
    # host; `husk spec` lists the same namespaces, rootless or not.
    want_cgroup = h.host_is_cgroup2()
    for extra, want in (([], ["pid", "network", "ipc", "uts", "mount"]),
                        (["--rootless"], ["pid", "ipc", "uts", "mount"])):
        d = os.path.join(tmp, "b" + "".join(extra))
        os.makedirs(d)
        r = husk("spec", *extra, "-b", d, root=False)
        assert r.rc == 0, r
        with open(os.path.join(d, "config.json")) as f:
            kinds = [ns["type"] for ns in json.load(f)["linux"]["namespaces"]]
        expected = want + (["cgroup"] if want_cgroup else []) + (["user"] if extra else [])
        assert kinds == expected, (extra, kinds)
        runc = shutil.which("runc")
        if runc:
            rd = os.path.join(tmp, "runc" + "".join(extra))
            os.makedirs(rd)
            subprocess.run([runc, "spec", *extra], cwd=rd, check=True, capture_output=True)
            with open(os.path.join(rd, "config.json")) as f:
                assert kinds == [ns["type"] for ns in json.load(f)["linux"]["namespaces"]]
    # A config that lists the cgroup namespace itself (runc's spec on a v2
    # host, or an engine's) gets exactly that one.
    b = bundle(args=["/bin/sh", "-c", "readlink /proc/self/ns/cgroup"])
    if "cgroup" not in [ns["type"] for ns in b.config["linux"]["namespaces"]]:
        b.config["linux"]["namespaces"].append({"type": "cgroup"})
        b.write()
    r = husk.run("c1", b)
    assert r.rc == 0, r
    assert r.out.strip() != os.readlink("/proc/self/ns/cgroup"), r


def test_spec_rootless_into_bundle(husk, tmp):
    bundle = os.path.join(tmp, "b")
    os.makedirs(bundle)
    r = husk("spec", "--rootless", "-b", bundle, root=False)
    assert r.rc == 0, r
    with open(os.path.join(bundle, "config.json")) as f:
        cfg = json.load(f)
    kinds = [ns["type"] for ns in cfg["linux"]["namespaces"]]
    assert "user" in kinds and "network" not in kinds
    assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    r = husk("spec", "--bundle", os.path.join(tmp, "missing"), root=False)
    assert r.rc == 1 and os.path.join(tmp, "missing") in r.err, r


def test_features_mount_options_are_accepted(husk, bundle, tmp):
    """Every option `husk features` lists as a mount option works on a tmpfs
    or on a bind mount (idmap and ridmap given mappings, as they need)."""
    opts = json.loads(husk("features", root=False).out)["mountOptions"]
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    maps = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    refused = []
    for i, opt in enumerate(opts):
        errors = []
        for m in ({"destination": "/tmp/x", "type": "tmpfs", "source": "tmpfs",
                   "options": [opt]},
                  {"destination": "/tmp/x", "type": "bind", "source": src,
                   "options": ["rbind", opt], "uidMappings": maps, "gidMappings": maps}):
            b = bundle(args=["/bin/true"])
            b.config["mounts"].append(m)
            b.write()
            r = husk.run(f"o{i}", b)
            if r.rc == 0:
                break
            errors.append(r.err.strip())
        else:
            refused.append((opt, errors))
    assert refused == []
    assert husk.nothing_left() == []


def test_features_document(husk):
    r = husk("features", root=False)
    assert r.rc == 0, r
    f = json.loads(r.out)
    assert f["ociVersionMin"] == "1.0.0"
    assert f["ociVersionMax"] == "1.3.0"
    for hook in ("prestart", "createRuntime", "createContainer", "startContainer",
                 "poststart", "poststop"):
        assert hook in f["hooks"]
    # libcap's names (husk has no table of its own), in number order.
    assert f["linux"]["capabilities"][:2] == ["CAP_CHOWN", "CAP_DAC_OVERRIDE"]
    assert f["linux"]["capabilities"][40] == "CAP_CHECKPOINT_RESTORE"
    assert f["linux"]["cgroup"]["v1"] is True
