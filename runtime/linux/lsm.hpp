// Linux security modules: a process label is asked of the kernel by the task
// itself, as a write to one of its own /proc/<tid>/attr files; the
// transition happens at the task's next execve.
// - AppArmor: process.apparmorProfile (exec's --apparmor) as the text
//   "exec PROFILE" in attr/apparmor/exec (Linux 5.8, per-LSM directory) or,
//   on older kernels, the shared attr/exec.
// - SELinux: process.selinuxLabel (exec's --process-label) as the bare
//   context in attr/exec, and the same context in attr/keycreate before the
//   init makes the container's session keyring, so the keyring carries it
//   too. linux.mountLabel is a mount option (mount.hpp), checked here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace husk::linux_setup {

// /sys/module/apparmor/parameters/enabled is "Y": AppArmor is built in and
// was enabled at boot (apparmor=1 security=apparmor, or the distribution's
// default LSM list).
bool apparmor_enabled();

// selinuxfs is mounted at /sys/fs/selinux (its "enforce" file exists): the
// kernel has SELinux enabled and userspace loaded a policy (load_policy, or
// the init system, mounts it). Permissive or enforcing alike.
bool selinux_enabled();

enum class Lsm : unsigned char { AppArmor, SELinux };

// One write a task makes to its own attr file.
struct LsmPlan {
  Lsm lsm = Lsm::AppArmor;
  const char* attr_path = nullptr;  // under the process's /proc
  std::string value;                // what is written: "exec PROFILE", or the context
  std::string label;                // the profile or context, for messages
};

// Parent, before clone. An empty or absent profile asks for nothing (as in
// runc). Anything else on a host without AppArmor is ErrorKind::Unsupported
// naming `field` ("process.apparmorProfile", "--apparmor").
Result<std::optional<LsmPlan>> plan_apparmor(const std::optional<std::string>& profile,
                                             std::string_view field);

// Parent, before clone, as plan_apparmor: process.selinuxLabel or
// --process-label, checked by check_selinux_label.
Result<std::optional<LsmPlan>> plan_selinux(const std::optional<std::string>& label,
                                            std::string_view field);

// Parent, before any side effect: `label` (process.selinuxLabel,
// linux.mountLabel, ...) can be applied here. Without SELinux:
// ErrorKind::Unsupported naming `field`. A context the loaded policy does
// not know: ErrorKind::InvalidSpec; the kernel validates a context written
// to /sys/fs/selinux/context as it does on the attr write or the mount
// (where that file cannot be written, a policy denying check_context, the
// check is left to the kernel at the write itself).
Status check_selinux_label(const std::string& label, std::string_view field);

// Child, between clone and execve, before any seccomp filter is loaded:
// open, write and close of plan.attr_path (or `path`, e.g. the keycreate
// file for the same SELinux context). A profile the kernel has not loaded
// fails here (ENOENT on the write), an invalid context with EINVAL.
Status apply_lsm(const LsmPlan& plan, const char* path = nullptr);

// The keycreate attribute of the calling task, for the SELinux plan's
// context: keys it creates until its execve get that label.
inline constexpr const char* kKeyCreateAttr = "/proc/thread-self/attr/keycreate";

}  // namespace husk::linux_setup
