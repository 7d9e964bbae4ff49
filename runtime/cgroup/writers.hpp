// Per-controller writers: free functions over the dirfd of one cgroup
// directory, so tests can point them at a plain directory holding empty
// files and check exactly what was written. They assume the config passed
// validate_resources(); a control file that does not exist is an
// ErrorKind::Unsupported error naming the config field.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "cgroup/resources.hpp"
#include "spec/config.hpp"

namespace husk::cgroup {

// ---- cgroup v1 (one hierarchy per controller) ----
Status write_memory_v1(int dirfd, const spec::Memory& m);
Status write_cpu_v1(int dirfd, const spec::Cpu& c);
Status write_blkio_v1(int dirfd, const spec::BlockIo& b);
Status write_hugetlb_v1(int dirfd, const std::vector<spec::HugepageLimit>& limits);
Status write_net_cls_v1(int dirfd, const spec::Network& n);
Status write_net_prio_v1(int dirfd, const spec::Network& n);
// "a" to devices.deny, then every rule in order (allow -> devices.allow,
// deny -> devices.deny). Empty rules: nothing is written.
Status write_devices_v1(int dirfd, const std::vector<DeviceRule>& rules);

// The write plans behind write_memory_v1 and write_cpu_v1, pure for tests.
// Whether memory.memsw.limit_in_bytes (now current_memsw) is written before
// memory.limit_in_bytes to reach new_swap (-1: unlimited).
bool swap_before_limit_v1(uint64_t current_memsw, int64_t new_swap);
struct CfsPair {
  int64_t quota = -1;        // cpu.cfs_quota_us; -1 unlimited
  uint64_t period = 100000;  // cpu.cfs_period_us
};
// Whether cpu.cfs_quota_us is written before cpu.cfs_period_us to go from
// `now` to `next`, so that the state between the two writes is schedulable.
bool quota_before_period_v1(const CfsPair& now, const CfsPair& next);

// ---- same file names in v1 and v2 ----
Status write_cpuset(int dirfd, const spec::Cpu& c);  // cpuset.cpus, cpuset.mems
Status write_pids(int dirfd, const spec::Pids& p);   // pids.max
Status write_rdma(int dirfd, const std::map<std::string, spec::Rdma>& rdma);  // rdma.max

// ---- cgroup v2 ----
Status write_memory_v2(int dirfd, const spec::Memory& m);
Status write_cpu_v2(int dirfd, const spec::Cpu& c);
Status write_io_v2(int dirfd, const spec::BlockIo& b);
Status write_hugetlb_v2(int dirfd, const std::vector<spec::HugepageLimit>& limits);
// Every key written verbatim to the file of that name (runtime-spec).
Status write_unified(int dirfd, const std::map<std::string, std::string>& unified);

}  // namespace husk::cgroup
