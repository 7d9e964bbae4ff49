"""Small runc-compatibility gaps: update validates like create before writing
anything; the state root's dot-directories (.seccomp-cache) are neither
containers nor valid ids; delete removes the cgroup parents husk made once the
last container under them is gone, and only those."""

import json
import os

import helpers as h
from helpers import probe

MIB = 1024 * 1024
ROOT = h.CGROUP_ROOT
V2_HOST = os.path.exists(f"{ROOT}/cgroup.controllers")


def memory_dir(rel):
    return ROOT + rel if V2_HOST else f"{ROOT}/memory{rel}"


def memory_limit(rel):
    f = "memory.max" if V2_HOST else "memory.limit_in_bytes"
    return int(h.read_text(f"{memory_dir(rel)}/{f}").strip())


# ---- update validates before writing ----------------------------------------

def test_update_rejects_invalid_resources_naming_the_field(husk, bundle, tmp):
    b = bundle(args=probe("wait-signal"),
               patch={"linux": {"resources": {"memory": {"limit": 32 * MIB}}}})
    husk.create_ok("c1", b)
    cases = [
        ({"memory": {"limit": 64 * MIB}, "cpu": {"cpus": "3-1"}}, "cpu.cpus"),
        ({"memory": {"limit": 64 * MIB}, "blockIO": {"weight": 5}}, "blockIO.weight"),
        ({"memory": {"limit": 64 * MIB}, "cpu": {"quota": 1000, "burst": 5000}}, "cpu.burst"),
    ]
    for i, (doc, field) in enumerate(cases):
        path = os.path.join(tmp, f"r{i}.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        r = husk("update", "--resources", path, "c1")
        assert r.rc != 0, r
        assert field in r.err, r
        # Nothing was written: the valid memory limit in the same document too.
        assert memory_limit(b.cgroup_path) == 32 * MIB, doc
    # A valid document still applies.
    path = os.path.join(tmp, "ok.json")
    with open(path, "w") as f:
        json.dump({"memory": {"limit": 64 * MIB}}, f)
    r = husk("update", "--resources", path, "c1")
    assert r.rc == 0, r
    assert memory_limit(b.cgroup_path) == 64 * MIB
    assert husk.delete("c1", force=True).rc == 0


# ---- the state root's dot-directories ---------------------------------------

SECCOMP = {"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["mlock"], "action": "SCMP_ACT_ERRNO"}]}}}


def test_list_does_not_show_the_seccomp_cache(husk, bundle):
    b = bundle(args=probe("wait-signal"), patch=SECCOMP)
    husk.create_ok("c1", b)
    assert os.path.isdir(os.path.join(husk.root, ".seccomp-cache"))
    r = husk("list", "-q")
    assert r.rc == 0, r
    assert r.out.split() == ["c1"], r
    r = husk("list", "--format", "json")
    assert r.rc == 0, r
    assert [c["id"] for c in json.loads(r.out)] == ["c1"], r
    assert husk.delete("c1", force=True).rc == 0


def test_ids_starting_with_a_dot_are_invalid(husk, bundle):
    b = bundle(args=probe("wait-signal"), patch=SECCOMP)
    husk.create_ok("c1", b)
    for cid in (".seccomp-cache", ".x", "..."):
        for args in (("create", "--bundle", b.path, cid), ("state", cid),
                     ("delete", "--force", cid), ("kill", cid, "9")):
            r = husk(*args)
            assert r.rc == 1, r
            assert r.err == f"invalid id format: {cid}\n", r
    # The cache survived `delete --force .seccomp-cache`.
    assert os.path.isdir(os.path.join(husk.root, ".seccomp-cache"))
    assert husk.delete("c1", force=True).rc == 0
