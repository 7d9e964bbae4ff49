#include "linux/process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "linux/child.hpp"
#include "linux/passwd.hpp"
#include "spec/names.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

void ProcessPlanDeleter::operator()(ProcessPlan* p) const { delete p; }

namespace {

// ===================== parent: planning =====================

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// 8192 CPUs; the kernel ignores bits beyond nr_cpu_ids.
constexpr size_t kAffinityWords = 8192 / (8 * sizeof(unsigned long));

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// setresuid(2)/setresgid(2) take (uid_t)-1 as "leave unchanged": a process
// asked to run as 4294967295 would silently keep the init's root identity
// (the class of parser bug in crun CVE-2026-30892), so it is refused.
constexpr uint32_t kUnchangedId = static_cast<uint32_t>(-1);

Status check_ids(const spec::Process& proc) {
  if (proc.user.uid == kUnchangedId) {
    return Error::spec("process.user.uid: {} is not a valid user id", proc.user.uid);
  }
  if (proc.user.gid == kUnchangedId) {
    return Error::spec("process.user.gid: {} is not a valid group id", proc.user.gid);
  }
  for (size_t i = 0; i < proc.user.additional_gids.size(); ++i) {
    if (proc.user.additional_gids[i] == kUnchangedId) {
      return Error::spec("process.user.additionalGids[{}]: {} is not a valid group id", i,
                         proc.user.additional_gids[i]);
    }
  }
  return {};
}

Status plan_user(const spec::Process& proc, ProcessPlan& plan) {
  TRY(check_ids(proc));
  plan.uid = proc.user.uid;
  plan.gid = proc.user.gid;
  plan.additional_gids.assign(proc.user.additional_gids.begin(), proc.user.additional_gids.end());
  // umask(2) only uses the permission bits.
  if (proc.user.umask) plan.umask = static_cast<mode_t>(*proc.user.umask & 0777);
  if (proc.oom_score_adj) {
    int v = *proc.oom_score_adj;
    if (v < -1000 || v > 1000)
      return Error::spec("process.oomScoreAdj: {} is not in -1000..1000", v);
    plan.oom_score_adj = v;
    plan.oom_score_adj_text = std::to_string(v);
  }
  plan.no_new_privileges = proc.no_new_privileges;
  return {};
}

Status plan_rlimits(const spec::Process& proc, ProcessPlan& plan) {
  for (size_t i = 0; i < proc.rlimits.size(); ++i) {
    const auto& r = proc.rlimits[i];
    auto res = spec::rlimit_from_name(r.type);
    if (!res) return Error::spec("process.rlimits[{}].type: unknown rlimit {:?}", i, r.type);
    for (const auto& prev : plan.rlimits) {
      if (prev.resource == *res)
        return Error::spec("process.rlimits[{}].type: duplicate rlimit {}", i, r.type);
    }
    if (r.soft > r.hard) {
      return Error::spec("process.rlimits[{}]: soft limit {} of {} exceeds the hard limit {}", i,
                         r.soft, r.type, r.hard);
    }
    plan.rlimits.push_back(RlimitPlan{*res, rlimit{r.soft, r.hard}, r.type});
  }
  return {};
}

Result<SchedulerPlan> plan_scheduler(const spec::Scheduler& s) {
  SchedulerPlan p;
  if (s.policy == "SCHED_ISO") {
    return Error::make(ErrorKind::Unsupported,
                       "process.scheduler.policy: SCHED_ISO is not implemented by Linux");
  }
  auto policy = spec::sched_policy_from_name(s.policy);
  if (!policy) return Error::spec("process.scheduler.policy: unknown policy {:?}", s.policy);
  p.policy = static_cast<uint32_t>(*policy);
  for (size_t i = 0; i < s.flags.size(); ++i) {
    auto f = spec::sched_flag_from_name(s.flags[i]);
    if (!f) return Error::spec("process.scheduler.flags[{}]: unknown flag {:?}", i, s.flags[i]);
    p.flags |= *f;
  }
  p.nice = s.nice.value_or(0);
  if (p.nice < -20 || p.nice > 19)
    return Error::spec("process.scheduler.nice: {} is not in -20..19", p.nice);
  int32_t prio = s.priority.value_or(0);
  bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  // sched(7): static priority 1..99 for FIFO/RR, 0 for every other policy.
  if (realtime ? (prio < 1 || prio > 99) : prio != 0) {
    return Error::spec(
        "process.scheduler.priority: {} is not valid for {} (1..99 for SCHED_FIFO/SCHED_RR, else "
        "0)",
        prio, s.policy);
  }
  p.priority = static_cast<uint32_t>(prio);
  p.runtime = s.runtime.value_or(0);
  p.deadline = s.deadline.value_or(0);
  p.period = s.period.value_or(0);
  return p;
}

Result<int> plan_io_priority(const spec::IoPriority& io) {
  auto cls = spec::ioprio_class_from_name(io.io_class);
  if (!cls) return Error::spec("process.ioPriority.class: unknown class {:?}", io.io_class);
  if (io.priority < 0 || io.priority > 7) {
    return Error::spec("process.ioPriority.priority: {} is not in 0..7", io.priority);
  }
  return static_cast<int>(spec::ioprio_value(*cls, io.priority));
}

// "0-3,7" -> bit mask, the cpuset list format.
Result<std::vector<unsigned long>> parse_cpu_list(const std::string& list, const char* field) {
  constexpr unsigned kMaxCpu = 8 * sizeof(unsigned long) * kAffinityWords;
  std::vector<unsigned long> mask(kAffinityWords, 0);
  auto bad = [&] { return Error::spec("{}: invalid CPU list {:?}", field, list); };
  size_t i = 0;
  bool any = false;
  auto number = [&](unsigned& out) {
    if (i >= list.size() || !std::isdigit(static_cast<unsigned char>(list[i]))) return false;
    out = 0;
    while (i < list.size() && std::isdigit(static_cast<unsigned char>(list[i])) && out < kMaxCpu) {
      out = out * 10 + static_cast<unsigned>(list[i++] - '0');
    }
    return out < kMaxCpu;
  };
  while (i < list.size()) {
    unsigned lo = 0;
    unsigned hi = 0;
    if (!number(lo)) return bad();
    hi = lo;
    if (i < list.size() && list[i] == '-' && (++i, !number(hi))) return bad();
    if (hi < lo) return bad();
    for (unsigned c = lo; c <= hi; ++c)
      mask[c / (8 * sizeof(unsigned long))] |= 1UL << (c % (8 * sizeof(unsigned long)));
    any = true;
    if (i < list.size() && list[i++] != ',') return bad();
  }
  if (!any) return bad();
  return mask;
}

Status plan_sched(const spec::Process& proc, const ProcessOptions& opts, ProcessPlan& plan) {
  if (proc.scheduler) plan.scheduler = TRY(plan_scheduler(*proc.scheduler));
  if (proc.io_priority) plan.io_priority = TRY(plan_io_priority(*proc.io_priority));
  plan.cpu_affinity.assign(kAffinityWords, ~0UL);
  if (!proc.exec_cpu_affinity) return {};
  if (!opts.is_exec) {
    // config.md: "This setting is not applicable to the container's init process."
    plan.warnings.emplace_back(
        "process.execCPUAffinity: not applicable to the container's init process; ignored");
    return {};
  }
  const auto& a = *proc.exec_cpu_affinity;
  if (a.initial && !a.initial->empty()) {
    plan.initial_cpu_affinity = TRY(parse_cpu_list(*a.initial, "process.execCPUAffinity.initial"));
    // Without "final" the spec says the affinity is not changed after the
    // move into the cgroup: whatever the kernel made of "initial" stays.
    plan.cpu_affinity.clear();
  }
  if (a.final_ && !a.final_->empty()) {
    plan.cpu_affinity = TRY(parse_cpu_list(*a.final_, "process.execCPUAffinity.final"));
    plan.cpu_affinity_required = true;
  }
  return {};
}

Status plan_args_env(const spec::Process& proc, ProcessPlan& plan) {
  if (proc.args.empty()) return Error::spec("process.args: must contain at least one entry");
  for (size_t i = 0; i < proc.args.size(); ++i) {
    if (has_nul(proc.args[i])) return Error::spec("process.args[{}]: contains a NUL byte", i);
  }
  if (proc.args[0].empty()) return Error::spec("process.args[0]: must not be empty");
  for (size_t i = 0; i < proc.env.size(); ++i) {
    const auto& e = proc.env[i];
    auto eq = e.find('=');
    if (eq == std::string::npos) return Error::spec("process.env[{}]: {:?} is not KEY=VALUE", i, e);
    if (eq == 0) return Error::spec("process.env[{}]: {:?} has an empty name", i, e);
    if (has_nul(e)) return Error::spec("process.env[{}]: contains a NUL byte", i);
  }
  plan.args = proc.args;
  plan.env = proc.env;
  for (auto& a : plan.args) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  for (auto& e : plan.env) plan.envp.push_back(e.data());
  plan.home_from_passwd = std::none_of(plan.env.begin(), plan.env.end(), [](const auto& e) {
    return std::string_view(e).substr(0, 5) == "HOME=";
  });
  if (plan.home_from_passwd) plan.envp.push_back(plan.home_env);
  plan.envp.push_back(nullptr);
  return {};
}

// execvp(3) semantics: a name with a slash is used as is; otherwise each
// $PATH entry is tried in order, an empty entry meaning the current directory.
// The last PATH= in process.env wins (later entries override earlier ones).
void plan_exec_candidates(ProcessPlan& plan) {
  plan.exec_candidates = exec_candidates(plan.args[0], plan.env, &plan.exec_search);
}

Status plan_cwd(const spec::Process& proc, const ProcessOptions& opts, ProcessPlan& plan) {
  if (proc.cwd.empty() || proc.cwd[0] != '/') {
    return Error::spec("process.cwd: {:?} is not an absolute path", proc.cwd);
  }
  if (has_nul(proc.cwd) || proc.cwd.size() >= PATH_MAX)
    return Error::spec("process.cwd: invalid path");
  plan.cwd = proc.cwd;
  plan.create_cwd = !opts.is_exec;
  return {};
}

Result<FileIdentity> runtime_binary_identity() {
  sys::UniqueFd fd(::open("/proc/self/exe", O_PATH | O_CLOEXEC));
  if (!fd) return Error::last("open /proc/self/exe");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::last("fstat /proc/self/exe");
  return FileIdentity{st.st_dev, st.st_ino};
}

// ===================== child: applying =====================
// Everything below runs between clone and execve: raw syscalls on the plan,
// no allocation unless an Error is being returned.

struct SchedAttr {  // struct sched_attr, SCHED_ATTR_SIZE_VER0 layout
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
};
static_assert(sizeof(SchedAttr) == 48);

// Lowering oom_score_adj needs CAP_SYS_RESOURCE in the initial user
// namespace, which an init in a new user namespace lacks; the parent may then
// write the value for it (set_oom_score_adj) and this write is skipped.
Status write_oom_score_adj(const ProcessPlan& plan, const char* path) {
  sys::UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd) return Error::last("open {}", path);
  const std::string& text = plan.oom_score_adj_text;
  char cur[16];
  ssize_t n = ::pread(fd.get(), cur, sizeof cur, 0);
  while (n > 0 && (cur[n - 1] == '\n' || cur[n - 1] == ' ')) --n;
  if (n == static_cast<ssize_t>(text.size()) && std::memcmp(cur, text.data(), text.size()) == 0) {
    return {};
  }
  if (::pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return Error::last("write {} to {} (process.oomScoreAdj)", text, path);
  }
  return {};
}

