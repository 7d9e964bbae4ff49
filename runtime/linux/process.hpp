// The identity and limits of a container process (init or exec): user and
// groups, rlimits, capabilities (all five sets, explicitly), no_new_privs,
// umask, oomScoreAdj, scheduler, I/O priority, CPU affinity and the seccomp
// filter (compiled in the parent, loaded last). Planned in the parent;
// applied in the child right before execve.
#pragma once

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "linux/capabilities.hpp"
#include "linux/lsm.hpp"
#include "linux/seccomp.hpp"
#include "spec/config.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

struct FileIdentity {
  dev_t dev = 0;
  ino_t ino = 0;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

struct ProcessOptions {
  const spec::Seccomp* seccomp = nullptr;  // linux.seccomp, may be null
  // Where compiled seccomp programs are cached ("/var/cache/husk/seccomp").
  // Empty: compile every time (~20 ms for podman's default profile).
  std::string seccomp_cache_dir;
  // The husk binary, which the container must never be able to execute
  // (CVE-2019-5736). Default: fstat of /proc/self/exe in plan_process.
  std::optional<FileIdentity> runtime_binary;
  // `husk exec` rather than the container's init: execCPUAffinity applies
  // (the spec excludes init) and a missing cwd is not created (runc creates
  // it only for init, as part of the rootfs).
  bool is_exec = false;
};

struct RlimitPlan {
  int resource = 0;  // RLIMIT_*
  rlimit limit{};
  std::string type;  // "RLIMIT_NOFILE", for messages
};

struct SchedulerPlan {
  uint32_t policy = 0;
  uint64_t flags = 0;
  int32_t nice = 0;
  uint32_t priority = 0;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

// Everything the child needs, computed in the parent: the child performs only
// syscalls on this data (no allocation on its success path). Pointers in
// argv/envp point into args/env, so a plan is neither copied nor moved.
struct ProcessPlan {
  ProcessPlan() = default;
  ProcessPlan(const ProcessPlan&) = delete;
  ProcessPlan& operator=(const ProcessPlan&) = delete;

  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  std::optional<mode_t> umask;
  std::optional<int> oom_score_adj;
  std::string oom_score_adj_text;  // what is written to /proc/self/oom_score_adj
  std::vector<RlimitPlan> rlimits;
  CapabilityPlan caps;
  bool no_new_privileges = false;
  std::optional<SchedulerPlan> scheduler;
  std::optional<int> io_priority;  // IOPRIO_PRIO_VALUE(class, level)
  // sched_setaffinity mask applied by apply_process; empty: leave as is.
  // Unless execCPUAffinity says otherwise it is "all CPUs", which the kernel
  // intersects with the cgroup's cpuset, so the process does not keep the
  // caller's (possibly pinned) affinity; failing to set that is not an error.
  std::vector<unsigned long> cpu_affinity;
  bool cpu_affinity_required = false;               // true for execCPUAffinity.final
  std::vector<unsigned long> initial_cpu_affinity;  // exec only; empty if unset

  std::string cwd;
  bool create_cwd = true;
  // config.json has no process: the init sets the container up and waits for
  // a start, which fails (config.md: process is REQUIRED when start is called).
  bool no_program = false;

  // execve arguments, NULL-terminated, pointing into args/env.
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;
  // process.env has no HOME: as runc, the child sets HOME from the user's
  // entry in the container's /etc/passwd ("/" when there is none). envp holds
  // a pointer to home_env, filled in the child without allocating.
  bool home_from_passwd = false;
  char home_env[PATH_MAX + 8] = "HOME=/";
  // Paths to try, in order: args[0] itself if it contains '/', else one per
  // $PATH entry of process.env (or the default PATH), as execvp does.
  std::vector<std::string> exec_candidates;
  bool exec_search = false;  // true when searching $PATH
  FileIdentity runtime_binary;

  std::optional<LsmPlan> apparmor;  // process.apparmorProfile
  std::optional<LsmPlan> selinux;   // process.selinuxLabel

  std::optional<SeccompProgram> seccomp;
  // seccomp(2) needs no_new_privs or CAP_SYS_ADMIN. Without no_new_privs the
  // filter is installed in apply_process while the process is still
  // privileged (before the uid change and capability drop), as runc does;
  // with it, in exec_process right before execve.
  bool seccomp_early = false;
  bool seccomp_loaded = false;  // set in the child once the filter is in place
  // Set in the child when the program notifies (SeccompProgram::notify):
  // where the load hands the notification fd.
  ListenerSink seccomp_listener;

