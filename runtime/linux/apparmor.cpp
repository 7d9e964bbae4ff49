#include "linux/apparmor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "sys/fd.hpp"

namespace husk::linux_setup {

namespace {

constexpr const char* kLsmAttr = "/proc/self/attr/apparmor/exec";
constexpr const char* kSharedAttr = "/proc/self/attr/exec";

}  // namespace

bool apparmor_enabled() {
  std::ifstream in("/sys/module/apparmor/parameters/enabled");
  std::string line;
  std::getline(in, line);
  return line == "Y";
}

Result<std::optional<AppArmorPlan>> plan_apparmor(const std::optional<std::string>& profile,
                                                  std::string_view field) {
  if (!profile || profile->empty()) return std::optional<AppArmorPlan>{};
  // The kernel reads one write as one request: a NUL or newline would end
  // the name early and confine the process under another profile.
  if (profile->find_first_of(std::string_view("\0\n", 2)) != std::string::npos) {
    return Error::spec("{}: profile name {:?} contains a NUL or newline", field, *profile);
  }
  if (!apparmor_enabled()) {
    return Error::make(ErrorKind::Unsupported,
                       "{}: AppArmor is not enabled on this host (profile {:?}; "
                       "/sys/module/apparmor/parameters/enabled is not Y)",
                       field, *profile);
  }
  AppArmorPlan plan;
  // The container runs on this kernel: which file it has is known here.
  plan.attr_path = ::access(kLsmAttr, F_OK) == 0 ? kLsmAttr : kSharedAttr;
  plan.command = "exec " + *profile;
  plan.profile = *profile;
  return std::optional<AppArmorPlan>(std::move(plan));
}

Status apply_apparmor(const AppArmorPlan& plan) {
  // /proc/self is the container's proc here (after pivot_root, or after
  // joining its namespaces), where the process is itself: the kernel only
  // lets a task write its own attributes.
  sys::UniqueFd fd(::open(plan.attr_path, O_WRONLY | O_CLOEXEC));
  if (!fd) return Error::last("open {} (the container needs /proc mounted)", plan.attr_path);
  const auto n = ::write(fd.get(), plan.command.data(), plan.command.size());
  if (n == static_cast<ssize_t>(plan.command.size())) return {};
  if (n >= 0) return Error::sys(EIO, "write {}: short write", plan.attr_path);
  if (errno == ENOENT) {
    return Error::sys(ENOENT,
                      "apply profile {:?}: write {}: the profile is not loaded in the kernel "
                      "(load it with apparmor_parser)",
                      plan.profile, plan.attr_path);
  }
  return Error::last("apply profile {:?}: write {}", plan.profile, plan.attr_path);
}

}  // namespace husk::linux_setup
