// Capability sets of a container process. Names are resolved with libcap and
// checked against the kernel and husk's own bounding set in the parent, where
// the three capset(2) sets are also built into a libcap cap_t; the child only
// hands prepared data to libcap calls that are single syscalls.
#pragma once

#include <sys/capability.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

// ---- names: libcap's table, the only one (config.json, `exec --cap`, `features`) ----

// "CAP_CHOWN" -> 0. Only the spelling config.json uses (upper case, "CAP_"
// prefix, nothing after the name), as runc; libcap's own lookup is laxer.
// None for a name libcap does not know.
std::optional<int> capability_from_name(std::string_view name);
// 0 -> "CAP_CHOWN"; a number libcap has no name for renders as "CAP_<n>".
std::string capability_name(int cap);
// Every capability libcap names, in number order (`husk features`). It may
// name capabilities the running kernel lacks, as runc's list does.
std::vector<std::string> known_capability_names();

// ---- planning (parent) ----

// What a process husk starts can hold. No process ever gains a capability
// outside its bounding set, and every process husk clones inherits husk's.
struct CapabilityLimits {
  int last_cap = 0;       // /proc/sys/kernel/cap_last_cap: the running kernel's newest
  uint64_t bounding = 0;  // husk's own bounding set (bit N = capability N)
};

// Reads both (parent only).
Result<CapabilityLimits> read_capability_limits();

struct CapFree {
  void operator()(std::remove_pointer_t<cap_t>* c) const { cap_free(c); }
};
// A libcap capability state (effective, permitted, inheritable), owned.
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

// The five sets as bit masks (bit N = capability N); 64 bits cover every
// capability the kernel can define (41 in 6.x).
struct CapabilityPlan {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  int last_cap = 0;  // highest capability number the running kernel knows
  // effective, permitted and inheritable as a cap_t for cap_set_proc:
  // cap_init allocates, so it is built here and the child uses its copy.
  CapState sets;
};

// Resolve process.capabilities. An absent object means five empty sets, as
// in runc. For each name in each set:
//  - not a capability libcap knows (a typo, "CAP_TEST"): an error naming the
//    field; runtime-spec: a value that cannot be mapped to a kernel interface
//    must cause an error.
//  - a capability newer than the running kernel (above limits.last_cap):
//    dropped with a warning, as runc and crun do, so a config written for a
//    newer kernel still starts.
//  - outside husk's own bounding set: an error naming the capability and the
//    set, before anything is created (capset(2) would refuse it later with a
//    bare EPERM).
// One name of the set `set` ("bounding"), with the rules above: its number,
// none when dropped with a warning, or the error.
Result<std::optional<int>> resolve_capability(const std::string& name, const char* set,
                                              const CapabilityLimits& limits,
                                              std::vector<std::string>& warnings);
// Capabilities the kernel would refuse in capset / PR_CAP_AMBIENT_RAISE
// (capabilities(7)) because the config contradicts itself: effective not in
// permitted, inheritable not in bounding, ambient not in both permitted and
// inheritable, are dropped with a warning.
Result<CapabilityPlan> resolve_capabilities(const std::optional<spec::Capabilities>& caps,
                                            const CapabilityLimits& limits,
                                            std::vector<std::string>& warnings);

// ---- applying (child) ----

// Drop every bounding-set capability not in plan.bounding; needs
// CAP_SETPCAP in the effective set, so it runs before the uid change.
Status apply_bounding_set(const CapabilityPlan& plan);
// After setresuid: effective/permitted/inheritable from plan.sets, then the
// ambient set cleared and each listed capability raised.
Status apply_capability_sets(const CapabilityPlan& plan);

}  // namespace husk::linux_setup
