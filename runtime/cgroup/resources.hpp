// Pure checks and conversions over spec::Resources: no syscalls, so plan()
// can reject a config before the first side effect and Catch2 can test every
// rule without root.
//
// Zero means "unset" for the integer fields where runc treats it so (memory
// limit/reservation/swap/kernel/kernelTCP, cpu shares/quota/period/realtime*,
// blockIO weight): clients that cannot express "absent" (containerd's
// protobuf, docker) send 0 for "no limit". pids.limit 0 is a real limit
// (runtime-spec 1.3), swappiness 0 and cpu.idle 0 are real values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::cgroup {

template <typename T>
[[nodiscard]] bool given(const std::optional<T>& v) {
  return v.has_value() && *v != 0;
}

// Syntax and consistency checks independent of the driver (device rules,
// hugepage sizes, unified keys, swappiness range, swap >= limit, ...).
// Errors are InvalidSpec and name the JSON path.
Status validate_resources(const spec::Resources& r);

// A controller some configured field needs.
struct Need {
  std::string field;       // "linux.resources.memory.limit"
  std::string controller;  // "memory"
};

// Controllers (v1 hierarchy names: memory, cpu, cpuset, pids, blkio, hugetlb,
// net_cls, net_prio, devices, rdma) the set fields need. Fields cgroup v1
// cannot express (unified) => Unsupported.
Result<std::vector<Need>> needs_v1(const spec::Resources& r);
// The same for cgroup v2 controllers (memory, cpu, cpuset, pids, io, hugetlb,
// rdma, plus the prefix of each unified key except "cgroup."). Devices need
// none (eBPF). Fields cgroup v2 cannot express (network, realtime, kernel
// memory, swappiness, disableOOMKiller, blockIO leaf weights) => Unsupported.
Result<std::vector<Need>> needs_v2(const spec::Resources& r);

// cpu.shares (v1, 2..262144, default 1024) -> cpu.weight (v2, 1..10000,
// default 100). The quadratic fit in log2 space used by runc >= 1.3.2 and
// crun >= 1.23 (and Kubernetes), chosen so that 2 -> 1, 1024 -> 100 and
// 262144 -> 10000 exactly:
//   l = log2(shares);  weight = ceil(10 ^ ((l*l + 125*l) / 612 - 7/34))
// clamped to [1, 10000]. shares 0 (unset) -> 0.
uint64_t shares_to_weight(uint64_t shares);

// blkio.weight (v1, 10..1000) -> io.weight (v2, 1..10000), linear:
// 1 + (w - 10) * 9999 / 990. 0 (unset) -> 0.
uint64_t blkio_to_io_weight(uint64_t weight);

// memory.swap.max for an explicit linux.resources.memory.swap. The spec's
// swap is memory+swap (cgroup v1 memsw); v2 limits swap alone, so the value is
// swap - limit; -1 -> "max". nullopt when swap is unset (absent or 0).
// InvalidSpec when there is no memory limit to subtract or swap < limit.
Result<std::optional<std::string>> swap_max_value(const spec::Memory& m);

// cpu.max "QUOTA PERIOD" from quota/period, keeping whichever half is unset
// from `current` (the file's present content, "max 100000" if empty).
// nullopt when neither is set. Negative quota -> "max".
std::optional<std::string> cpu_max_value(const spec::Cpu& c, const std::string& current);

// One device cgroup rule with defaults filled in: type 'a'|'b'|'c', -1 for
// a wildcard major/minor, access as BPF_DEVCG_ACC_* bits (m=1, r=2, w=4).
struct DeviceRule {
  bool allow = false;
  char type = 'a';
  int64_t major = -1;
  int64_t minor = -1;
  unsigned access = 7;
};
Result<std::vector<DeviceRule>> normalize_device_rules(const std::vector<spec::DeviceCgroup>& in);
// "c 1:3 rwm" lines for devices.allow/devices.deny. The v1 kernel reads any
// line starting with "a" as "everything", so a type-'a' rule narrowed by
// number or access becomes one 'c' and one 'b' line.
std::vector<std::string> device_rule_lines_v1(const DeviceRule& r);

// Device rules for a new container: linux.resources.devices, then (as runc)
// allow rules for the devices every container gets (null, zero, full, random,
// urandom, tty, ptmx, pts/*, net/tun; mknod of any device). Later rules win,
// so these cannot be denied by config. A linux.devices entry adds no rule: the
// node is made, and opening it is allowed only if the rules say so.
std::vector<spec::DeviceCgroup> container_device_rules(const spec::Linux* linux);
// linux.resources (or empty) with devices = container_device_rules(): what
// create passes to Manager::plan and Manager::apply.
spec::Resources container_resources(const spec::Linux* linux);

}  // namespace husk::cgroup
