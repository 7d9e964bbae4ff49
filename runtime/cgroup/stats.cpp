#include "cgroup/stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <set>

#include "cgroup/fs.hpp"

namespace husk::cgroup {

namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// The file's text, or nullopt when it does not exist (controller/feature absent).
Result<std::optional<std::string>> read_opt(int dirfd, const std::string& name) {
  auto r = fs::read_at(dirfd, name);
  if (!r && r.error().kind() == ErrorKind::NotFound) return std::optional<std::string>();
  if (!r) return std::move(r).error();
  return std::optional<std::string>(std::move(*r));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A cgroup number: decimal, or "max" (no limit).
Result<uint64_t> parse_u64(std::string_view s, std::string_view what) {
  s = trim(s);
  if (s == "max") return kMax;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Error::make(ErrorKind::Protocol, "{}: not a number: \"{}\"", what, s);
  }
  return v;
}

// Single-number file into `out`; a missing file leaves it.
Status read_u64(int dirfd, const std::string& name, uint64_t& out) {
  auto text = TRY(read_opt(dirfd, name));
  if (!text) return {};
  out = TRY(parse_u64(*text, name));
  return {};
}

// "key value" lines (memory.stat, cpu.stat, memory.events, cpuacct.stat).
Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text,
                                                         std::string_view what) {
  std::map<std::string, uint64_t> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      return Error::make(ErrorKind::Protocol, "{}: malformed line \"{}\"", what, line);
    }
    out[std::string(line.substr(0, sp))] = TRY(parse_u64(line.substr(sp + 1), what));
  }
  return out;
}

Result<std::optional<std::map<std::string, uint64_t>>> read_keyed(int dirfd,
                                                                  const std::string& name) {
  using R = std::optional<std::map<std::string, uint64_t>>;
  auto text = TRY(read_opt(dirfd, name));
  if (!text) return R();
  return R(TRY(parse_flat_keyed(*text, name)));
}

uint64_t get(const std::map<std::string, uint64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

Result<std::vector<uint64_t>> parse_list(std::string_view text, std::string_view what) {
  std::vector<uint64_t> out;
  for (const auto& w : fs::split_words(text)) out.push_back(TRY(parse_u64(w, what)));
  return out;
}

// Page sizes named by hugetlb.<size>.<suffix> files ("2MB", "1GB").
Result<std::set<std::string>> hugetlb_sizes(int dirfd, std::string_view suffix) {
  std::set<std::string> out;
  for (const auto& name : TRY(fs::entries(dirfd, fs::EntryKind::Files))) {
    std::string_view n = name;
    if (n.substr(0, 8) != "hugetlb.") continue;
    n.remove_prefix(8);
    size_t dot = n.find('.');
    if (dot == std::string_view::npos || n.substr(dot + 1) != suffix) continue;
    out.emplace(n.substr(0, dot));
  }
  return out;
}

// v1 blkio lines: "MAJ:MIN Op value", "MAJ:MIN value" (time, sectors) and a
// final "Total value" that is not per device.
Result<std::vector<BlkioEntry>> parse_blkio_v1(std::string_view text, std::string_view what) {
  std::vector<BlkioEntry> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto words = fs::split_words(line);
    if (words.empty() || words[0] == "Total") continue;
    if (words.size() != 2 && words.size() != 3) {
      return Error::make(ErrorKind::Protocol, "{}: malformed line \"{}\"", what, line);
    }
    BlkioEntry e;
    size_t colon = words[0].find(':');
    if (colon == std::string::npos) {
      return Error::make(ErrorKind::Protocol, "{}: malformed device \"{}\"", what, words[0]);
    }
    e.major = TRY(parse_u64(std::string_view(words[0]).substr(0, colon), what));
    e.minor = TRY(parse_u64(std::string_view(words[0]).substr(colon + 1), what));
    if (words.size() == 3) e.op = words[1];
    e.value = TRY(parse_u64(words.back(), what));
    out.push_back(std::move(e));
  }
  return out;
}

// The first of `names` that exists and lists at least one device.
Result<std::vector<BlkioEntry>> read_blkio_first(int dirfd,
                                                 std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto text = TRY(read_opt(dirfd, name));
    if (!text) continue;
    auto entries = TRY(parse_blkio_v1(*text, name));
    if (!entries.empty()) return entries;
  }
  return std::vector<BlkioEntry>();
}

