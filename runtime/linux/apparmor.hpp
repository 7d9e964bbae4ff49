// AppArmor: process.apparmorProfile (and exec's --apparmor) confine the
// container's program from its execve on. The kernel takes the request as
// the text "exec PROFILE" written by the task itself to its own
// /proc/<pid>/attr/apparmor/exec (Linux 5.8, per-LSM directory) or, on older
// kernels, the shared /proc/<pid>/attr/exec; the transition happens at the
// task's next execve.
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

struct AppArmorPlan {
  const char* attr_path = nullptr;  // under the process's /proc/self
  std::string command;              // "exec PROFILE"
  std::string profile;              // for messages
};

// Parent, before clone. An empty or absent profile asks for nothing (as in
// runc). Anything else on a host without AppArmor is ErrorKind::Unsupported
// naming `field` ("process.apparmorProfile", "--apparmor").
Result<std::optional<AppArmorPlan>> plan_apparmor(const std::optional<std::string>& profile,
                                                  std::string_view field);

// Child, between clone and execve, before any seccomp filter is loaded:
// open, write and close of plan.attr_path. A profile the kernel has not
// loaded fails here (ENOENT on the write), not at execve.
Status apply_apparmor(const AppArmorPlan& plan);

}  // namespace husk::linux_setup