  // Non-fatal findings (unknown capabilities, ignored flags); the caller
  // logs them once.
  std::vector<std::string> warnings;
};

// What start says of a container created from a config.json without process.
inline constexpr const char* kNoProcessToStart =
    "cannot start a container that has no process: config.json sets none (it is REQUIRED "
    "when start is called)";

struct ProcessPlanDeleter {
  void operator()(ProcessPlan* p) const;
};
using ProcessPlanPtr = std::unique_ptr<ProcessPlan, ProcessPlanDeleter>;

// Paths to try for args[0] (ProcessPlan::exec_candidates): the name itself
// if it contains '/', else one per $PATH entry of `env` (or the default
// PATH), as execvp does; *search says which.
std::vector<std::string> exec_candidates(const std::string& name,
                                         const std::vector<std::string>& env, bool* search);

// Parent, before any side effect (except filling the seccomp cache). Validates
// process.* and linux.seccomp; every error names the field.
// selinuxLabel where SELinux is off, apparmorProfile where AppArmor is off:
// ErrorKind::Unsupported.
Result<ProcessPlanPtr> plan_process(const spec::Process& proc, const ProcessOptions& opts);
inline Result<ProcessPlanPtr> plan_process(const spec::Process& proc,
                                           const spec::Seccomp* seccomp) {
  ProcessOptions opts;
  opts.seccomp = seccomp;
  return plan_process(proc, opts);
}

// The fds apply_process keeps: 3..3+preserve-1 (--preserve-fds, inherited by
// the program) and up to four more, left open but close-on-exec (seal_fds).
struct SealedFds {
  int preserve = 0;
  std::array<int, 4> keep{-1, -1, -1, -1};
};

// In the child, in the container's namespaces and cgroup, after pivot_root.
// Order: oomScoreAdj, rlimits, scheduler, ioPriority, CPU affinity, umask,
// mkdir+chdir(cwd) and the check that it is inside the root (as root; retried
// after the uid change on EACCES), every other fd closed (seal_fds),
// [apparmorProfile], [selinuxLabel], [seccomp if !noNewPrivileges], bounding set,
// setgroups/setresgid/setresuid with PR_SET_KEEPCAPS, capset + ambient,
// no_new_privs. Does not exec.
Status apply_process(ProcessPlan& plan, const SealedFds& fds);

// With no_new_privs, the filter goes in as late as possible: after the
// exec.fifo handshake, before the startContainer hooks (which run filtered,
// as the container's program does). No-op when loaded already.
Status load_late_seccomp(ProcessPlan& plan);

// A filter with SCMP_ACT_NOTIFY rules is loaded before the process reports
// Ready, even with no_new_privs: its notification fd must reach
// linux.seccomp.listenerPath through the husk process at the other end of
// the channel, and create's exits after Ready (the `start` that opens
// exec.fifo later has no channel to the init). So, as under runc, whose init
// always loads its filter before the exec.fifo wait, the handshake (open,
// write and close of exec.fifo) runs under the filter; the agent has the fd
// by then and answers what it notifies. Without no_new_privs apply_process
// loaded it already: a no-op then, as for a filter that does not notify.
Status load_notifying_seccomp(ProcessPlan& plan);

// Parent side, optional: write oomScoreAdj for the child `pid` (if set). Needed
// when the child cannot do it itself: lowering the value takes
// CAP_SYS_RESOURCE in the initial user namespace. apply_process then finds the
// value already in place and skips its own write.
Status set_oom_score_adj(const ProcessPlan& plan, pid_t pid);

// `husk exec` only, before joining the container's cgroup: execCPUAffinity.initial.
Status apply_initial_cpu_affinity(const ProcessPlan& plan);

// One lookup of args[0]: the O_PATH fd execveat runs, what it is, and the
// candidate it came from.
struct Executable {
  sys::UniqueFd fd;
  struct stat st {};
  const std::string* path = nullptr;
  bool script = false;  // "#!": the kernel needs a path for the interpreter
  // The last component of `path` is a symlink (busybox's /bin/sh): the
  // process is named after it (/proc/PID/comm, ps) only when executed by
  // that path.
  bool link = false;
};

// In the child, after apply_process and before signalling Ready: resolve
// args[0] and refuse the runtime binary as exec_process will, so a missing or
// non-executable program fails `create` (as runc does) instead of the
// container after `start`. exec_process checks again (the file may change),
// unless it is handed this lookup (`keep`, e.g. for `run` when nothing runs
// between Ready and exec that could change the rootfs).
Status check_executable(const ProcessPlan& plan, Executable* keep = nullptr);

// Last step in the child: resolve args[0] (PATH of process.env), refuse the
// husk binary (also as a #! interpreter), load seccomp if not loaded yet, then
// execveat the resolved file. Returns only on failure, with runc's wording:
// exec: "x": executable file not found in $PATH / permission denied /
// no such file or directory. With `checked` (an open lookup of
// check_executable) that lookup is executed instead of a new one.
Status exec_process(ProcessPlan& plan, Executable* checked = nullptr);

}  // namespace husk::linux_setup