Status apply_limits(const ProcessPlan& plan) {
  if (plan.oom_score_adj) TRY(write_oom_score_adj(plan, "/proc/self/oom_score_adj"));
  // Raising a hard limit needs CAP_SYS_RESOURCE: done while still privileged.
  for (const auto& r : plan.rlimits) {
    if (::setrlimit(static_cast<__rlimit_resource_t>(r.resource), &r.limit) != 0) {
      return Error::last("setrlimit({}, soft={}, hard={})", r.type, r.limit.rlim_cur,
                         r.limit.rlim_max);
    }
  }
  if (plan.scheduler) {
    const SchedulerPlan& s = *plan.scheduler;
    SchedAttr attr{sizeof(SchedAttr), s.policy,  s.flags,    s.nice,
                   s.priority,        s.runtime, s.deadline, s.period};
    if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0) {
      return Error::last("sched_setattr (process.scheduler, policy {})", s.policy);
    }
  }
  if (plan.io_priority &&
      ::syscall(SYS_ioprio_set, spec::kIoprioWhoProcess, 0, *plan.io_priority) != 0) {
    return Error::last("ioprio_set (process.ioPriority)");
  }
  return {};
}

Status set_affinity(const std::vector<unsigned long>& mask, const char* what) {
  if (::sched_setaffinity(0, mask.size() * sizeof(unsigned long),
                          reinterpret_cast<const cpu_set_t*>(mask.data())) != 0) {
    return Error::last("sched_setaffinity ({})", what);
  }
  return {};
}

