"""Installing husk: `cmake --install` into a temporary prefix, and the Debian
packages `cpack -G DEB` builds, installed with dpkg into a temporary root
(never into the system) and removed again.

Needs HUSK_BUILD_DIR (a configured and built tree); run by ctest as `package`."""

import os
import re
import subprocess

import pytest

BUILD = os.environ["HUSK_BUILD_DIR"]


def run(*cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       stdin=subprocess.DEVNULL, **kw)
    assert r.returncode == 0, (cmd, r.stdout, r.stderr)
    return r.stdout


def verbs(husk):
    """The verbs `husk --help` lists."""
    out = run(husk, "--help")
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in block.splitlines()]
    return [n for n in names if n != "help"]


def build_id(path):
    m = re.search(r"Build ID: ([0-9a-f]+)", run("readelf", "-n", path))
    assert m, path
    return m.group(1)


def has_debug_info(path):
    return ".debug_info" in run("readelf", "-S", "-W", path)


def needed_libraries(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", run("readelf", "-d", path))


def check_tree(prefix, husk):
    """What an installed husk consists of, under prefix (e.g. /usr)."""
    assert os.access(husk, os.X_OK)
    assert not has_debug_info(husk), "the installed binary is stripped"
    assert run(husk, "--version").startswith("husk version ")
    man = os.path.join(prefix, "share/man/man8")
    assert os.path.isfile(os.path.join(man, "husk.8"))
    for verb in verbs(husk):
        page = os.path.join(man, f"husk-{verb}.8")
        with open(page) as f:
            text = f.read()
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLES"):
            assert f"\n.SH {section}\n" in text, (page, section)
    with open(os.path.join(prefix, "share/bash-completion/completions/husk")) as f:
        assert re.search(r"^complete -F \w+ husk$", f.read(), re.M)
    assert os.path.isfile(os.path.join(prefix, "share/zsh/vendor-completions/_husk"))
    assert os.path.isfile(os.path.join(prefix, "share/fish/vendor_completions.d/husk.fish"))


def test_cmake_install_into_a_prefix(tmp_path):
    prefix = tmp_path / "prefix"
    run("cmake", "--install", BUILD, "--prefix", str(prefix))
    husk = str(prefix / "sbin/husk")
    check_tree(str(prefix), husk)
    # The debug info went to a file gdb finds by the binary's build id.
    bid = build_id(husk)
    debug = prefix / "lib/debug/.build-id" / bid[:2] / f"{bid[2:]}.debug"
    assert debug.is_file()
    assert has_debug_info(str(debug))
    assert build_id(str(debug)) == bid


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    out = tmp_path_factory.mktemp("debs")
    run("cpack", "-G", "DEB", "-B", str(out), "--config",
        os.path.join(BUILD, "CPackConfig.cmake"))
    found = {}
    for name in os.listdir(out):
        if name.endswith(".deb"):
            found[run("dpkg-deb", "-f", str(out / name), "Package").strip()] = str(out / name)
    assert set(found) == {"husk", "husk-dbg"}, found
    return found


def test_deb_metadata(debs):
    fields = run("dpkg-deb", "-f", debs["husk"])
    f = dict(re.findall(r"^(\S+): (.*)$", fields, re.M))
    assert f["Version"] == run(os.path.join(BUILD, "husk"), "--version").split()[2]
    assert f["Architecture"] == run("dpkg", "--print-architecture").strip()
    assert f["Section"] == "admin"
    assert f["Maintainer"] and f["Description"].strip()
    # Depends is true: the shared libraries the binary loads, nothing else.
    libs = needed_libraries(os.path.join(BUILD, "husk"))
    if libs:
        assert "libc6" in f.get("Depends", ""), f
    else:
        assert "Depends" not in f, f
    dbg = dict(re.findall(r"^(\S+): (.*)$", run("dpkg-deb", "-f", debs["husk-dbg"]), re.M))
    assert dbg["Depends"] == f"husk (= {f['Version']})"


def test_deb_installs_runs_and_removes_in_a_private_root(debs, tmp_path):
    root = tmp_path / "root"
    (root / "var/lib/dpkg/info").mkdir(parents=True)
    (root / "var/lib/dpkg/updates").mkdir()
    (root / "var/lib/dpkg/status").write_text("")
    dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-not-root"]
    # Its own dependencies are not in the empty root: checked by metadata above.
    run(*dpkg, "--force-depends", "-i", debs["husk"], debs["husk-dbg"])
    check_tree(str(root / "usr"), str(root / "usr/sbin/husk"))
    bid = build_id(str(root / "usr/sbin/husk"))
    assert (root / "usr/lib/debug/.build-id" / bid[:2] / f"{bid[2:]}.debug").is_file()
    assert "ii  husk " in run(*dpkg, "-l", "husk")
    run(*dpkg, "-r", "husk-dbg", "husk")
    left = [os.path.join(d, n) for d, _, names in os.walk(root / "usr") for n in names]
    assert left == [], left
