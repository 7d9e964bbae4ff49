// Name <-> number tables for the strings config.json and the CLI use:
// rlimits, signals, namespaces, seccomp, scheduler, I/O priority, memory
// policy and personality. Values are the kernel ABI numbers, so spec/ needs
// neither libcap nor libseccomp. Capability names are not here: libcap's
// table is the only one, used when the process is planned
// (runtime/linux/capabilities.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::spec {

// A name and the kernel value it stands for.
struct NamedValue {
  std::string_view name;
  uint64_t value;
};

// ---- rlimits (setrlimit(2)) ----

std::optional<int> rlimit_from_name(std::string_view name);  // "RLIMIT_NOFILE"
std::optional<std::string_view> rlimit_name(int resource);
std::span<const NamedValue> rlimit_table();

// ---- signals ----

// As `runc kill`: a decimal number (0 included: "is it alive"), or a name
// with or without "SIG" in any case ("TERM", "SIGTERM", "sigterm"); also
// "RTMIN", "RTMIN+3", "RTMAX-1". 0 has no name: "SIG0" is unknown, as in runc.
// Error (InvalidArgument): `unknown signal "FOO"`.
Result<int> parse_signal(std::string_view raw);
std::optional<std::string_view> signal_name(int sig);  // "SIGTERM"; none for real-time ones

// ---- namespaces ----

std::optional<NamespaceType> namespace_type_from_name(std::string_view name);  // "network"
std::string_view namespace_type_name(NamespaceType t);                         // "network"
std::string_view namespace_proc_name(NamespaceType t);  // "net": the /proc/<pid>/ns/ entry
int namespace_clone_flag(NamespaceType t);              // CLONE_NEWNET
std::span<const NamespaceType> all_namespace_types();   // the eight, in spec order

// ---- seccomp (config-linux.md "Seccomp") ----

enum class SeccompAction : uint8_t {
  Kill,
  KillProcess,
  KillThread,
  Trap,
  Errno,
  Trace,
  Allow,
  Log,
  Notify
};

std::optional<SeccompAction> seccomp_action_from_name(std::string_view name);  // "SCMP_ACT_ERRNO"
std::string_view seccomp_action_name(SeccompAction a);
// ERRNO and TRACE carry errnoRet in SECCOMP_RET_DATA; no other action may.
bool seccomp_action_takes_errno(SeccompAction a);
// The SECCOMP_RET_* value with an empty data field.
uint32_t seccomp_action_ret(SeccompAction a);
std::span<const SeccompAction> all_seccomp_actions();

// Numbered as libseccomp's enum scmp_compare.
enum class SeccompOp : uint8_t { Ne = 1, Lt, Le, Eq, Ge, Gt, MaskedEq };
std::optional<SeccompOp> seccomp_op_from_name(std::string_view name);  // "SCMP_CMP_EQ"
std::string_view seccomp_op_name(SeccompOp op);
std::span<const SeccompOp> all_seccomp_ops();

// "SCMP_ARCH_X86_64" -> AUDIT_ARCH_X86_64 (what libseccomp's SCMP_ARCH_* equal).
std::optional<uint32_t> seccomp_arch_from_name(std::string_view name);
std::span<const NamedValue> seccomp_arch_table();  // the 23 of runtime-spec v1.3.0

// "SECCOMP_FILTER_FLAG_LOG" -> the seccomp(2) flag bit.
std::optional<uint32_t> seccomp_flag_from_name(std::string_view name);
std::span<const NamedValue> seccomp_flag_table();

// A syscall argument index must be below this (struct seccomp_data.args[6]).
inline constexpr uint32_t kSeccompMaxArgs = 6;

// ---- scheduler (sched(7)), I/O priority (ioprio_set(2)) ----

std::optional<int> sched_policy_from_name(std::string_view name);     // "SCHED_FIFO" -> 1
std::optional<uint64_t> sched_flag_from_name(std::string_view name);  // "SCHED_FLAG_RESET_ON_FORK"
std::optional<int> ioprio_class_from_name(std::string_view name);     // "IOPRIO_CLASS_BE" -> 2
// ioprio_set(2)'s priority value (class in bits 13-15, level below) and its
// "which" for one process. <linux/ioprio.h> has them, but C++ cannot include
// it since Debian 12's linux-libc-dev 6.1.192 (a fresh install gets it; 6.1.187
// did not): its ioprio_value() has a parameter named `class`.
inline constexpr int kIoprioWhoProcess = 1;
constexpr int ioprio_value(int io_class, int level) { return io_class << 13 | level; }

// ---- memory policy (set_mempolicy(2)), personality(2) ----

std::optional<int> mempolicy_mode_from_name(std::string_view name);       // "MPOL_BIND"
std::optional<uint32_t> mempolicy_flag_from_name(std::string_view name);  // "MPOL_F_STATIC_NODES"
std::optional<uint32_t> personality_domain_from_name(std::string_view name);  // "LINUX32"

}  // namespace husk::spec
