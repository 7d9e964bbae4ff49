#include "linux/init.hpp"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/phases.hpp"
#include "hooks/hooks.hpp"
#include "linux/child.hpp"
#include "linux/memory.hpp"
#include "linux/mount.hpp"
#include "linux/paths.hpp"
#include "sys/clone.hpp"
#include "sys/mount_api.hpp"
#include "sys/unix_socket.hpp"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace husk::linux_setup {

namespace {

using protocol::HookStates;
using protocol::InitEnd;

// The intermediate path: the pid namespace can only be created now, and only
// children enter it (pid_namespaces(7)). CLONE_PARENT makes the real init a
// child of husk, which waits for it and whose caller reaps it later, exactly
// as in the direct path. This process then leaves.
Status fork_real_init(InitEnd& ch) {
  if (::unshare(CLONE_NEWPID) != 0) return Error::last("unshare(CLONE_NEWPID)");
  sys::Cloned c = TRY(sys::clone3_pidfd(CLONE_PARENT));
  if (c.is_child()) return {};
  Status sent = ch.send_init_forked(c.pid, c.pidfd.get());
  ::_exit(sent ? 0 : 1);
}

// bind_sources: filled with the fds of the bind sources the parent opens
// for us once we are in our user namespace (open_bind_sources), by
// config.mounts index.
Status set_dumpable(bool on) {
  if (::prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0) != 0) {
    return Error::last("prctl(PR_SET_DUMPABLE, {})", on ? 1 : 0);
  }
  return {};
}

Status setup_namespaces(InitEnd& ch, const NamespacePlan& ns,
                        std::vector<sys::UniqueFd>& bind_sources) {
  TRY(join_namespaces(ns));
  TRY(unshare_namespaces(ns));
  if (ns.new_user) {
    // A non-dumpable process's /proc/<pid> belongs to root (proc(5),
    // PR_SET_DUMPABLE), so an unprivileged parent (or newuidmap, which
    // checks the target is the caller's) could not open its uid_map.
    // Dumpable only until mapped: nothing of the container runs yet.
    if (ns.unprivileged_parent) TRY(set_dumpable(true));
    TRY(ch.send_userns_ready());
    TRY(ch.await_userns_mapped(bind_sources));
    if (ns.unprivileged_parent) TRY(set_dumpable(false));
  }
  TRY(become_userns_root(ns));
  TRY(create_late_namespaces(ns));
  if (ns.intermediate) TRY(fork_real_init(ch));
  return {};
}

// A session keyring of the container's own, so it cannot see or use the keys
// of the caller's session, which it would otherwise inherit (keyrings(7));
// --no-new-keyring keeps the inherited one. Kernels without keys: nothing to
// isolate. With process.selinuxLabel the keyring is created with that label
// (the keycreate attribute, which the execve resets), as under runc.
Status join_session_keyring(const InitPlan& p) {
  const char* name = p.session_keyring;
  if (name == nullptr) return {};
  if (p.process != nullptr && p.process->selinux) {
    TRY_CTX(apply_lsm(*p.process->selinux, kKeyCreateAttr), "process.selinuxLabel: keyring");
  }
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0 && errno != ENOSYS) {
    return Error::last("keyctl(KEYCTL_JOIN_SESSION_KEYRING, {:?})", name);
  }
  return {};
}

Status set_hostnames(const spec::Config& cfg) {
  if (cfg.hostname && !cfg.hostname->empty() &&
      ::sethostname(cfg.hostname->data(), cfg.hostname->size()) != 0) {
    return Error::last("sethostname({:?})", *cfg.hostname).wrap("hostname");
  }
  if (cfg.domainname && !cfg.domainname->empty() &&
      ::setdomainname(cfg.domainname->data(), cfg.domainname->size()) != 0) {
    return Error::last("setdomainname({:?})", *cfg.domainname).wrap("domainname");
  }
  return {};
}

