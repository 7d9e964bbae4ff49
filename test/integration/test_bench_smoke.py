"""Smoke run of scripts/bench: it runs, prints one RESULT line per runtime,
and leaves nothing behind. Numbers are not checked (no timed assertions)."""

import glob
import os
import re
import subprocess

import helpers as h

BENCH = os.path.join(h.SOURCE_DIR, "scripts", "bench")
RESULT = re.compile(r"^RESULT (\S+) (?:unavailable reason=.*|run_median_ms=\S+ vs_crun=\S+ "
                    r"vs_floor=\S+ peak_rss_kb=\S+)$")

pytestmark = h.requires("root")


def run_bench(*args, husk_bin=None):
    env = dict(os.environ)
    if husk_bin is not None:
        env["HUSK_BIN"] = husk_bin
    p = subprocess.Popen([BENCH, "--smoke", *args], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=600)
    return p, out, err


def results(out):
    lines = out.strip().splitlines()
    tail = [ln for ln in lines if ln.startswith("RESULT ")]
    assert tail, out
    assert lines[-len(tail):] == tail, "RESULT lines must come last"
    for ln in tail:
        assert RESULT.match(ln), ln
    return {ln.split()[1]: ln for ln in tail}


def assert_nothing_left(p, err):
    tag = f"hb{p.pid}-"
    assert not glob.glob(f"/sys/fs/cgroup/*/husk-bench/{tag}*")
    assert not glob.glob(f"/sys/fs/cgroup/husk-bench/{tag}*")
    workdir = re.search(r"bench: workdir (\S+),", err)
    assert workdir, err
    assert not os.path.exists(workdir.group(1))
    with open("/proc/self/mountinfo") as f:
        assert workdir.group(1) not in f.read()


def test_smoke_prints_results_for_every_runtime():
    p, out, err = run_bench(husk_bin=os.environ.get("HUSK_BIN"))
    assert p.returncode == 0, err[-3000:]
    res = results(out)
    assert list(res) == ["husk", "crun", "runc", "floor"]
    # crun and runc come from Debian packages the bench installs; the floor is
    # built from test/bench: all three must really have run.
    for rt in ("crun", "runc", "floor"):
        assert "run_median_ms=na" not in res[rt] and "unavailable" not in res[rt], res[rt]
    assert "LEAK" not in out
    assert_nothing_left(p, err)


def test_broken_husk_is_reported_unavailable():
    p, out, err = run_bench("--runtimes", "husk,floor", "--only", "run", husk_bin="/bin/false")
    assert p.returncode == 0, err[-3000:]
    res = results(out)
    assert res["husk"].startswith("RESULT husk unavailable reason=")
    assert "run_median_ms=" in res["floor"] and "=na" not in res["floor"].split()[2]
    assert_nothing_left(p, err)
