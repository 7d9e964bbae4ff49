"""`husk check`: a catalogue of broken bundles, each problem reported with
its JSON path and the right exit status (0 clean, 1 warnings, 2 errors),
and proof that checking creates nothing."""

import json
import os

import pytest

import helpers as h


def check(husk, bundle, *flags):
    r = husk("check", "--bundle", bundle.path, "--format", "json", *flags)
    assert r.rc in (0, 1, 2), r
    return r.rc, json.loads(r.out)["findings"]


def has(findings, severity, path, *words, suggestion=None):
    for f in findings:
        if f["severity"] != severity or f["path"] != path:
            continue
        if not all(w in f["message"] for w in words):
            continue
        if suggestion is not None and f.get("suggestion") != suggestion:
            continue
        return True
    return False


def test_check_clean_bundle_is_silent(husk, bundle):
    b = bundle()
    r = husk("check", "--bundle", b.path)
    assert (r.rc, r.out, r.err) == (0, "", ""), r
    rc, findings = check(husk, b)
    assert (rc, findings) == (0, [])


def set_path(cfg, path, value):
    node = cfg
    for k in path[:-1]:
        node = node.setdefault(k, {}) if isinstance(k, str) else node[k]
    node[path[-1]] = value


def pop_path(cfg, path):
    node = cfg
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]