Status read_memory_entry_v1(int dirfd, const std::string& prefix, MemoryEntry& e) {
  TRY(read_u64(dirfd, prefix + "usage_in_bytes", e.usage));
  TRY(read_u64(dirfd, prefix + "max_usage_in_bytes", e.max));
  TRY(read_u64(dirfd, prefix + "failcnt", e.failcnt));
  TRY(read_u64(dirfd, prefix + "limit_in_bytes", e.limit));
  return {};
}

}  // namespace

Status read_cpuacct_v1(int dirfd, CpuStats& out) {
  TRY(read_u64(dirfd, "cpuacct.usage", out.total));
  if (auto t = TRY(read_opt(dirfd, "cpuacct.usage_percpu"))) {
    out.percpu = TRY(parse_list(*t, "cpuacct.usage_percpu"));
  }
  // usage_all: a "cpu user system" header, then one row per CPU (ns).
  if (auto t = TRY(read_opt(dirfd, "cpuacct.usage_all"))) {
    std::string_view text = *t;
    bool header = true;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      std::string_view line = trim(text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (line.empty()) continue;
      if (header) {
        header = false;
        continue;
      }
      auto row = TRY(parse_list(line, "cpuacct.usage_all"));
      if (row.size() != 3) {
        return Error::make(ErrorKind::Protocol, "cpuacct.usage_all: malformed line \"{}\"", line);
      }
      out.percpu_user.push_back(row[1]);
      out.percpu_kernel.push_back(row[2]);
    }
  } else {
    if (auto k = TRY(read_opt(dirfd, "cpuacct.usage_percpu_sys"))) {
      out.percpu_kernel = TRY(parse_list(*k, "cpuacct.usage_percpu_sys"));
    }
    if (auto u = TRY(read_opt(dirfd, "cpuacct.usage_percpu_user"))) {
      out.percpu_user = TRY(parse_list(*u, "cpuacct.usage_percpu_user"));
    }
  }
  // cpuacct.stat counts USER_HZ clock ticks.
  if (auto st = TRY(read_keyed(dirfd, "cpuacct.stat"))) {
    long hz = ::sysconf(_SC_CLK_TCK);
    uint64_t ns_per_tick = hz > 0 ? 1000000000ULL / static_cast<uint64_t>(hz) : 10000000ULL;
    out.user = get(*st, "user") * ns_per_tick;
    out.kernel = get(*st, "system") * ns_per_tick;
  }
  return {};
}

Status read_cpu_stat(int dirfd, CpuStats& out) {
  auto st = TRY(read_keyed(dirfd, "cpu.stat"));
  if (!st) return {};
  const auto& m = *st;
  out.periods = get(m, "nr_periods");
  out.throttled_periods = get(m, "nr_throttled");
  if (m.count("throttled_usec") != 0) {
    out.throttled_time = get(m, "throttled_usec") * 1000;
  } else {
    out.throttled_time = get(m, "throttled_time");
  }
  // cgroup v2 accounts usage in cpu.stat (microseconds).
  if (m.count("usage_usec") != 0) {
    out.total = get(m, "usage_usec") * 1000;
    out.user = get(m, "user_usec") * 1000;
    out.kernel = get(m, "system_usec") * 1000;
  }
  return {};
}

Status read_memory_v1(int dirfd, MemoryStats& out) {
  if (auto st = TRY(read_keyed(dirfd, "memory.stat"))) {
    out.raw = std::move(*st);
    out.cache = get(out.raw, "cache");
  }
  TRY(read_memory_entry_v1(dirfd, "memory.", out.usage));
  // memsw counts memory + swap, which is what runc reports as "swap".
  TRY(read_memory_entry_v1(dirfd, "memory.memsw.", out.swap));
  TRY(read_memory_entry_v1(dirfd, "memory.kmem.", out.kernel));
  TRY(read_memory_entry_v1(dirfd, "memory.kmem.tcp.", out.kernel_tcp));
  return {};
}

