#include "linux/capabilities.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "spec/names.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {
namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

uint64_t resolve_set(const std::vector<std::string>& names, const char* set, int last_cap,
                     std::vector<std::string>& warnings) {
  uint64_t mask = 0;
  for (const auto& name : names) {
    // Unknown names are reported by spec::validate; here they are skipped.
    auto cap = spec::capability_from_name(name);
    if (!cap) continue;
    if (*cap > last_cap) {
      warnings.push_back(fmt::format(
          "process.capabilities.{}: ignoring {}, not supported by this kernel", set, name));
      continue;
    }
    mask |= bit(*cap);
  }
  return mask;
}

// Caps in `mask` but not in `allowed` are dropped with one warning each.
uint64_t restrict_set(uint64_t mask, uint64_t allowed, const char* set, const char* why,
                      std::vector<std::string>& warnings) {
  for (int c = 0; c < 64; ++c) {
    if ((mask & bit(c)) != 0 && (allowed & bit(c)) == 0) {
      warnings.push_back(
          fmt::format("process.capabilities.{}: ignoring {}, {}", set, capability_name(c), why));
    }
  }
  return mask & allowed;
}

}  // namespace

std::string capability_name(int cap) {
  if (auto name = spec::capability_name(cap)) return std::string(*name);
  return fmt::format("CAP_{}", cap);
}

Result<int> read_last_cap() {
  static constexpr const char* kPath = "/proc/sys/kernel/cap_last_cap";
  sys::UniqueFd fd(::open(kPath, O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::last("open {}", kPath);
  char buf[16];
  ssize_t n;
  do {
    n = ::read(fd.get(), buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::last("read {}", kPath);
  int v = -1;
  auto [p, ec] = std::from_chars(buf, buf + n, v);
  if (ec != std::errc() || v < 0 || v > 63) {
    return Error::make(ErrorKind::Sys, "{}: unexpected content {:?}", kPath,
                       std::string_view(buf, n));
  }
  return v;
}

CapabilityPlan resolve_capabilities(const std::optional<spec::Capabilities>& caps, int last_cap,
                                    std::vector<std::string>& warnings) {
  CapabilityPlan plan;
  plan.last_cap = last_cap;
  if (!caps) return plan;
  plan.bounding = resolve_set(caps->bounding, "bounding", last_cap, warnings);
  plan.permitted = resolve_set(caps->permitted, "permitted", last_cap, warnings);
  uint64_t inheritable = resolve_set(caps->inheritable, "inheritable", last_cap, warnings);
  uint64_t effective = resolve_set(caps->effective, "effective", last_cap, warnings);
  uint64_t ambient = resolve_set(caps->ambient, "ambient", last_cap, warnings);
  // capset(2) fails with EPERM for an inheritable cap outside the bounding set
  // (and the caller's inheritable set, empty for a fresh container).
  plan.inheritable =
      restrict_set(inheritable, plan.bounding, "inheritable", "not in the bounding set", warnings);
  // capset(2) fails with EPERM for an effective cap outside the permitted set.
  plan.effective =
      restrict_set(effective, plan.permitted, "effective", "not in the permitted set", warnings);
  // PR_CAP_AMBIENT_RAISE fails with EPERM unless the cap is both permitted and inheritable.
  plan.ambient = restrict_set(ambient, plan.permitted & plan.inheritable, "ambient",
                              "not in both the permitted and inheritable sets", warnings);
  return plan;
}

Status apply_bounding_set(const CapabilityPlan& plan) {
  // Caps above last_cap do not exist in this kernel (PR_CAPBSET_DROP would
  // fail with EINVAL), so the loop stops there.
  for (int c = 0; c <= plan.last_cap; ++c) {
    if ((plan.bounding & bit(c)) != 0) continue;
    // PR_CAPBSET_DROP of a cap that is not in the set succeeds (cap_lower is
    // idempotent), so one prctl per cap, not a read and then a drop. The
    // kernel refuses any drop without CAP_SETPCAP (EPERM), even of an absent
    // cap; only then is the set read, which is fine when there is nothing
    // left to drop (exec into a container whose bounding set is reduced).
    if (::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0) continue;
    int err = errno;
    if (err == EPERM && ::prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 0) continue;
    return Error::sys(err, "prctl(PR_CAPBSET_DROP, {})", capability_name(c));
  }
  return {};
}

Status apply_capability_sets(const CapabilityPlan& plan) {
  // Version 3 takes two 32-bit words per set (caps 0-31, 32-63). All three
  // sets are written explicitly: an inheritable set left as inherited is how
  // exec'd processes kept capabilities in CVE-2022-29162.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int w = 0; w < 2; ++w) {
    data[w].effective = static_cast<uint32_t>(plan.effective >> (32 * w));
    data[w].permitted = static_cast<uint32_t>(plan.permitted >> (32 * w));
    data[w].inheritable = static_cast<uint32_t>(plan.inheritable >> (32 * w));
  }
  if (::syscall(SYS_capset, &hdr, data) != 0) {
    return Error::last("capset(effective={:#x}, permitted={:#x}, inheritable={:#x})",
                       plan.effective, plan.permitted, plan.inheritable);
  }
  // The ambient set survives execve of unprivileged binaries; clear what was
  // inherited, then raise exactly the requested caps.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    // EINVAL: kernel < 4.3 without ambient capabilities; nothing to clear.
    if (errno != EINVAL || plan.ambient != 0) return Error::last("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  for (int c = 0; c <= plan.last_cap; ++c) {
    if ((plan.ambient & bit(c)) == 0) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) {
      return Error::last("prctl(PR_CAP_AMBIENT_RAISE, {})", capability_name(c));
    }
  }
  return {};
}

}  // namespace husk::linux_setup
