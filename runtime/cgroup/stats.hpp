// Usage statistics of a container's cgroup (`husk events`), in the shape of
// runc's libcontainer/types Stats so the JSON means the same to its readers.
// All times are nanoseconds, all sizes bytes. A counter the kernel does not
// provide (missing control file: no kmem on a new kernel, no percpu on
// cgroup v2) stays 0 / empty; it is never an error.
//
// The readers take a directory fd of one cgroup directory, so the unit tests
// feed them fixture files in a scratch directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace husk::cgroup {

struct CpuStats {
  uint64_t total = 0;                                        // usage.total
  uint64_t kernel = 0;                                       // usage.kernel
  uint64_t user = 0;                                         // usage.user
  std::vector<uint64_t> percpu, percpu_kernel, percpu_user;  // v1 only
  uint64_t periods = 0, throttled_periods = 0, throttled_time = 0;
};

struct MemoryEntry {
  uint64_t limit = 0;  // UINT64_MAX = no limit ("max")
  uint64_t usage = 0;
  uint64_t max = 0;  // peak usage
  uint64_t failcnt = 0;
};

struct MemoryStats {
  uint64_t cache = 0;  // v1 "cache", v2 "file" of memory.stat
  MemoryEntry usage, swap, kernel, kernel_tcp;
  std::map<std::string, uint64_t> raw;  // memory.stat as is
};

struct PidsStats {
  uint64_t current = 0;
  uint64_t limit = 0;  // 0 = no limit ("max"), as runc reports it
};

struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write", "Sync", "Async", "Discard", "Total", "" (sectors, time)
  uint64_t value = 0;
  bool operator==(const BlkioEntry&) const = default;
};

struct BlkioStats {
  std::vector<BlkioEntry> service_bytes, serviced, queued, service_time, wait_time, merged, time,
      sectors;
};

struct HugetlbStats {
  uint64_t usage = 0, max = 0, failcnt = 0;
};

// The v1 cpuset's flag files. runc reports them always, 0 where there are
// none (v2); the relax level is signed (-1: the system default).
struct CpusetFlags {
  uint64_t cpu_exclusive = 0, mem_hardwall = 0, mem_exclusive = 0, memory_migrate = 0,
           memory_spread_page = 0, memory_spread_slab = 0, memory_pressure = 0,
           sched_load_balance = 0;
  int64_t sched_relax_domain_level = 0;
};

struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // by page size: "2MB", "1GB"
  std::vector<uint16_t> cpuset_cpus, cpuset_mems;
  CpusetFlags cpuset_flags;
};

// ---- readers (each: missing files leave fields alone) ----
// v1 cpuacct.* (usage, usage_percpu[_sys|_user] or usage_all, stat in USER_HZ ticks).
Status read_cpuacct_v1(int dirfd, CpuStats& out);
// cpu.stat throttling, v1 (nr_periods, nr_throttled, throttled_time ns) or
// v2 (also usage_usec/user_usec/system_usec and throttled_usec).
Status read_cpu_stat(int dirfd, CpuStats& out);
Status read_memory_v1(int dirfd, MemoryStats& out);
Status read_memory_v2(int dirfd, MemoryStats& out);
Status read_pids(int dirfd, PidsStats& out);
Status read_blkio_v1(int dirfd, BlkioStats& out);
Status read_io_v2(int dirfd, BlkioStats& out);
// hugetlb.<size>.* files of a v1 hugetlb cgroup or a v2 one.
Status read_hugetlb_v1(int dirfd, std::map<std::string, HugetlbStats>& out);
Status read_hugetlb_v2(int dirfd, std::map<std::string, HugetlbStats>& out);
// cpuset.cpus / cpuset.mems (v2: cpuset.cpus.effective first), and the v1
// flag files (cpuset.cpu_exclusive, ..., cpuset.sched_relax_domain_level).
Status read_cpuset(int dirfd, Stats& out);

// "0-3,7" -> {0,1,2,3,7}. InvalidArgument on anything else.
Result<std::vector<uint16_t>> parse_cpu_list(std::string_view s);

// v2 memory.events "oom_kill" counter (0 when absent).
Result<uint64_t> read_oom_kill_count(int dirfd);

}  // namespace husk::cgroup

namespace husk::cgroup {

// OOM notifications of a container's memory cgroup: poll fd() for POLLIN,
// then consume() says how many OOM events happened since the last call.
// v1: an eventfd registered on memory.oom_control via cgroup.event_control;
// v2: an inotify watch on memory.events and its "oom_kill" counter.
class OomWatch {
 public:
  virtual ~OomWatch() = default;
  [[nodiscard]] virtual int fd() const = 0;
  virtual Result<uint64_t> consume() = 0;
};

}  // namespace husk::cgroup