Status read_memory_v2(int dirfd, MemoryStats& out) {
  if (auto st = TRY(read_keyed(dirfd, "memory.stat"))) {
    out.raw = std::move(*st);
    out.cache = get(out.raw, "file");
  }
  TRY(read_u64(dirfd, "memory.current", out.usage.usage));
  TRY(read_u64(dirfd, "memory.max", out.usage.limit));
  TRY(read_u64(dirfd, "memory.peak", out.usage.max));
  if (auto ev = TRY(read_keyed(dirfd, "memory.events"))) out.usage.failcnt = get(*ev, "max");
  MemoryEntry swap;
  TRY(read_u64(dirfd, "memory.swap.current", swap.usage));
  TRY(read_u64(dirfd, "memory.swap.max", swap.limit));
  TRY(read_u64(dirfd, "memory.swap.peak", swap.max));
  if (auto ev = TRY(read_keyed(dirfd, "memory.swap.events"))) swap.failcnt = get(*ev, "max");
  // v2 swap files count swap alone; report memory + swap as v1 (and runc) do.
  swap.usage += out.usage.usage;
  if (swap.limit != kMax && out.usage.limit != kMax) swap.limit += out.usage.limit;
  if (swap.limit != kMax && out.usage.limit == kMax) swap.limit = kMax;
  out.swap = swap;
  return {};
}

Status read_pids(int dirfd, PidsStats& out) {
  TRY(read_u64(dirfd, "pids.current", out.current));
  uint64_t limit = 0;
  TRY(read_u64(dirfd, "pids.max", limit));
  out.limit = limit == kMax ? 0 : limit;
  return {};
}

Status read_blkio_v1(int dirfd, BlkioStats& out) {
  // CFQ/BFQ accounting when the device uses that scheduler, else the
  // throttling layer's counters, which every device has.
  out.service_bytes = TRY(read_blkio_first(
      dirfd, {"blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive",
              "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_service_bytes"}));
  out.serviced = TRY(read_blkio_first(
      dirfd, {"blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive",
              "blkio.throttle.io_serviced_recursive", "blkio.throttle.io_serviced"}));
  out.queued =
      TRY(read_blkio_first(dirfd, {"blkio.io_queued_recursive", "blkio.bfq.io_queued_recursive"}));
  out.service_time = TRY(read_blkio_first(
      dirfd, {"blkio.io_service_time_recursive", "blkio.bfq.io_service_time_recursive"}));
  out.wait_time = TRY(read_blkio_first(
      dirfd, {"blkio.io_wait_time_recursive", "blkio.bfq.io_wait_time_recursive"}));
  out.merged =
      TRY(read_blkio_first(dirfd, {"blkio.io_merged_recursive", "blkio.bfq.io_merged_recursive"}));
  out.time = TRY(read_blkio_first(dirfd, {"blkio.time_recursive", "blkio.bfq.time_recursive"}));
  out.sectors =
      TRY(read_blkio_first(dirfd, {"blkio.sectors_recursive", "blkio.bfq.sectors_recursive"}));
  return {};
}

Status read_io_v2(int dirfd, BlkioStats& out) {
  auto text = TRY(read_opt(dirfd, "io.stat"));
  if (!text) return {};
  std::string_view t = *text;
  while (!t.empty()) {
    size_t nl = t.find('\n');
    std::string_view line = trim(t.substr(0, nl));
    t.remove_prefix(nl == std::string_view::npos ? t.size() : nl + 1);
    auto words = fs::split_words(line);
    if (words.empty()) continue;
    size_t colon = words[0].find(':');
    if (colon == std::string::npos) {
      return Error::make(ErrorKind::Protocol, "io.stat: malformed device \"{}\"", words[0]);
    }
    uint64_t major = TRY(parse_u64(std::string_view(words[0]).substr(0, colon), "io.stat"));
    uint64_t minor = TRY(parse_u64(std::string_view(words[0]).substr(colon + 1), "io.stat"));
    for (size_t i = 1; i < words.size(); ++i) {
      std::string_view kv = words[i];
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = kv.substr(0, eq);
      uint64_t v = TRY(parse_u64(kv.substr(eq + 1), "io.stat"));
      if (key == "rbytes") out.service_bytes.push_back({major, minor, "Read", v});
      if (key == "wbytes") out.service_bytes.push_back({major, minor, "Write", v});
      if (key == "rios") out.serviced.push_back({major, minor, "Read", v});
      if (key == "wios") out.serviced.push_back({major, minor, "Write", v});
    }
  }
  return {};
}