# (id, mutation of the config, expected exit status, expected findings as
# (severity, path, words in the message[, suggestion]))
CATALOGUE = [
    ("typo-hostname", lambda c: c.update(hostnme="box"), 1,
     [("warning", "hostnme", ["unknown field"], "hostname")]),
    ("typo-nested", lambda c: c["process"].update(noNewPrivilege=True), 1,
     [("warning", "process.noNewPrivilege", ["unknown field"], "noNewPrivileges")]),
    ("bad-type", lambda c: c["process"].update(terminal="yes"), 2,
     [("error", "process.terminal", ["expected a boolean"])]),
    ("bad-types-several", lambda c: (c["process"]["user"].update(uid=-1),
                                     c.update(hostname=7)), 2,
     [("error", "process.user.uid", ["expected an unsigned 32-bit integer"]),
      ("error", "hostname", ["expected a string"])]),
    ("several-errors", lambda c: (c["process"].update(cwd="relative"),
                                  c["process"].update(env=["NOEQUALS"]),
                                  set_path(c, ["linux", "resources", "memory", "limit"], -5)), 2,
     [("error", "process.cwd", ["absolute"]),
      ("error", "process.env[0]", ["KEY=value"]),
      ("error", "linux.resources.memory.limit", ["must be -1"])]),
    ("relative-cwd", lambda c: c["process"].update(cwd="tmp"), 2,
     [("error", "process.cwd", ["must be an absolute path"])]),
    ("unknown-capability", lambda c: c["process"]["capabilities"]["bounding"].append("CAP_CHWON"),
     2, [("error", "process.capabilities.bounding", ["CAP_CHWON"], "CAP_CHOWN")]),
    ("unknown-syscall", lambda c: set_path(c, ["linux", "seccomp"], {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getpid", "no_such_syscall"], "action": "SCMP_ACT_ERRNO"}]}), 1,
     [("warning", "linux.seccomp.syscalls[0].names[1]", ["no_such_syscall", "unknown"])]),
    ("unknown-mount-option", lambda c: c["mounts"].append(
        {"destination": "/mnt", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosiud", "mode=755"]}), 1,
     [("warning", "mounts[{}].options[0]", ["nosiud"], "nosuid")]),
    ("missing-rootfs", lambda c: c["root"].update(path="no-such-rootfs"), 2,
     [("error", "root.path", ["no-such-rootfs"])]),
    ("missing-args0", lambda c: c["process"].update(args=["no-such-program"]), 2,
     [("error", "process.args[0]", ["no-such-program", "not an executable"])]),
    ("missing-args0-absolute", lambda c: c["process"].update(args=["/bin/nope"]), 2,
     [("error", "process.args[0]", ["/bin/nope"])]),
    ("apparmor", lambda c: c["process"].update(apparmorProfile="husk-test"), 2,
     [("error", "process.apparmorProfile", ["AppArmor"])]),
    ("selinux", lambda c: c["process"].update(selinuxLabel="system_u:system_r:container_t:s0"),
     2, [("error", "process.selinuxLabel", ["SELinux"])]),
    ("bad-uid-map", lambda c: (c["linux"]["namespaces"].append({"type": "user"}),
                               c["linux"].update(uidMappings=[
                                   {"containerID": 0, "hostID": 100000, "size": 0}],
                                   gidMappings=[
                                   {"containerID": 0, "hostID": 100000, "size": 65536},
                                   {"containerID": 10, "hostID": 200000, "size": 5}])), 2,
     [("error", "linux.uidMappings[0].size", ["must be > 0"]),
      ("error", "linux.gidMappings[1]", ["overlaps"])]),
    ("unknown-namespace-type", lambda c: c["linux"]["namespaces"].append({"type": "nett"}), 2,
     [("error", "linux.namespaces[{}].type", ["unknown namespace type"])]),
    # Valid (config.md: OPTIONAL until start), so a warning, not an error.
    ("missing-process", lambda c: pop_path(c, ["process"]), 1,
     [("warning", "process", ["required", "start"])]),
    ("unsupported-feature", lambda c: set_path(c, ["linux", "intelRdt"], {"closID": "x"}), 2,
     [("error", "linux.intelRdt", ["not supported"])]),
    ("hostname-without-uts", lambda c: (
        c["linux"].update(namespaces=[n for n in c["linux"]["namespaces"]
                                      if n["type"] != "uts"]),
        c.update(hostname="box")), 2,
     [("error", "hostname", ["UTS namespace"])]),
]


@pytest.mark.parametrize("name,mutate,status,expected", CATALOGUE,
                         ids=[c[0] for c in CATALOGUE])
def test_check_catalogue(husk, bundle, name, mutate, status, expected):
    b = bundle()
    n_mounts = len(b.config["mounts"])
    n_ns = len(b.config["linux"]["namespaces"])
    mutate(b.config)
    b.write()
    rc, findings = check(husk, b)
    for sev, path, words, *sugg in expected:
        # {} stands for the index the mutation appended at
        path = path.replace("mounts[{}]", f"mounts[{n_mounts}]").replace(
            "namespaces[{}]", f"namespaces[{n_ns}]")
        assert has(findings, sev, path, *words, suggestion=sugg[0] if sugg else None), \
            (sev, path, words, findings)
    assert rc == status, findings
    # errors make the exit status 2, warnings alone 1
    assert any(f["severity"] == "error" for f in findings) == (status == 2)
    assert husk.nothing_left() == []


def test_check_missing_cgroup_controller(husk, bundle):
    """net_cls is what linux.resources.network needs; cgroup v2 has no such
    controller at all, and this host's v1 layout mounts none (nor does a
    host with net_cls get this test's expectation wrong: then it is clean)."""
    b = bundle()
    set_path(b.config, ["linux", "resources", "network"], {"classID": 1048577})
    b.write()
    rc, findings = check(husk, b)
    have = os.path.isdir("/sys/fs/cgroup/net_cls") or os.path.isdir("/sys/fs/cgroup/net_cls,net_prio")
    if have and not h.host_is_cgroup2():
        assert rc == 0, findings
        return
    assert rc == 2, findings
    assert any(f["severity"] == "error" and f["path"].startswith("linux.resources.network")
               for f in findings), findings


def test_check_text_output(husk, bundle):
    b = bundle()
    b.config["hostnme"] = "box"
    set_path(b.config, ["linux", "resources", "memory", "limit"], -5)
    b.write()
    r = husk("check", "-b", b.path)
    assert r.rc == 2, r
    lines = r.out.splitlines()
    assert "error: linux.resources.memory.limit: must be -1 (unlimited) or >= 0, got -5" in lines
    assert 'warning: hostnme: unknown field "hostnme"; did you mean "hostname"?' in lines


def test_check_unreadable_bundle(husk, tmp):
    r = husk("check", "--bundle", tmp)
    assert r.rc == 2, r
    assert r.out.startswith("error: ") and "config.json not found" in r.out
    with open(os.path.join(tmp, "config.json"), "w") as f:
        f.write("{ not json")
    r = husk("check", "--bundle", tmp, "--format", "json")
    assert r.rc == 2, r
    [f] = json.loads(r.out)["findings"]
    assert f["severity"] == "error" and "invalid JSON" in f["message"]


def test_check_create_still_stops_at_first_error(husk, bundle):
    """create fails with the first error, worded as it always was."""
    b = bundle()
    b.config["process"]["cwd"] = "relative"
    set_path(b.config, ["linux", "resources", "memory", "limit"], -5)
    b.write()
    r = husk.create("c1", b)
    assert r.rc != 0
    assert r.err.strip() == 'process.cwd: must be an absolute path, got "relative"', r
    assert husk.nothing_left() == []


def snapshot(ctx, root):
    """What a check must not change: the state root, this test's cgroup
    directories under husk-test, the mounts below this test's directory (the
    bundles' rootfs among them; other tests share the host meanwhile)."""
    def tree(top):
        out = []
        for d, dirs, files in os.walk(top):
            out += [os.path.join(d, x) for x in dirs + files]
        return sorted(out)
    mounts = sorted((m["id"], m["mount_point"]) for m in h.host_mounts()
                    if m["mount_point"].startswith(ctx.dir))
    return (os.path.exists(root), tree(root) if os.path.exists(root) else [],
            sorted(h.cgroup_dirs(ctx.cgroup_glob())), mounts)


def test_check_creates_nothing(husk, bundle):
    """Neither a clean bundle nor one full of problems (user namespace,
    cgroup limits, seccomp, mounts) makes a state dir, cgroup, mount or
    process; husk check runs no container process at all."""
    clean = bundle()
    broken = bundle()
    broken.config["linux"]["namespaces"].append({"type": "user"})
    broken.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    broken.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    set_path(broken.config, ["linux", "resources", "memory", "limit"], 1 << 30)
    set_path(broken.config, ["linux", "resources", "pids", "limit"], 50)
    set_path(broken.config, ["linux", "seccomp"], {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"}]})
    broken.config["hostnme"] = "x"
    broken.write()
    runner = husk.with_root(os.path.join(husk.ctx.dir, "unmade-root"), make=False)
    before = snapshot(husk.ctx, runner.root)
    assert before[0] is False
    for b in (clean, broken):
        r = runner("check", "--bundle", b.path)
        assert r.rc in (0, 1), r
        assert snapshot(husk.ctx, runner.root) == before  # not even the state root was made
    assert not h.marked_pids(value=husk.ctx.mark)
    assert husk.nothing_left() == []