// mkdir -p for process.cwd, after pivot_root: "/" is the container's root and
// absolute symlinks resolve inside it, so plain path walking stays inside.
Status make_cwd(const std::string& cwd) {
  char buf[PATH_MAX];
  std::memcpy(buf, cwd.c_str(), cwd.size() + 1);
  for (size_t i = 1; i <= cwd.size(); ++i) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (::mkdir(buf, 0755) != 0 && errno != EEXIST) return Error::last("mkdir {}", buf);
    buf[i] = saved;
  }
  return {};
}

// After pivot_root, while still root: HOME from the container's /etc/passwd.
// A missing or unreadable file, or no entry for the uid, leaves HOME=/ as
// runc does.
void fill_home(ProcessPlan& plan) {
  sys::UniqueFd fd(::open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) return;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  int raw = fd.get();
  auto read_fd = [](void* ctx, char* buf, size_t len) {
    return ::read(*static_cast<int*>(ctx), buf, len);
  };
  constexpr size_t kPrefix = sizeof "HOME=" - 1;
  // Unchanged ("HOME=/") when this finds nothing.
  (void)passwd_home(read_fd, &raw, plan.uid, plan.home_env + kPrefix,
                    sizeof plan.home_env - kPrefix);
}

Error chdir_error(const std::string& cwd) {
  return Error::last("chdir to cwd ({:?}) set in config.json failed", cwd);
}

