"""The seccomp filter as a container sees it: profiles written before the
kernel's newer syscalls still run (husk makes none of those after loading
the filter, and syscalls newer than the profile answer ENOSYS, as runc
does), and startContainer hooks run under the filter."""

import os

import pytest

from helpers import probe

# An allowlist of the classic calls a small static program and its runtime
# need, as profiles written before 2019 look (Docker's, runtime-tools'): none
# of close_range, faccessat2, openat2, clone3, pidfd_open, the new mount API.
CLASSIC = [
    "read", "write", "open", "openat", "close", "stat", "fstat", "lstat", "newfstatat",
    "lseek", "mmap", "mprotect", "munmap", "madvise", "brk", "rt_sigaction",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "ioctl",
    "pread64", "pwrite64", "readv", "writev", "access", "faccessat", "pipe", "pipe2",
    "dup", "dup2", "dup3", "nanosleep", "clock_nanosleep", "getpid", "getppid", "gettid",
    "socket", "connect", "sendto", "recvfrom", "sendmsg", "recvmsg", "socketpair",
    "clone", "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4",
    "kill", "tgkill", "uname", "fcntl", "getdents64", "getcwd", "chdir", "fchdir",
    "rename", "mkdir", "rmdir", "unlink", "readlink", "readlinkat", "chmod", "umask",
    "gettimeofday", "getrlimit", "prlimit64", "getuid", "getgid", "geteuid", "getegid",
    "setuid", "setgid", "setgroups", "setresuid", "setresgid", "getresuid", "getresgid",
    "getgroups", "capget", "capset", "prctl", "arch_prctl", "set_tid_address",
    "set_robust_list", "futex", "sched_yield", "sched_getaffinity", "poll", "ppoll",
    "select", "pselect6", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "getrandom", "statfs", "fstatfs", "sysinfo", "clock_gettime", "time", "statx",
    "sethostname", "setsid", "getpgrp", "setpgid", "getsid", "restart_syscall",
]


def classic_profile(default="SCMP_ACT_ERRNO"):
    return {"defaultAction": default,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [{"names": CLASSIC, "action": "SCMP_ACT_ALLOW"}]}


@pytest.mark.parametrize("nnp", [False, True])
def test_a_classic_allowlist_runs_with_create_and_start(husk, bundle, nnp):
    # Without no_new_privs the filter goes in before the uid change (it needs
    # CAP_SYS_ADMIN then); with it, after the exec.fifo handshake. Either
    # way, what husk does after it must be allowed by such a profile.
    b = bundle(args=probe("write /tmp/ran yes"),
               patch={"process": {"noNewPrivileges": nnp, "user": {"uid": 1000, "gid": 1000}},
                      "root": {"readonly": False},
                      "linux": {"seccomp": classic_profile()}})
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    husk.wait_status("c1", "stopped")
    assert open(b.host_path("/tmp/ran")).read() == "yes"
    r = husk.delete("c1")
    assert r.rc == 0, r


@pytest.mark.parametrize("nnp", [False, True])
def test_a_classic_allowlist_runs_with_run(husk, bundle, nnp):
    b = bundle(args=probe("syscall getpid", "syscall nr=436"),
               patch={"process": {"noNewPrivileges": nnp},
                      "linux": {"seccomp": classic_profile()}})
    r = husk.run("c1", b)
    assert r.rc == 0, r
    # close_range (436) is newer than every call the profile names: ENOSYS.
    assert r.out.splitlines() == ["ok", "errno=ENOSYS"], r


def test_exec_under_a_classic_allowlist(husk, bundle):
    b = bundle(args=probe("sleep 1000"), patch={"linux": {"seccomp": classic_profile()}})
    husk.create_ok("c1", b)
    husk.start_ok("c1")
    r = husk("exec", "c1", *probe("syscall getpid"))
    assert (r.rc, r.out) == (0, "ok\n"), r
    assert husk.kill("c1", "KILL").rc == 0
    husk.wait_status("c1", "stopped")


def test_syscalls_newer_than_the_profile_answer_enosys(husk, bundle):
    # mlock (149) is below the profile's highest call but not listed: the
    # default action. 1000 is above every call of the profile: ENOSYS, so
    # that libc falls back (glibc tries clone3 first and falls back to clone
    # only on ENOSYS).
    b = bundle(args=probe("syscall mlock", "syscall nr=1000", "syscall nr=435"),
               patch={"root": {"readonly": False}, "linux": {"seccomp": classic_profile()}})
    r = husk.run("c1", b)
    assert r.out.splitlines() == ["errno=EPERM", "errno=ENOSYS", "errno=ENOSYS"], r


def test_an_allowing_default_leaves_new_syscalls_to_the_kernel(husk, bundle):
    prof = {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}
    b = bundle(args=probe("syscall mkdir", "syscall getpid", "syscall nr=1000"),
               patch={"root": {"readonly": False}, "linux": {"seccomp": prof}})
    r = husk.run("c1", b)
    # 1000 reaches the kernel, which has no such call: ENOSYS from it.
    assert r.out.splitlines() == ["errno=EPERM", "ok", "errno=ENOSYS"], r


def kill_mkdir_profile():
    return {"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}


def start_hook_bundle(bundle, nnp):
    # startContainer hooks run in the container, so /bin/mkdir is busybox's.
    return bundle(args=probe("exit 0"),
                  patch={"process": {"noNewPrivileges": nnp},
                         "linux": {"seccomp": kill_mkdir_profile()},
                         "hooks": {"startContainer": [
                             {"path": "/bin/mkdir", "args": ["mkdir", "/tmp/from-hook"]}]}})


@pytest.mark.parametrize("nnp", [False, True])
def test_start_container_hooks_run_under_the_filter(husk, bundle, nnp):
    b = start_hook_bundle(bundle, nnp)
    r = husk.run("c1", b)
    assert r.rc != 0, r
    assert "startContainer hook #0 (/bin/mkdir): killed by signal 31" in r.err, r
    assert not os.path.exists(b.host_path("/tmp/from-hook"))
    assert husk.ids() == []


def test_start_container_hook_under_the_filter_fails_start(husk, bundle):
    b = start_hook_bundle(bundle, True)
    husk.create_ok("c1", b)
    r = husk.start("c1")
    assert r.rc != 0, r
    assert "startContainer hook #0 (/bin/mkdir): killed by signal 31" in r.err, r
    r = husk.delete("c1", force=True)
    assert r.rc == 0, r
