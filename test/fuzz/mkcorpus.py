#!/usr/bin/python3
"""Regenerate the seed corpora of test/fuzz/corpus/ from real inputs.

Usage: test/fuzz/mkcorpus.py HUSK_BINARY

- config: `husk spec` (and --rootless), and that config patched by every case
  of conformance/cases/*.yaml, merged as the conformance runner merges them
  (objects key by key, null deletes, "key+" appends);
- resources: their linux.resources objects;
- seccomp: podman's default profile (/usr/share/containers/seccomp.json)
  converted to the OCI linux.seccomp podman generates for a default container
  on amd64 (as test/unit/seccomp_podman_profile.hpp), and the cases' own;
- process: their process objects;
- mount_options: their mounts' options, one per line.
The state, cli and passwd corpora are real files kept as they are (see
docs/reliability.md). Files are named by a hash of their content, so running
this again adds only what changed.
"""
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile

import yaml

SRC = pathlib.Path(__file__).resolve().parents[2]
OUT = SRC / "test/fuzz/corpus"


def write(target, data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, indent=1)
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def husk_spec(husk, *args):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([husk, "spec", *args], cwd=tmp, check=True)
        return json.loads(pathlib.Path(tmp, "config.json").read_text())


def subst(v):
    if isinstance(v, str):
        return v.replace("${casedir}", "/tmp/case").replace("${", "/tmp/").replace("}", "")
    if isinstance(v, list):
        return [subst(x) for x in v]
    if isinstance(v, dict):
        return {k: subst(x) for k, x in v.items()}
    return v


def merge(base, patch):
    for k, v in patch.items():
        if k.endswith("+") and isinstance(v, list):
            base.setdefault(k[:-1], [])
            if isinstance(base[k[:-1]], list):
                base[k[:-1]] += v
        elif v is None:
            base.pop(k, None)
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = v


def podman_seccomp():
    prof = json.loads(pathlib.Path("/usr/share/containers/seccomp.json").read_text())
    arches = {"amd64", "x86_64", "x32", "x86"}
    caps = {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
            "CAP_SYS_CHROOT"}
    out = {"defaultAction": prof["defaultAction"],
           "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
           "syscalls": []}
    if "defaultErrnoRet" in prof:
        out["defaultErrnoRet"] = prof["defaultErrnoRet"]
    for s in prof["syscalls"]:
        inc, exc = s.get("includes") or {}, s.get("excludes") or {}
        if inc.get("arches") and not arches & set(inc["arches"]):
            continue
        if not set(inc.get("caps") or []) <= caps:
            continue
        if arches & set(exc.get("arches") or []) or caps & set(exc.get("caps") or []):
            continue
        rule = {"names": s["names"], "action": s["action"]}
        if isinstance(s.get("errnoRet"), int):
            rule["errnoRet"] = s["errnoRet"]
        if s.get("args"):
            rule["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op")} for a in s["args"]]
        out["syscalls"].append(rule)
    return out


def main():
    husk = sys.argv[1]
    base = husk_spec(husk)
    base["process"]["terminal"] = False
    configs = [base, husk_spec(husk, "--rootless")]
    for f in sorted((SRC / "conformance/cases").glob("*.yaml")):
        for case in yaml.safe_load(f.read_text()).get("cases") or []:
            if isinstance(case.get("config"), dict):
                c = json.loads(json.dumps(base))
                merge(c, subst(case["config"]))
                if "args" in case:
                    c.setdefault("process", {})["args"] = subst(case["args"])
                configs.append(c)
    for c in configs:
        write("config", c)
        linux = c.get("linux") or {}
        if isinstance(linux.get("resources"), dict):
            write("resources", linux["resources"])
        if isinstance(linux.get("seccomp"), dict):
            write("seccomp", linux["seccomp"])
        if isinstance(c.get("process"), dict):
            write("process", c["process"])
        for m in c.get("mounts") or []:
            if isinstance(m, dict) and m.get("options"):
                write("mount_options", "\n".join(map(str, m["options"])))
    write("seccomp", podman_seccomp())


if __name__ == "__main__":
    main()