// Returns true when done, false when it must be retried as the container user.
Result<bool> chdir_as_root(const ProcessPlan& plan) {
  if (::chdir(plan.cwd.c_str()) == 0) return true;
  if (errno == ENOENT && plan.create_cwd) {
    TRY_CTX(make_cwd(plan.cwd), "process.cwd");
    if (::chdir(plan.cwd.c_str()) == 0) return true;
  }
  // Root squashing (NFS) or a user namespace may let only the container user
  // in: try again after the uid change, as runc does.
  if (errno == EACCES || errno == EPERM) return false;
  return chdir_error(plan.cwd);
}

// The working directory must be inside the container's root. A cwd reached
// through a leaked host fd (/proc/self/fd/N, CVE-2024-21626) is outside it,
// and the kernel's getcwd then reports "(unreachable)/..." instead of an
// absolute path. The raw syscall is used because glibc turns that into ENOENT.
Status verify_cwd(const ProcessPlan& plan) {
  char buf[PATH_MAX];
  long n = ::syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) return Error::last("getcwd after chdir to {:?}", plan.cwd);
  if (n == 0 || buf[0] != '/') {
    return Error::make(ErrorKind::Sys,
                       "process.cwd {:?}: the working directory is outside the container's root "
                       "(possible breakout, CVE-2024-21626)",
                       plan.cwd);
  }
  return {};
}

// The switch to uid 0 (ruid, euid and suid all 0) clears no capability
// (capabilities(7), "Effect of user ID changes on capabilities"): only a
// switch away from uid 0 needs PR_SET_KEEPCAPS.
bool needs_keepcaps(const ProcessPlan& plan) { return plan.uid != 0; }

Status set_identity(const ProcessPlan& plan) {
  // With KEEPCAPS the permitted set survives the switch away from uid 0;
  // the effective set is emptied and rebuilt by capset below.
  if (needs_keepcaps(plan) && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    return Error::last("prctl(PR_SET_KEEPCAPS, 1)");
  }
  // Raw syscalls: glibc's set*id wrappers broadcast to threads via its own
  // bookkeeping, which a cloned child must not rely on.
  if (::syscall(SYS_setgroups, plan.additional_gids.size(), plan.additional_gids.data()) != 0) {
    // In a user namespace with /proc/<pid>/setgroups = "deny" (rootless), the
    // group list cannot be changed; that is only an error if one was asked for.
    if (!(errno == EPERM && plan.additional_gids.empty())) {
      return Error::last("setgroups({} groups from process.user.additionalGids)",
                         plan.additional_gids.size());
    }
  }
  if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0)
    return Error::last("setresgid({})", plan.gid);
  if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0)
    return Error::last("setresuid({})", plan.uid);
  return {};
}

}  // namespace

std::vector<std::string> exec_candidates(const std::string& name,
                                         const std::vector<std::string>& env, bool* search) {
  std::vector<std::string> out;
  *search = name.find('/') == std::string::npos;
  if (!*search) {
    out.push_back(name);
    return out;
  }
  std::string_view path = kDefaultPath;
  for (const auto& e : env) {
    if (std::string_view(e).substr(0, 5) == "PATH=") path = std::string_view(e).substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    out.push_back(fmt::format("{}/{}", dir, name));
    start = end + 1;
  }
  return out;
}