// process.terminal: a pty of the container's devpts (after pivot_root) that
// also becomes /dev/console; the master goes to --console-socket in runc's
// wire format (one message, the pty's name as payload, the master fd in
// SCM_RIGHTS); the slave becomes stdio and the controlling terminal (we are
// a session leader: setsid at start).
Status setup_console(const InitPlan& p) {
  Pty pty;
  TRY(open_pty(pty, p.config->process->console_size));
  TRY(mount_console(pty.slave.get()));
  TRY_CTX(sys::send_fd(p.console_socket, pty.name, pty.master.get()),
          "send the pty master to --console-socket");
  return pty_as_stdio(pty.slave.get());
}

// A procfs of the container's pid namespace that the container cannot
// substitute, for reopening exec.fifo after pivot_root: the container's /proc
// may be anything the image or a mount made it (no procfs, a symlink, a
// tmpfs), and a plain file at /proc/self/fd/N there would let the program run
// at create time, before `start` (CVE-2025-52881's lesson: no /proc access
// through the container's tree). Made before pivot_root and before privileges
// are dropped; subset=pid (5.8) leaves only the task directories. EPERM (a
// joined pid namespace owned by another user namespace): -1, and the
// container's /proc is used as before.
Result<sys::UniqueFd> private_procfs() {
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  auto fd = fresh_mount("proc", "proc", {{"subset", "pid"}}, attrs);
  if (!fd && fd.error().err() == EINVAL) fd = fresh_mount("proc", "proc", {}, attrs);
  if (!fd && fd.error().err() == EPERM) return sys::UniqueFd();
  return fd;
}

// process.cwd is created as part of the rootfs, before root.readonly and
// readonlyPaths take effect (as runc does), through the rootfs-confined walker
// so that a symlink in the image cannot point it outside.
Status make_cwd(const InitPlan& p, int root) {
  if (!p.process->create_cwd || p.process->cwd.empty() || p.process->cwd == "/") return {};
  TRY_CTX(mkdir_in_root(root, p.process->cwd, CreateAs::Dir), "process.cwd");
  return {};
}

Status run_hooks(hooks::Kind kind, const std::vector<spec::Hook>* hs, const std::string& state) {
  if (hs == nullptr || hs->empty()) return {};
  return hooks::run(kind, *hs, state);
}

// Which of Ready's followers may change the rootfs: createRuntime (run by the
// parent during the hooks round trip) and createContainer hooks may mount
// over the rootfs path; startContainer hooks may change the program.
bool hooks_before_pivot(const InitPlan& p) {
  const auto* hk = p.config->hooks ? &*p.config->hooks : nullptr;
  return p.hooks_round_trip || (hk != nullptr && !hk->create_container.empty());
}
bool hooks_before_exec(const InitPlan& p) {
  const auto* hk = p.config->hooks ? &*p.config->hooks : nullptr;
  return hk != nullptr && !hk->start_container.empty();
}

// Whether the init builds what of its rootfs does not involve its cgroups
// (and, when the order cannot matter, its readonly and masked paths:
// RootfsPlan::masks_before_cgroups) before Start, while the parent writes the state record and
// makes and joins those cgroups (create.cpp: persist, cgroup, join; ~1.2 ms of v1 cgroup work here,
// the first cgroup.procs write waiting out an RCU grace period): on two CPUs the halves overlap
// instead of taking turns. Only in the plain case: a user namespace must be mapped first (after
// Start), an intermediate step forks the real init after it, and namespaces joined by path keep
// their order before everything. The few kernel objects made before the move (mounts, tmpfs
// superblocks, a netlink socket) are charged to the caller's memory cgroup, as the namespaces
// clone3 made already are.
bool starts_early(const NamespacePlan& ns) {
  return !ns.new_user && !ns.user_join && !ns.intermediate && ns.joins.empty() &&
         ns.unshare_flags == 0;
}

Result<RootfsBuild> build_until_rootfs(InitEnd& ch, const InitPlan& p) {
  RootfsBuild build;
  if (starts_early(*p.ns)) {
    TRY(bring_up_new_loopback(*p.ns));
    TRY(join_session_keyring(p));
    build = TRY(begin_rootfs(*p.rootfs, /*with_masks=*/true));
    TRY(ch.await_start());
    TRY(create_cgroup_time_namespaces(*p.ns));
  } else {
    TRY(ch.await_start());
    std::vector<sys::UniqueFd> bind_sources(bind_source_slots(*p.rootfs));
    TRY(setup_namespaces(ch, *p.ns, bind_sources));
    TRY(join_session_keyring(p));
    build = TRY(begin_rootfs(*p.rootfs, /*with_masks=*/false, std::move(bind_sources)));
  }
  TRY(finish_rootfs(*p.rootfs, build));
  return build;
}

