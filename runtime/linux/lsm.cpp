#include "linux/lsm.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "sys/fd.hpp"
#include "sys/file.hpp"

namespace husk::linux_setup {

namespace {

constexpr const char* kAppArmorAttr = "/proc/self/attr/apparmor/exec";
constexpr const char* kSharedAttr = "/proc/self/attr/exec";
// SELinux reads the shared file. thread-self: the attributes are per
// thread, and the label is the writer's own.
constexpr const char* kSELinuxExecAttr = "/proc/thread-self/attr/exec";
// selinuxfs: "enforce" exists once it is mounted; "context" validates a
// context written to it against the loaded policy.
constexpr const char* kSELinuxEnforce = "/sys/fs/selinux/enforce";
constexpr const char* kSELinuxContext = "/sys/fs/selinux/context";

// The kernel reads one write as one request: a NUL or newline would end the
// name early and label the process with another one.
Status check_one_line(const std::string& name, std::string_view field, std::string_view what) {
  if (name.find_first_of(std::string_view("\0\n", 2)) != std::string::npos) {
    return Error::spec("{}: {} {:?} contains a NUL or newline", field, what, name);
  }
  return {};
}

}  // namespace

bool apparmor_enabled() {
  std::ifstream in("/sys/module/apparmor/parameters/enabled");
  std::string line;
  std::getline(in, line);
  return line == "Y";
}

bool selinux_enabled() { return ::access(kSELinuxEnforce, F_OK) == 0; }

Result<std::optional<LsmPlan>> plan_apparmor(const std::optional<std::string>& profile,
                                             std::string_view field) {
  if (!profile || profile->empty()) return std::optional<LsmPlan>{};
  TRY(check_one_line(*profile, field, "profile name"));
  if (!apparmor_enabled()) {
    return Error::make(ErrorKind::Unsupported,
                       "{}: AppArmor is not enabled on this host (profile {:?}; "
                       "/sys/module/apparmor/parameters/enabled is not Y)",
                       field, *profile);
  }
  LsmPlan plan;
  plan.lsm = Lsm::AppArmor;
  // The container runs on this kernel: which file it has is known here.
  plan.attr_path = ::access(kAppArmorAttr, F_OK) == 0 ? kAppArmorAttr : kSharedAttr;
  plan.value = "exec " + *profile;
  plan.label = *profile;
  return std::optional<LsmPlan>(std::move(plan));
}

Status check_selinux_label(const std::string& label, std::string_view field) {
  TRY(check_one_line(label, field, "label"));
  if (!selinux_enabled()) {
    return Error::make(ErrorKind::Unsupported,
                       "{}: SELinux is not enabled on this host (label {:?}; selinuxfs is not "
                       "mounted at /sys/fs/selinux)",
                       field, label);
  }
  sys::UniqueFd fd(::open(kSELinuxContext, O_RDWR | O_CLOEXEC));
  if (!fd) return {};
  auto valid = sys::write_once(fd.get(), kSELinuxContext, label);
  if (valid || valid.error().err() != EINVAL) return {};
  return Error::spec("{}: {:?} is not a valid SELinux context in the loaded policy", field, label);
}

Result<std::optional<LsmPlan>> plan_selinux(const std::optional<std::string>& label,
                                            std::string_view field) {
  if (!label || label->empty()) return std::optional<LsmPlan>{};
  TRY(check_selinux_label(*label, field));
  LsmPlan plan;
  plan.lsm = Lsm::SELinux;
  plan.attr_path = kSELinuxExecAttr;
  plan.value = *label;
  plan.label = *label;
  return std::optional<LsmPlan>(std::move(plan));
}

Status apply_lsm(const LsmPlan& plan, const char* path) {
  if (path == nullptr) path = plan.attr_path;
  // /proc is the container's proc here (after pivot_root, or after joining
  // its namespaces), where the process is itself: the kernel only lets a
  // task write its own attributes.
  sys::UniqueFd fd(::open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) return Error::last("open {} (the container needs /proc mounted)", path);
  auto written = sys::write_once(fd.get(), path, plan.value);
  if (written) return {};
  const int err = written.error().err();
  if (plan.lsm == Lsm::AppArmor && err == ENOENT) {
    return Error::sys(ENOENT,
                      "apply profile {:?}: write {}: the profile is not loaded in the kernel "
                      "(load it with apparmor_parser)",
                      plan.label, path);
  }
  if (plan.lsm == Lsm::SELinux && err == EINVAL) {
    return Error::sys(EINVAL,
                      "apply label {:?}: write {}: not a valid context in the loaded "
                      "SELinux policy",
                      plan.label, path);
  }
  return std::move(written).error().wrap(
      "apply {} {:?}", plan.lsm == Lsm::AppArmor ? "profile" : "label", plan.label);
}

}  // namespace husk::linux_setup