Result<ProcessPlanPtr> plan_process(const spec::Process& proc, const ProcessOptions& opts) {
  ProcessPlanPtr plan(new ProcessPlan);
  TRY(plan_args_env(proc, *plan));
  TRY(plan_cwd(proc, opts, *plan));
  TRY(plan_user(proc, *plan));
  TRY(plan_rlimits(proc, *plan));
  TRY(plan_sched(proc, opts, *plan));
  plan->apparmor = TRY(plan_apparmor(proc.apparmor_profile, "process.apparmorProfile"));
  plan->selinux = TRY(plan_selinux(proc.selinux_label, "process.selinuxLabel"));
  auto limits = TRY(read_capability_limits());
  plan->caps = TRY(resolve_capabilities(proc.capabilities, limits, plan->warnings));
  plan_exec_candidates(*plan);
  plan->runtime_binary =
      opts.runtime_binary ? *opts.runtime_binary : TRY(runtime_binary_identity());
  if (opts.seccomp) {
    SeccompOptions sopts{opts.seccomp_cache_dir};
    plan->seccomp = TRY(compile_seccomp(*opts.seccomp, sopts, plan->warnings));
    plan->seccomp_early = !plan->no_new_privileges;
  }
  return plan;
}

Status apply_process(ProcessPlan& plan, const SealedFds& fds) {
  // The plan is the child's own copy (clone without CLONE_VM): filling the
  // HOME buffer here does not touch the parent's.
  if (plan.home_from_passwd) fill_home(plan);
  TRY(apply_limits(plan));
  if (plan.cpu_affinity_required) {
    TRY(set_affinity(plan.cpu_affinity, "process.execCPUAffinity.final"));
  } else if (!plan.cpu_affinity.empty()) {
    (void)set_affinity(plan.cpu_affinity, "reset");
  }
  if (plan.umask) ::umask(*plan.umask);
  bool cwd_done = TRY(chdir_as_root(plan));
  if (cwd_done) TRY(verify_cwd(plan));
  // Every system call husk makes after the filter is loaded must be one that
  // the container's profile allows, and profiles are written for the
  // container's program, not for husk: older ones (Docker's before 2020,
  // runtime-tools' default) know neither close_range nor faccessat2. So
  // the fds are closed and the cwd checked first; what follows the filter
  // is what runc does after it too (credentials, capabilities, the program
  // lookup, the exec.fifo handshake, execve).
  TRY(seal_fds(fds.preserve, fds.keep));
  // Before the filter (open and write are not in every profile) and while
  // still root: the profile takes effect at execve, so the program, and
  // nothing husk does before it, runs confined.
  if (plan.apparmor) TRY_CTX(apply_lsm(*plan.apparmor), "process.apparmorProfile");
  if (plan.selinux) TRY_CTX(apply_lsm(*plan.selinux), "process.selinuxLabel");
  if (plan.seccomp && plan.seccomp_early) {
    TRY_CTX(load_seccomp(*plan.seccomp, plan.seccomp_listener), "linux.seccomp");
    plan.seccomp_loaded = true;
  }
  TRY(apply_bounding_set(plan.caps));
  TRY(set_identity(plan));
  TRY(apply_capability_sets(plan.caps));
  if (needs_keepcaps(plan) && ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    return Error::last("prctl(PR_SET_KEEPCAPS, 0)");
  }
  if (!cwd_done) {
    if (::chdir(plan.cwd.c_str()) != 0) return chdir_error(plan.cwd);
    TRY(verify_cwd(plan));
  }
  // no_new_privs: execve can no longer grant privileges (setuid bits, file
  // capabilities); it also lets an unprivileged process load seccomp.
  if (plan.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Error::last("prctl(PR_SET_NO_NEW_PRIVS)");
  }
  return {};
}

Status load_late_seccomp(ProcessPlan& plan) {
  if (!plan.seccomp || plan.seccomp_loaded) return {};
  TRY_CTX(load_seccomp(*plan.seccomp, plan.seccomp_listener), "linux.seccomp");
  plan.seccomp_loaded = true;
  return {};
}

Status load_notifying_seccomp(ProcessPlan& plan) {
  if (!plan.seccomp || !plan.seccomp->notify) return {};
  return load_late_seccomp(plan);
}

Status set_oom_score_adj(const ProcessPlan& plan, pid_t pid) {
  if (!plan.oom_score_adj) return {};
  std::string path = fmt::format("/proc/{}/oom_score_adj", pid);
  return write_oom_score_adj(plan, path.c_str());
}

Status apply_initial_cpu_affinity(const ProcessPlan& plan) {
  if (plan.initial_cpu_affinity.empty()) return {};
  return set_affinity(plan.initial_cpu_affinity, "process.execCPUAffinity.initial");
}

}  // namespace husk::linux_setup
