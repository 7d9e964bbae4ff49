"""The shell completions the build writes from the command table
(build/docs/completions, installed by `cmake --install`): run through bash
and fish as a user's TAB would run them, they complete verbs, flags, flag
values, and the ids of the containers under the --root given."""

import os
import shlex
import shutil
import subprocess

import pytest

import helpers as h
from helpers import probe

DOCS = os.path.join(os.path.dirname(h.HUSK_BIN), "docs", "completions")


def bash_complete(*words):
    """COMPREPLY for the command line `words` (the last one being completed)."""
    script = (f"source {shlex.quote(os.path.join(DOCS, 'husk.bash'))}\n"
              f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n"
              "_husk\n"
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == "", r
    return [line for line in r.stdout.splitlines() if line]


def fish_complete(line):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed (scripts/deps installs it)")
    script = (f"source {shlex.quote(os.path.join(DOCS, 'husk.fish'))}\n"
              f"complete --do-complete={shlex.quote(line)}\n")
    r = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == "", r
    return [l.split("\t")[0] for l in r.stdout.splitlines()]


def test_bash_completes_verbs_flags_and_values():
    assert bash_complete(h.HUSK_BIN, "ki") == ["kill"]
    assert set(bash_complete(h.HUSK_BIN, "")) >= {"create", "run", "exec", "list", "help"}
    assert set(bash_complete(h.HUSK_BIN, "kill", "-")) == {"--all", "-a", "--help", "-h"}
    assert bash_complete(h.HUSK_BIN, "--log-format", "") == ["text", "json"]
    assert bash_complete(h.HUSK_BIN, "list", "--format", "") == ["table", "json"]
    # A global flag's value is not taken for the verb.
    assert bash_complete(h.HUSK_BIN, "--root", "/tmp", "li") == ["list"]
    # After exec's container id come the command and its own flags.
    assert bash_complete(h.HUSK_BIN, "exec", "c1", "ls", "-") == []
    assert "TERM" in bash_complete(h.HUSK_BIN, "kill", "c1", "")


def test_bash_completes_container_ids_from_the_root_given(husk, bundle):
    husk.create_ok("c1", bundle(args=probe("sleep 100")))
    husk.create_ok("c2", bundle(args=probe("sleep 100")))
    assert bash_complete(h.HUSK_BIN, "--root", husk.root, "kill", "") == ["c1", "c2"]
    assert bash_complete(h.HUSK_BIN, "--root", husk.root, "delete", "--force", "c") == ["c1", "c2"]
    assert bash_complete(h.HUSK_BIN, f"--root={husk.root}", "state", "c2") == ["c2"]
    # Not for a verb whose operand is a new id, nor a second operand.
    assert bash_complete(h.HUSK_BIN, "--root", husk.root, "create", "") == []
    assert bash_complete(h.HUSK_BIN, "--root", husk.root, "state", "c1", "") == []


def test_fish_completes_verbs_flags_and_container_ids(husk, bundle):
    assert fish_complete("husk ki") == ["kill"]
    assert set(fish_complete("husk kill -")) >= {"-a", "--all", "-h", "--help"}
    assert fish_complete("husk list --format ") == ["json", "table"]
    husk.create_ok("c1", bundle(args=probe("sleep 100")))
    assert fish_complete(f"{h.HUSK_BIN} --root {husk.root} kill ") == ["c1"]
    assert fish_complete(f"{h.HUSK_BIN} --root {husk.root} list ") == []


def test_zsh_completion_is_valid_zsh():
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed (scripts/deps installs it)")
    path = os.path.join(DOCS, "_husk")
    r = subprocess.run(["zsh", "-n", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r
    with open(path) as f:
        assert f.readline() == "#compdef husk\n"