Status setup_until_ready(InitEnd& ch, const InitPlan& p, HookStates& states, sys::UniqueFd& procfs,
                         Executable& exe) {
  init_phase("begin");
  // Non-dumpable until execve: other processes in the container (and their
  // ptrace/proc access) cannot open /proc/<init>/exe, the host's husk binary
  // (CVE-2019-5736). execve resets the flag for the container's program.
  TRY(set_dumpable(false));
  reset_signals();
  // The container's init leads its own session (needed for TIOCSCTTY, and
  // it must not share the caller's job control).
  if (::setsid() < 0) return Error::last("setsid");
  RootfsBuild built = TRY(build_until_rootfs(ch, p));
  init_phase("rootfs");
  sys::UniqueFd root = std::move(built.root);
  sys::UniqueFd shared_ns = std::move(built.shared_ns);
  TRY(make_cwd(p, root.get()));
  if (hooks_before_pivot(p)) root.reset();
  if (p.hooks_round_trip) {
    TRY(ch.send_hooks_request(::getpid()));
    states = TRY(ch.await_hooks_done());
  }
  const auto* hk = p.config->hooks ? &*p.config->hooks : nullptr;
  if (hk != nullptr && !hk->create_container.empty()) {
    // createContainer hooks start in the container's root (runc's, which
    // hook authors rely on for relative paths). By path, as enter_rootfs
    // opens it next: createRuntime hooks may have mounted over it, and the
    // mount code left this process's cwd in some mount point.
    if (::chdir(p.rootfs->rootfs.c_str()) != 0) {
      return Error::last("chdir {} for createContainer hooks", p.rootfs->rootfs);
    }
  }
  TRY(run_hooks(hooks::Kind::CreateContainer, hk ? &hk->create_container : nullptr,
                states.creating));
  if (!p.exec_on_channel) procfs = TRY_CTX(private_procfs(), "procfs for exec.fifo");
  TRY(enter_rootfs(*p.rootfs, root.get(), built.masks_done));
  init_phase("pivot");
  root.reset();
  if (p.console_socket >= 0) TRY_CTX(setup_console(p), "process.terminal");
  TRY(leave_build_ns(shared_ns.get()));
  shared_ns.reset();
  TRY(set_hostnames(*p.config));
  TRY(setup_stdio(p.process->uid, p.console_socket < 0));
  p.process->seccomp_listener = [&ch](int fd) { return ch.send_seccomp_listener(fd); };
  TRY(apply_process(*p.process, {p.preserve_fds, {ch.fd(), p.fifo_fd, procfs.get(), -1}}));
  init_phase("process");
  // After apply_process closed every other fd: no path of args[0] may reach
  // anything through an fd the container's program will not have
  // (/proc/self/fd/N, CVE-2024-21626).
  // `run` execs right after Ready and Exec: unless a startContainer hook runs
  // in between, this lookup is the one executed (an O_PATH fd of the checked
  // inode, close-on-exec), instead of a second lookup a moment later.
  bool keep = p.exec_on_channel && !hooks_before_exec(p);
  if (!p.process->no_program) TRY(check_executable(*p.process, keep ? &exe : nullptr));
  // Before Ready even with no_new_privs: see load_notifying_seccomp.
  TRY(load_notifying_seccomp(*p.process));
  return ch.send_ready();
}