Status read_hugetlb_v1(int dirfd, std::map<std::string, HugetlbStats>& out) {
  for (const auto& size : TRY(hugetlb_sizes(dirfd, "limit_in_bytes"))) {
    HugetlbStats s;
    TRY(read_u64(dirfd, "hugetlb." + size + ".usage_in_bytes", s.usage));
    TRY(read_u64(dirfd, "hugetlb." + size + ".max_usage_in_bytes", s.max));
    TRY(read_u64(dirfd, "hugetlb." + size + ".failcnt", s.failcnt));
    out[size] = s;
  }
  return {};
}

Status read_hugetlb_v2(int dirfd, std::map<std::string, HugetlbStats>& out) {
  for (const auto& size : TRY(hugetlb_sizes(dirfd, "max"))) {
    HugetlbStats s;
    TRY(read_u64(dirfd, "hugetlb." + size + ".current", s.usage));
    if (auto ev = TRY(read_keyed(dirfd, "hugetlb." + size + ".events"))) {
      s.failcnt = get(*ev, "max");
    }
    out[size] = s;
  }
  return {};
}

Result<std::vector<uint16_t>> parse_cpu_list(std::string_view s) {
  std::vector<uint16_t> out;
  s = trim(s);
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view part = s.substr(0, comma);
    s.remove_prefix(comma == std::string_view::npos ? s.size() : comma + 1);
    size_t dash = part.find('-');
    uint64_t lo = TRY(parse_u64(part.substr(0, dash), "cpu list"));
    uint64_t hi =
        dash == std::string_view::npos ? lo : TRY(parse_u64(part.substr(dash + 1), "cpu list"));
    if (lo > hi || hi > 65535) return Error::arg("cpu list: bad range \"{}\"", part);
    for (uint64_t i = lo; i <= hi; ++i) out.push_back(static_cast<uint16_t>(i));
  }
  return out;
}

Status read_cpuset(int dirfd, Stats& out) {
  for (const char* name : {"cpuset.cpus.effective", "cpuset.cpus"}) {
    auto t = TRY(read_opt(dirfd, name));
    if (!t) continue;
    out.cpuset_cpus = TRY_CTX(parse_cpu_list(*t), "{}", name);
    break;
  }
  for (const char* name : {"cpuset.mems.effective", "cpuset.mems"}) {
    auto t = TRY(read_opt(dirfd, name));
    if (!t) continue;
    out.cpuset_mems = TRY_CTX(parse_cpu_list(*t), "{}", name);
    break;
  }
  CpusetFlags& f = out.cpuset_flags;
  for (auto [name, field] : {std::pair{"cpuset.cpu_exclusive", &f.cpu_exclusive},
                             std::pair{"cpuset.mem_hardwall", &f.mem_hardwall},
                             std::pair{"cpuset.mem_exclusive", &f.mem_exclusive},
                             std::pair{"cpuset.memory_migrate", &f.memory_migrate},
                             std::pair{"cpuset.memory_spread_page", &f.memory_spread_page},
                             std::pair{"cpuset.memory_spread_slab", &f.memory_spread_slab},
                             std::pair{"cpuset.memory_pressure", &f.memory_pressure},
                             std::pair{"cpuset.sched_load_balance", &f.sched_load_balance}}) {
    TRY(read_u64(dirfd, name, *field));
  }
  const std::string relax = "cpuset.sched_relax_domain_level";
  if (auto t = TRY(read_opt(dirfd, relax))) {
    std::string_view v = trim(*t);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), f.sched_relax_domain_level);
    if (ec != std::errc() || p != v.data() + v.size()) {
      return Error::make(ErrorKind::Protocol, "{}: not a number: \"{}\"", relax, v);
    }
  }
  return {};
}

Result<uint64_t> read_oom_kill_count(int dirfd) {
  auto ev = TRY(read_keyed(dirfd, "memory.events"));
  return ev ? get(*ev, "oom_kill") : 0;
}

}  // namespace husk::cgroup
