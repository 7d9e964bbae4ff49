#include "spec/names.hpp"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>

#include <array>
#include <cctype>
#include <csignal>
#include <string>

namespace husk::spec {
namespace {

std::optional<uint64_t> lookup(std::span<const NamedValue> table, std::string_view name) {
  for (const auto& e : table) {
    if (e.name == name) return e.value;
  }
  return std::nullopt;
}

std::optional<std::string_view> reverse(std::span<const NamedValue> table, uint64_t value) {
  for (const auto& e : table) {
    if (e.value == value) return e.name;
  }
  return std::nullopt;
}

// ---- rlimits ----

constexpr std::array<NamedValue, 16> kRlimits = {{
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
}};

// ---- signals ----
// Canonical names first: the reverse lookup returns the first match, and
// SIGIOT, SIGCLD and SIGPOLL are aliases.

constexpr NamedValue kSignals[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},
    {"SIGILL", SIGILL},       {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},
    {"SIGBUS", SIGBUS},       {"SIGFPE", SIGFPE},   {"SIGKILL", SIGKILL},
    {"SIGUSR1", SIGUSR1},     {"SIGSEGV", SIGSEGV}, {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM}, {"SIGTERM", SIGTERM},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
    {"SIGCHLD", SIGCHLD},     {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP},
    {"SIGTSTP", SIGTSTP},     {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},
    {"SIGURG", SIGURG},       {"SIGXCPU", SIGXCPU}, {"SIGXFSZ", SIGXFSZ},
    {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},         {"SIGPWR", SIGPWR},   {"SIGSYS", SIGSYS},
    {"SIGIOT", SIGIOT},       {"SIGCLD", SIGCHLD},  {"SIGPOLL", SIGPOLL},
};

// "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (upper-cased, SIG stripped).
std::optional<int> parse_realtime(std::string_view s) {
  const bool min = s.starts_with("RTMIN");
  if (!min && !s.starts_with("RTMAX")) return std::nullopt;
  const int base = min ? SIGRTMIN : SIGRTMAX;
  std::string_view rest = s.substr(5);
  if (rest.empty()) return base;
  if (rest[0] != (min ? '+' : '-') || rest.size() < 2 || rest.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  const int sig = min ? base + n : base - n;
  if (sig < SIGRTMIN || sig > SIGRTMAX) return std::nullopt;
  return sig;
}

// ---- namespaces ----

// CLONE_NEWTIME (Linux 5.6) lies inside CSIGNAL, the exit-signal byte of
// clone(2), so only clone3(2), unshare(2) and setns(2) accept it.
constexpr int kCloneNewTime = 0x00000080;
#ifdef CLONE_NEWTIME
static_assert(CLONE_NEWTIME == kCloneNewTime);
#endif

struct NsInfo {
  NamespaceType type;
  std::string_view name;
  std::string_view proc;
  int flag;
};

constexpr std::array<NsInfo, 8> kNamespaces = {{
    {NamespaceType::Pid, "pid", "pid", CLONE_NEWPID},
    {NamespaceType::Network, "network", "net", CLONE_NEWNET},
    {NamespaceType::Mount, "mount", "mnt", CLONE_NEWNS},
    {NamespaceType::Ipc, "ipc", "ipc", CLONE_NEWIPC},
    {NamespaceType::Uts, "uts", "uts", CLONE_NEWUTS},
    {NamespaceType::User, "user", "user", CLONE_NEWUSER},
    {NamespaceType::Cgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {NamespaceType::Time, "time", "time", kCloneNewTime},
}};

const NsInfo& ns_info(NamespaceType t) {
  for (const auto& e : kNamespaces) {
    if (e.type == t) return e;
  }
  return kNamespaces[0];  // unreachable: every enumerator is in the table
}

// ---- seccomp ----

struct ActionInfo {
  SeccompAction action;
  std::string_view name;
  uint32_t ret;
  bool takes_errno;
};

constexpr std::array<ActionInfo, 9> kActions = {{
    {SeccompAction::Kill, "SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD, false},
    {SeccompAction::KillProcess, "SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, false},
    {SeccompAction::KillThread, "SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD, false},
    {SeccompAction::Trap, "SCMP_ACT_TRAP", SECCOMP_RET_TRAP, false},
    {SeccompAction::Errno, "SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO, true},
    {SeccompAction::Trace, "SCMP_ACT_TRACE", SECCOMP_RET_TRACE, true},
    {SeccompAction::Allow, "SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW, false},
    {SeccompAction::Log, "SCMP_ACT_LOG", SECCOMP_RET_LOG, false},
    {SeccompAction::Notify, "SCMP_ACT_NOTIFY", SECCOMP_RET_USER_NOTIF, false},
}};
constexpr std::array<SeccompAction, 9> kActionList = {
    SeccompAction::Kill,  SeccompAction::KillProcess, SeccompAction::KillThread,
    SeccompAction::Trap,  SeccompAction::Errno,       SeccompAction::Trace,
    SeccompAction::Allow, SeccompAction::Log,         SeccompAction::Notify,
};

constexpr std::array<std::string_view, 7> kOpNames = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};
constexpr std::array<SeccompOp, 7> kOpList = {
    SeccompOp::Ne, SeccompOp::Lt, SeccompOp::Le,       SeccompOp::Eq,
    SeccompOp::Ge, SeccompOp::Gt, SeccompOp::MaskedEq,
};

// libseccomp's SCMP_ARCH_SH is little-endian SuperH and SCMP_ARCH_SHEB the
// big-endian one; everything else maps to the AUDIT_ARCH of the same name.
constexpr std::array<NamedValue, 23> kArches = {{
    {"SCMP_ARCH_X86", AUDIT_ARCH_I386},
    {"SCMP_ARCH_X86_64", AUDIT_ARCH_X86_64},
    {"SCMP_ARCH_X32", EM_X86_64 | __AUDIT_ARCH_LE},
    {"SCMP_ARCH_ARM", AUDIT_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", AUDIT_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", AUDIT_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", AUDIT_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", AUDIT_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", AUDIT_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", AUDIT_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", AUDIT_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", AUDIT_ARCH_PPC},
    {"SCMP_ARCH_PPC64", AUDIT_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", AUDIT_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", AUDIT_ARCH_S390},
    {"SCMP_ARCH_S390X", AUDIT_ARCH_S390X},
    {"SCMP_ARCH_PARISC", AUDIT_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", AUDIT_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", AUDIT_ARCH_RISCV64},
    {"SCMP_ARCH_LOONGARCH64", AUDIT_ARCH_LOONGARCH64},
    {"SCMP_ARCH_M68K", AUDIT_ARCH_M68K},
    {"SCMP_ARCH_SH", AUDIT_ARCH_SHEL},
    {"SCMP_ARCH_SHEB", AUDIT_ARCH_SH},
}};

constexpr std::array<NamedValue, 4> kSeccompFlags = {{
    {"SECCOMP_FILTER_FLAG_TSYNC", 1U << 0},
    {"SECCOMP_FILTER_FLAG_LOG", 1U << 1},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", 1U << 2},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1U << 5},  // Linux 5.19
}};

// ---- scheduler, ioprio, mempolicy, personality (uapi values) ----

constexpr std::array<NamedValue, 7> kSchedPolicies = {{
    {"SCHED_OTHER", 0},
    {"SCHED_FIFO", 1},
    {"SCHED_RR", 2},
    {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},  // reserved, never implemented by mainline
    {"SCHED_IDLE", 5},
    {"SCHED_DEADLINE", 6},
}};

constexpr std::array<NamedValue, 7> kSchedFlags = {{
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},
    {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},
    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
}};

constexpr std::array<NamedValue, 3> kIoprioClasses = {{
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
}};

constexpr std::array<NamedValue, 7> kMempolicyModes = {{
    {"MPOL_DEFAULT", 0},
    {"MPOL_PREFERRED", 1},
    {"MPOL_BIND", 2},
    {"MPOL_INTERLEAVE", 3},
    {"MPOL_LOCAL", 4},
    {"MPOL_PREFERRED_MANY", 5},
    {"MPOL_WEIGHTED_INTERLEAVE", 6},
}};

constexpr std::array<NamedValue, 3> kMempolicyFlags = {{
    {"MPOL_F_NUMA_BALANCING", 1U << 13},
    {"MPOL_F_RELATIVE_NODES", 1U << 14},
    {"MPOL_F_STATIC_NODES", 1U << 15},
}};

constexpr std::array<NamedValue, 2> kPersonalities = {{
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
}};

}  // namespace

std::optional<int> rlimit_from_name(std::string_view name) {
  auto v = lookup(kRlimits, name);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<std::string_view> rlimit_name(int resource) {
  if (resource < 0) return std::nullopt;
  return reverse(kRlimits, static_cast<uint64_t>(resource));
}

std::span<const NamedValue> rlimit_table() { return kRlimits; }

Result<int> parse_signal(std::string_view raw) {
  if (!raw.empty() && raw.size() <= 3 &&
      raw.find_first_not_of("0123456789") == std::string_view::npos) {
    int n = 0;
    for (char c : raw) n = n * 10 + (c - '0');
    // 0 sends nothing and only asks whether the process exists (kill(2)):
    // runc passes it through, and engines use it as a liveness probe.
    if (n <= SIGRTMAX) return n;
    return Error::arg("unknown signal \"{}\"", raw);
  }
  std::string up(raw);
  for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!up.starts_with("SIG")) up.insert(0, "SIG");
  if (auto v = lookup(kSignals, up)) return static_cast<int>(*v);
  if (auto rt = parse_realtime(std::string_view(up).substr(3))) return *rt;
  return Error::arg("unknown signal \"{}\"", raw);
}

std::optional<std::string_view> signal_name(int sig) {
  if (sig <= 0) return std::nullopt;
  return reverse(kSignals, static_cast<uint64_t>(sig));
}

std::optional<NamespaceType> namespace_type_from_name(std::string_view name) {
  for (const auto& e : kNamespaces) {
    if (e.name == name) return e.type;
  }
  return std::nullopt;
}

std::string_view namespace_type_name(NamespaceType t) { return ns_info(t).name; }
std::string_view namespace_proc_name(NamespaceType t) { return ns_info(t).proc; }
int namespace_clone_flag(NamespaceType t) { return ns_info(t).flag; }

std::span<const NamespaceType> all_namespace_types() {
  static constexpr std::array<NamespaceType, 8> kAll = {
      NamespaceType::Pid, NamespaceType::Network, NamespaceType::Mount,  NamespaceType::Ipc,
      NamespaceType::Uts, NamespaceType::User,    NamespaceType::Cgroup, NamespaceType::Time,
  };
  return kAll;
}

std::optional<SeccompAction> seccomp_action_from_name(std::string_view name) {
  for (const auto& e : kActions) {
    if (e.name == name) return e.action;
  }
  return std::nullopt;
}

std::string_view seccomp_action_name(SeccompAction a) {
  return kActions[static_cast<size_t>(a)].name;
}

bool seccomp_action_takes_errno(SeccompAction a) {
  return kActions[static_cast<size_t>(a)].takes_errno;
}

uint32_t seccomp_action_ret(SeccompAction a) { return kActions[static_cast<size_t>(a)].ret; }

std::span<const SeccompAction> all_seccomp_actions() { return kActionList; }

std::optional<SeccompOp> seccomp_op_from_name(std::string_view name) {
  for (size_t i = 0; i < kOpNames.size(); ++i) {
    if (kOpNames[i] == name) return kOpList[i];
  }
  return std::nullopt;
}

std::string_view seccomp_op_name(SeccompOp op) { return kOpNames[static_cast<size_t>(op) - 1]; }

std::span<const SeccompOp> all_seccomp_ops() { return kOpList; }

std::optional<uint32_t> seccomp_arch_from_name(std::string_view name) {
  auto v = lookup(kArches, name);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::span<const NamedValue> seccomp_arch_table() { return kArches; }

std::optional<uint32_t> seccomp_flag_from_name(std::string_view name) {
  auto v = lookup(kSeccompFlags, name);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::span<const NamedValue> seccomp_flag_table() { return kSeccompFlags; }

std::optional<int> sched_policy_from_name(std::string_view name) {
  auto v = lookup(kSchedPolicies, name);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<uint64_t> sched_flag_from_name(std::string_view name) {
  return lookup(kSchedFlags, name);
}

std::optional<int> ioprio_class_from_name(std::string_view name) {
  auto v = lookup(kIoprioClasses, name);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<int> mempolicy_mode_from_name(std::string_view name) {
  auto v = lookup(kMempolicyModes, name);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::optional<uint32_t> mempolicy_flag_from_name(std::string_view name) {
  auto v = lookup(kMempolicyFlags, name);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<uint32_t> personality_domain_from_name(std::string_view name) {
  auto v = lookup(kPersonalities, name);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

}  // namespace husk::spec
