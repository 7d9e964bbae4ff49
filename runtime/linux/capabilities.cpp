#include "linux/capabilities.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>

#include "sys/fd.hpp"

namespace husk::linux_setup {
namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }
// capset(2) version 3 carries two 32-bit words per set.
constexpr int kMaxCaps = 64;

// libcap's name for `cap`, upper-cased ("CAP_CHOWN"); none when libcap has
// no name for it (cap_to_name then renders the number itself, "41").
std::optional<std::string> libcap_name(int cap) {
  char* raw = cap_to_name(static_cast<cap_value_t>(cap));
  if (raw == nullptr) return std::nullopt;  // ENOMEM
  std::string name(raw);
  cap_free(raw);
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) return std::nullopt;
  for (auto& ch : name) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return name;
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
  if (ec != std::errc() || v < 0 || v >= kMaxCaps) {
    return Error::make(ErrorKind::Sys, "{}: unexpected content {:?}", kPath,
                       std::string_view(buf, n));
  }
  return v;
}

Status resolve_set(const std::vector<std::string>& names, const char* set,
                   const CapabilityLimits& limits, uint64_t& mask,
                   std::vector<std::string>& warnings) {
  mask = 0;
  for (const auto& name : names) {
    auto cap = TRY(resolve_capability(name, set, limits, warnings));
    if (cap) mask |= bit(*cap);
  }
  return {};
}

// Caps in `mask` but not in `allowed` are dropped with one warning each.
uint64_t restrict_set(uint64_t mask, uint64_t allowed, const char* set, const char* why,
                      std::vector<std::string>& warnings) {
  for (int c = 0; c < kMaxCaps; ++c) {
    if ((mask & bit(c)) != 0 && (allowed & bit(c)) == 0) {
      warnings.push_back(
          fmt::format("process.capabilities.{}: ignoring {}, {}", set, capability_name(c), why));
    }
  }
  return mask & allowed;
}

Result<CapState> make_cap_state(const CapabilityPlan& plan) {
  CapState state(cap_init());  // all three sets empty
  if (!state) return Error::last("cap_init");
  const std::pair<cap_flag_t, uint64_t> sets[] = {
      {CAP_EFFECTIVE, plan.effective},
      {CAP_PERMITTED, plan.permitted},
      {CAP_INHERITABLE, plan.inheritable},
  };
  for (const auto& [flag, mask] : sets) {
    for (int c = 0; c < kMaxCaps; ++c) {
      if ((mask & bit(c)) == 0) continue;
      cap_value_t v = c;
      if (cap_set_flag(state.get(), flag, 1, &v, CAP_SET) != 0) {
        return Error::last("cap_set_flag({})", capability_name(c));
      }
    }
  }
  return state;
}

}  // namespace

Result<std::optional<int>> resolve_capability(const std::string& name, const char* set,
                                              const CapabilityLimits& limits,
                                              std::vector<std::string>& warnings) {
  auto cap = capability_from_name(name);
  if (!cap) return Error::spec("process.capabilities.{}: unknown capability \"{}\"", set, name);
  if (*cap > limits.last_cap) {
    warnings.push_back(
        fmt::format("process.capabilities.{}: ignoring {}, not supported by this kernel (its last "
                    "capability is {})",
                    set, name, capability_name(limits.last_cap)));
    return std::optional<int>();
  }
  // A bounding set only ever shrinks (PR_CAPBSET_DROP; there is no
  // "raise"), and capset(2) grants nothing outside it: a cap missing from
  // husk's own set cannot reach the container, whichever set asks for it.
  if ((limits.bounding & bit(*cap)) == 0) {
    return Error::spec(
        "process.capabilities.{}: {} cannot be granted: it is not in husk's own bounding set", set,
        name);
  }
  return cap;
}

std::optional<int> capability_from_name(std::string_view name) {
  // cap_from_name also takes any case ("cap_chown") and numbers ("12",
  // "0x3"), and stops at the first character that cannot be part of a name
  // ("CAP_CHOWN+ep"): the number found must render back as exactly `name`.
  std::string z(name);  // NUL-terminated; an embedded NUL then fails the round trip
  cap_value_t v = -1;
  if (cap_from_name(z.c_str(), &v) != 0 || v < 0 || v >= kMaxCaps) return std::nullopt;
  if (libcap_name(v) != name) return std::nullopt;
  return static_cast<int>(v);
}

std::string capability_name(int cap) {
  if (auto name = libcap_name(cap)) return *std::move(name);
  return fmt::format("CAP_{}", cap);
}

std::vector<std::string> known_capability_names() {
  std::vector<std::string> names;
  for (int c = 0; c < kMaxCaps; ++c) {
    auto name = libcap_name(c);
    if (!name) break;  // libcap's table is dense: the first unnamed number ends it
    names.push_back(*std::move(name));
  }
  return names;
}

