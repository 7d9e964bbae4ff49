// The systemd cgroup driver's pure half: where a container goes (unit name,
// slice, cgroup path) from linux.cgroupsPath, and which unit properties
// express its resources. No syscalls and no D-Bus, so Catch2 tests every
// rule; systemd_bus.cpp sends what this builds.
//
// linux.cgroupsPath under --systemd-cgroup is "slice:prefix:name" (runc's
// syntax and defaults): an empty slice is system.slice (user.slice for a
// rootless caller); the unit is "prefix-name.scope" ("name.scope" without a
// prefix), or the slice "name" itself when name ends in ".slice" (a pod's
// slice). An empty cgroupsPath is "system.slice:husk:<id>".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::cgroup {

struct UnitPlacement {
  std::string unit;   // "husk-c3.scope" or "pod1.slice"
  std::string slice;  // the slice a scope goes in ("system.slice"); empty for a slice unit
  std::string path;   // its cgroup below the hierarchy root: "/system.slice/husk-c3.scope"
  [[nodiscard]] bool is_slice() const { return slice.empty(); }
};

// InvalidSpec naming linux.cgroupsPath for a path not of that form or a bad
// slice or unit name.
Result<UnitPlacement> place_unit(const std::string& cgroups_path, const std::string& id,
                                 bool rootless);

// A slice's cgroup path: "a-b.slice" -> "/a.slice/a-b.slice", "-.slice" -> "".
Result<std::string> expand_slice(const std::string& slice);

// One D-Bus property of a unit ("(sv)" in StartTransientUnit and
// SetUnitProperties), by its D-Bus type:
//   b, t, s, ay (bitmask bytes), au (pids), a(ss) (DeviceAllow), a(st) (IODeviceWeight).
using PropertyValue =
    std::variant<bool, uint64_t, std::string, std::vector<uint8_t>, std::vector<uint32_t>,
                 std::vector<std::pair<std::string, std::string>>,
                 std::vector<std::pair<std::string, uint64_t>>>;
struct UnitProperty {
  std::string name;
  PropertyValue value;
};

// systemd's "infinity" for t-typed limits.
inline constexpr uint64_t kInfinity = UINT64_MAX;

// What the host adds to a conversion: the cgroup version (property names
// differ) and /proc/devices ("char"/"block" major -> driver name) for device
// rules that name a major with any minor (systemd's "char-pts").
struct PropertyHost {
  bool v2 = true;
  std::map<int64_t, std::string> char_majors, block_majors;
};
// Parse /proc/devices' text into host.char_majors / block_majors.
void parse_proc_devices(std::string_view text, PropertyHost& host);

// The unit properties for resources `r` (what systemd would otherwise reset
// on daemon-reload). Fields systemd has no property for are left to the
// cgroup files. InvalidSpec for values that do not convert.
Result<std::vector<UnitProperty>> resource_properties(const spec::Resources& r,
                                                      const PropertyHost& host);

// The properties every unit gets (Description, accounting, and for a scope
// Slice, DefaultDependencies=no, PIDs=[pid] and Delegate=yes).
std::vector<UnitProperty> unit_properties(const UnitPlacement& p, const std::string& id, pid_t pid,
                                          const PropertyHost& host);

// "0-2,7" -> the bitmask systemd's AllowedCPUs/AllowedMemoryNodes take:
// byte i holds CPUs 8i..8i+7, lowest bit first.
Result<std::vector<uint8_t>> cpu_list_mask(std::string_view list);

}  // namespace husk::cgroup