// Blocks until `husk start` opens exec.fifo for reading (fifo(7): an open
// for writing waits for a reader). The write end stays open, close-on-exec:
// see the protocol notes in protocol.hpp. `trim`: drop the code pages first
// (memory.hpp), as the last step before blocking: every code page touched
// after the drop comes back, 64 KiB of them at a time (the kernel maps the
// neighbours of a faulting file page that are in the page cache), so only
// the open(2) itself may run after it. create's parent exits after Ready,
// which takes longer than this.
Result<sys::UniqueFd> wait_for_start(int fifo_path_fd, sys::UniqueFd procfs, bool trim) {
  char path[64];
  int dir = AT_FDCWD;
  if (procfs) {
    // Our pid as the private procfs (made in our pid namespace) numbers it.
    std::snprintf(path, sizeof path, "%d/fd/%d", static_cast<int>(::getpid()), fifo_path_fd);
    dir = procfs.get();
  } else {
    std::snprintf(path, sizeof path, "/proc/self/fd/%d", fifo_path_fd);
  }
  if (trim) drop_code_pages();
  int fd = -1;
  while ((fd = ::openat(dir, path, O_WRONLY | O_CLOEXEC)) < 0) {
    if (errno != EINTR) return Error::last("open exec.fifo for writing");
  }
  sys::UniqueFd fifo(fd);
  // Closed before the program is looked up: no directory fd stays open.
  procfs.reset();
  if (::write(fifo.get(), "0", 1) != 1) return Error::last("write exec.fifo");
  ::close(fifo_path_fd);
  return fifo;
}

// The startContainer hooks run "in the container", so under its seccomp
// filter as its program will be (runc's order: filter, hooks, execve). With
// no_new_privs the filter is loaded here; without, apply_process loaded it
// before giving up privileges.
Status start_container(const InitPlan& p, const HookStates& states, Executable& exe) {
  TRY(load_late_seccomp(*p.process));
  const auto* hk = p.config->hooks ? &*p.config->hooks : nullptr;
  TRY(run_hooks(hooks::Kind::StartContainer, hk ? &hk->start_container : nullptr, states.created));
  init_phase("exec");
  return exec_process(*p.process, &exe);
}

Status after_ready(const InitPlan& p, const HookStates& states, sys::UniqueFd procfs,
                   sys::UniqueFd& fifo) {
  fifo = TRY(wait_for_start(p.fifo_fd, std::move(procfs), p.trim_memory));
  init_phase("fifo");
  // start refuses a container without process before opening the fifo; this
  // covers a reader that opened it by hand.
  if (p.process->no_program) return Error::spec(kNoProcessToStart);
  // The program may have changed since create: looked up again, before the
  // filter, unless a startContainer hook may still change it (exec_process
  // then looks it up after the hooks).
  Executable exe;
  if (!hooks_before_exec(p)) TRY(check_executable(*p.process, &exe));
  return start_container(p, states, exe);
}

// `run`: the parent that created us starts us at once (protocol.hpp, 8-9).
Status after_ready_on_channel(InitEnd& ch, const InitPlan& p, const HookStates& states,
                              Executable& exe) {
  TRY(ch.await_exec());
  TRY(ch.send_execing());
  return start_container(p, states, exe);
}

// After Ready the parent is gone: `start` is reading exec.fifo and reports
// what we write there; without it (the fifo never opened), stderr is all
// that is left.
void report_late(const Error& e, int fifo) {
  std::string text = e.message();
  // One write of at most PIPE_BUF bytes is atomic (pipe(7)).
  if (text.size() > 4000) text.resize(4000);
  if (fifo >= 0 && ::write(fifo, text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
    return;
  }
  std::string line = "husk: " + text + "\n";
  (void)!::write(2, line.data(), line.size());
}

}  // namespace

[[noreturn]] void init_main(InitEnd& channel, const InitPlan& plan) noexcept {
  HookStates states;
  sys::UniqueFd procfs;
  Executable exe;
  if (Status s = setup_until_ready(channel, plan, states, procfs, exe); !s) {
    channel.send_error(s.error());
    ::_exit(1);
  }
  init_phase("ready");
  if (plan.exec_on_channel) {
    Status s = after_ready_on_channel(channel, plan, states, exe);
    channel.send_error(s.error());
    ::_exit(255);
  }
  sys::UniqueFd fifo;
  Status s = after_ready(plan, states, std::move(procfs), fifo);
  report_late(s.error(), fifo.get());
  ::_exit(255);
}

}  // namespace husk::linux_setup
