// Capability sets of a container process. Names are resolved to bit masks in
// the parent; the child only issues prctl/capset on those masks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

// The five sets as bit masks (bit N = capability N). 64 bits cover every
// capability the kernel defines (40 in 6.x); the kernel's own limit is
// CAP_LAST_CAP, read from /proc/sys/kernel/cap_last_cap.
struct CapabilityPlan {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  int last_cap = 0;  // highest capability number the running kernel knows
};

// 0 -> "CAP_CHOWN" (spec/names.hpp); numbers without a name render as "CAP_<n>".
std::string capability_name(int cap);

// /proc/sys/kernel/cap_last_cap (parent only).
Result<int> read_last_cap();

// Resolve process.capabilities. As the runtime spec asks (and runc >= 1.2
// does), names that are unknown (reported by spec::validate), or unknown to
// this kernel (warning), are skipped instead of failing. Capabilities the kernel would refuse in
// capset / PR_CAP_AMBIENT_RAISE (capabilities(7)): effective not in permitted, inheritable not in
// bounding, ambient not in both permitted and inheritable, are dropped with a warning too. An
// absent capabilities object means five empty sets, as in runc.
CapabilityPlan resolve_capabilities(const std::optional<spec::Capabilities>& caps, int last_cap,
                                    std::vector<std::string>& warnings);

// Child side. Drop every bounding-set capability not in plan.bounding; needs
// CAP_SETPCAP in the effective set, so it runs before the uid change.
Status apply_bounding_set(const CapabilityPlan& plan);
// Child side, after setresuid: set effective/permitted/inheritable with
// capset(2), then clear the ambient set and raise each listed capability.
Status apply_capability_sets(const CapabilityPlan& plan);

}  // namespace husk::linux_setup