Result<CapabilityLimits> read_capability_limits() {
  CapabilityLimits limits;
  limits.last_cap = TRY(read_last_cap());
  for (int c = 0; c <= limits.last_cap; ++c) {
    int r = cap_get_bound(static_cast<cap_value_t>(c));  // PR_CAPBSET_READ
    if (r < 0) return Error::last("cap_get_bound({})", capability_name(c));
    if (r > 0) limits.bounding |= bit(c);
  }
  return limits;
}

Result<CapabilityPlan> resolve_capabilities(const std::optional<spec::Capabilities>& caps,
                                            const CapabilityLimits& limits,
                                            std::vector<std::string>& warnings) {
  CapabilityPlan plan;
  plan.last_cap = limits.last_cap;
  if (caps) {
    uint64_t inheritable = 0, effective = 0, ambient = 0;
    // In the order the kernel bounds them (a cap in every set is reported
    // where it is first refused): the bounding set limits permitted and
    // inheritable, permitted limits effective, both limit ambient.
    TRY(resolve_set(caps->bounding, "bounding", limits, plan.bounding, warnings));
    TRY(resolve_set(caps->permitted, "permitted", limits, plan.permitted, warnings));
    TRY(resolve_set(caps->effective, "effective", limits, effective, warnings));
    TRY(resolve_set(caps->inheritable, "inheritable", limits, inheritable, warnings));
    TRY(resolve_set(caps->ambient, "ambient", limits, ambient, warnings));
    // capset(2) fails with EPERM for an inheritable cap outside the bounding
    // set (and the caller's inheritable set, empty for a fresh container).
    plan.inheritable = restrict_set(inheritable, plan.bounding, "inheritable",
                                    "not in the bounding set", warnings);
    // capset(2) fails with EPERM for an effective cap outside the permitted set.
    plan.effective =
        restrict_set(effective, plan.permitted, "effective", "not in the permitted set", warnings);
    // PR_CAP_AMBIENT_RAISE fails with EPERM unless the cap is both permitted and inheritable.
    plan.ambient = restrict_set(ambient, plan.permitted & plan.inheritable, "ambient",
                                "not in both the permitted and inheritable sets", warnings);
  }
  plan.sets = TRY(make_cap_state(plan));
  return plan;
}

// The child is a clone without CLONE_VM, single-threaded, and husk does not
// link libpsx: each libcap call below is then one prctl(2) or capset(2) on
// the child's own copy of the plan, with no allocation and no lock shared
// with the parent. (With libpsx, libcap would broadcast each call to every
// thread through a signal handler.)

Status apply_bounding_set(const CapabilityPlan& plan) {
  // Caps above last_cap do not exist in this kernel (PR_CAPBSET_DROP would
  // fail with EINVAL), so the loop stops there.
  for (int c = 0; c <= plan.last_cap; ++c) {
    if ((plan.bounding & bit(c)) != 0) continue;
    // Dropping a cap that is not in the set succeeds (cap_lower is
    // idempotent), so one prctl per cap, not a read and then a drop. The
    // kernel refuses any drop without CAP_SETPCAP (EPERM), even of an absent
    // cap; only then is the set read, which is fine when there is nothing
    // left to drop (exec into a container whose bounding set is reduced).
    if (cap_drop_bound(static_cast<cap_value_t>(c)) == 0) continue;
    int err = errno;
    if (err == EPERM && cap_get_bound(static_cast<cap_value_t>(c)) == 0) continue;
    return Error::sys(err, "cap_drop_bound({})", capability_name(c));
  }
  return {};
}

Status apply_capability_sets(const CapabilityPlan& plan) {
  // All three capset(2) sets are written, from the plan, never left as
  // inherited: an inheritable set kept from the caller is how exec'd
  // processes kept capabilities in CVE-2022-29162.
  if (cap_set_proc(plan.sets.get()) != 0) {
    return Error::last("cap_set_proc(effective={:#x}, permitted={:#x}, inheritable={:#x})",
                       plan.effective, plan.permitted, plan.inheritable);
  }
  // The ambient set survives execve of unprivileged binaries; clear what was
  // inherited, then raise exactly the requested caps. Not cap_reset_ambient:
  // it first asks PR_CAP_AMBIENT_IS_SET of every capability in turn (41
  // prctls when none is set, the usual case) to skip the clear, which the
  // kernel does in one call and allows on an empty set too.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    // EINVAL: kernel < 4.3 without ambient capabilities; nothing to clear.
    if (errno != EINVAL || plan.ambient != 0) return Error::last("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  }
  for (int c = 0; c <= plan.last_cap; ++c) {
    if ((plan.ambient & bit(c)) == 0) continue;
    if (cap_set_ambient(static_cast<cap_value_t>(c), CAP_SET) != 0) {
      return Error::last("cap_set_ambient({}, CAP_SET)", capability_name(c));
    }
  }
  return {};
}

}  // namespace husk::linux_setup
