"""Small runc-compatibility gaps: update validates like create before writing
anything; the state root's dot-files (.cgroup-parents) are neither
containers nor valid ids; delete removes the cgroup parents husk made once the
last container under them is gone, and only those."""

import json
import os

import helpers as h
from helpers import probe

MIB = 1024 * 1024
ROOT = h.CGROUP_ROOT
V2_HOST = h.V2_HOST


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


# ---- the state root's dot-files --------------------------------------------

def under_new_parent(bundle):
    """A bundle whose cgroupsPath has a parent husk makes, so the root holds
    .cgroup-parents while it lives."""
    b = bundle(args=probe("wait-signal"))
    b.cgroup_path = b.cgroup_path + "-parent/c"
    b.config["linux"]["cgroupsPath"] = b.cgroup_path
    return b.write()


def test_list_does_not_show_the_roots_dot_files(husk, bundle):
    husk.create_ok("c1", under_new_parent(bundle))
    assert os.path.isfile(os.path.join(husk.root, ".cgroup-parents"))
    r = husk("list", "-q")
    assert r.rc == 0, r
    assert r.out.split() == ["c1"], r
    r = husk("list", "--format", "json")
    assert r.rc == 0, r
    assert [c["id"] for c in json.loads(r.out)] == ["c1"], r
    assert husk.delete("c1", force=True).rc == 0


def test_ids_starting_with_a_dot_are_invalid(husk, bundle):
    b = under_new_parent(bundle)
    husk.create_ok("c1", b)
    for cid in (".cgroup-parents", ".x", "..."):
        for args in (("create", "--bundle", b.path, cid), ("state", cid),
                     ("delete", "--force", cid), ("kill", cid, "9")):
            r = husk(*args)
            assert r.rc == 1, r
            assert r.err == f"invalid id format: {cid}\n", r
    # The record survived `delete --force .cgroup-parents`.
    assert os.path.isfile(os.path.join(husk.root, ".cgroup-parents"))
    assert husk.delete("c1", force=True).rc == 0


# ---- shared cgroup parents --------------------------------------------------

def two_under(bundle, parent):
    bs = []
    for leaf in ("a", "b"):
        b = bundle(args=probe("wait-signal"),
                   patch={"linux": {"cgroupsPath": f"{parent}/{leaf}"}})
        bs.append(b)
    return bs


def test_delete_removes_shared_parent_husk_made_when_last_leaves(husk, bundle):
    parent = f"/{h.CGROUP_PARENT}/{h.cgroup_name(husk.ctx.index, 'shared')}"
    assert not any(os.path.exists(d) for d in h.hierarchy_dirs(parent))
    # /husk-test exists before (earlier tests may or may not have left it):
    # made here, husk did not make it and must leave it.
    for d in h.hierarchy_dirs(parent):
        os.makedirs(os.path.dirname(d), exist_ok=True)
    a, b = two_under(bundle, parent)
    husk.create_ok("a", a)  # makes the parent
    husk.create_ok("b", b)  # finds it
    assert all(os.path.isdir(d + "/b") for d in h.hierarchy_dirs(parent))
    # The container that made the parent leaves first: still in use by b.
    assert husk.delete("a", force=True).rc == 0
    assert all(os.path.isdir(d) for d in h.hierarchy_dirs(parent))
    assert not any(os.path.exists(d + "/a") for d in h.hierarchy_dirs(parent))
    # The last one out removes it, though it did not make it.
    assert husk.delete("b", force=True).rc == 0
    assert not any(os.path.exists(d) for d in h.hierarchy_dirs(parent))
    # Its own parent (/husk-test) existed before: untouched.
    assert all(os.path.isdir(os.path.dirname(d)) for d in h.hierarchy_dirs(parent))


def test_delete_keeps_a_parent_husk_did_not_make(husk, bundle):
    parent = f"/{h.CGROUP_PARENT}/{h.cgroup_name(husk.ctx.index, 'theirs')}"
    made = h.hierarchy_dirs(parent)
    for d in made:
        os.makedirs(d)
    try:
        a, b = two_under(bundle, parent)
        husk.create_ok("a", a)
        husk.create_ok("b", b)
        assert husk.delete("b", force=True).rc == 0
        assert husk.delete("a", force=True).rc == 0
        assert all(os.path.isdir(d) for d in made)
        assert not any(os.path.exists(d + "/a") or os.path.exists(d + "/b") for d in made)
    finally:
        for d in made:
            os.rmdir(d)


def test_failed_create_does_not_remove_a_parent_in_use(husk, bundle):
    parent = f"/{h.CGROUP_PARENT}/{h.cgroup_name(husk.ctx.index, 'busy')}"
    a, b = two_under(bundle, parent)
    husk.create_ok("a", a)
    b.config["process"]["args"] = ["/no/such/binary"]
    b.write()
    r = husk.create("b", b)
    assert r.rc != 0, r
    assert all(os.path.isdir(d + "/a") for d in h.hierarchy_dirs(parent))
    assert husk.status("a") == "created"
    assert husk.delete("a", force=True).rc == 0
    assert not any(os.path.exists(d) for d in h.hierarchy_dirs(parent))
