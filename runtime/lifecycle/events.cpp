#include "lifecycle/events.hpp"

#include <poll.h>
#include <sys/stat.h>

#include <cmath>
#include <memory>

#include "spec/json_write.hpp"

namespace husk::lifecycle {

namespace {

using Writer = spec::json::Compact;
using Clock = std::chrono::steady_clock;
using spec::json::key;
using spec::json::kv;
// runc's fields tagged `omitempty` are left out when zero / empty.
void u64_opt(Writer& w, std::string_view k, uint64_t v) {
  if (v == 0) return;
  key(w, k);
  w.Uint64(v);
}
void u64(Writer& w, std::string_view k, uint64_t v) {
  key(w, k);
  w.Uint64(v);
}
template <typename T>
void list_opt(Writer& w, std::string_view k, const std::vector<T>& v) {
  if (v.empty()) return;
  key(w, k);
  w.StartArray();
  for (auto x : v) w.Uint64(x);
  w.EndArray();
}

void cpu_json(Writer& w, const cgroup::CpuStats& c) {
  w.StartObject();
  key(w, "usage");
  w.StartObject();
  u64_opt(w, "total", c.total);
  list_opt(w, "percpu", c.percpu);
  list_opt(w, "percpu_kernel", c.percpu_kernel);
  list_opt(w, "percpu_user", c.percpu_user);
  u64(w, "kernel", c.kernel);
  u64(w, "user", c.user);
  w.EndObject();
  key(w, "throttling");
  w.StartObject();
  u64_opt(w, "periods", c.periods);
  u64_opt(w, "throttledPeriods", c.throttled_periods);
  u64_opt(w, "throttledTime", c.throttled_time);
  w.EndObject();
  w.EndObject();
}

void mem_entry_json(Writer& w, std::string_view k, const cgroup::MemoryEntry& e) {
  key(w, k);
  w.StartObject();
  u64(w, "limit", e.limit);
  u64_opt(w, "usage", e.usage);
  u64_opt(w, "max", e.max);
  u64(w, "failcnt", e.failcnt);
  w.EndObject();
}

void memory_json(Writer& w, const cgroup::MemoryStats& m) {
  w.StartObject();
  u64_opt(w, "cache", m.cache);
  mem_entry_json(w, "usage", m.usage);
  mem_entry_json(w, "swap", m.swap);
  mem_entry_json(w, "kernel", m.kernel);
  mem_entry_json(w, "kernelTCP", m.kernel_tcp);
  if (!m.raw.empty()) {
    key(w, "raw");
    w.StartObject();
    for (const auto& [k, v] : m.raw) u64(w, k, v);
    w.EndObject();
  }
  w.EndObject();
}

void blkio_list(Writer& w, std::string_view k, const std::vector<cgroup::BlkioEntry>& v) {
  if (v.empty()) return;
  key(w, k);
  w.StartArray();
  for (const auto& e : v) {
    w.StartObject();
    u64_opt(w, "major", e.major);
    u64_opt(w, "minor", e.minor);
    if (!e.op.empty()) kv(w, "op", e.op);
    u64_opt(w, "value", e.value);
    w.EndObject();
  }
  w.EndArray();
}

void blkio_json(Writer& w, const cgroup::BlkioStats& b) {
  w.StartObject();
  blkio_list(w, "ioServiceBytesRecursive", b.service_bytes);
  blkio_list(w, "ioServicedRecursive", b.serviced);
  blkio_list(w, "ioQueueRecursive", b.queued);  // sic: runc's JSON name
  blkio_list(w, "ioServiceTimeRecursive", b.service_time);
  blkio_list(w, "ioWaitTimeRecursive", b.wait_time);
  blkio_list(w, "ioMergedRecursive", b.merged);
  blkio_list(w, "ioTimeRecursive", b.time);
  blkio_list(w, "sectorsRecursive", b.sectors);
  w.EndObject();
}

// runc's CPUSet: the lists omitted when empty, every flag always.
void cpuset_json(Writer& w, const cgroup::Stats& s) {
  const cgroup::CpusetFlags& f = s.cpuset_flags;
  w.StartObject();
  list_opt(w, "cpus", s.cpuset_cpus);
  u64(w, "cpu_exclusive", f.cpu_exclusive);
  list_opt(w, "mems", s.cpuset_mems);
  u64(w, "mem_hardwall", f.mem_hardwall);
  u64(w, "mem_exclusive", f.mem_exclusive);
  u64(w, "memory_migrate", f.memory_migrate);
  u64(w, "memory_spread_page", f.memory_spread_page);
  u64(w, "memory_spread_slab", f.memory_spread_slab);
  u64(w, "memory_pressure", f.memory_pressure);
  u64(w, "sched_load_balance", f.sched_load_balance);
  key(w, "sched_relax_domain_level");
  w.Int64(f.sched_relax_domain_level);
  w.EndObject();
}

void event_head(Writer& w, std::string_view type, std::string_view id) {
  kv(w, "type", type);
  kv(w, "id", id);
}

// The cgroup directory is gone: the container was deleted.
bool cgroup_gone(const cgroup::Manager& mgr) {
  for (const char* c : {"memory", "pids", "cpu", "freezer"}) {
    std::string p = mgr.path(c);
    if (p.empty()) continue;
    struct stat st {};
    return ::stat(p.c_str(), &st) != 0 && errno == ENOENT;
  }
  return false;
}

struct Target {
  std::unique_ptr<cgroup::Manager> mgr;
};

Result<Target> open_target(const Context& ctx, const EventsOptions& o) {
  if (o.interval.count() <= 0) return Error::arg("duration interval must be greater than 0");
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(o.id));
  auto obs = observe(dir);
  if (!obs && obs.error().kind() == ErrorKind::NotFound) return state::not_exist_error(o.id);
  if (!obs) return std::move(obs).error();
  if (obs->status == state::Status::Stopped) {
    return Error::make(ErrorKind::BadState, "container with id {} is not running", o.id);
  }
  Target t;
  t.mgr = TRY(load_cgroup(obs->st));
  if (!t.mgr) {
    return Error::make(ErrorKind::Unsupported, "container {} has no cgroup to report on", o.id);
  }
  return t;
}

}  // namespace

std::string stats_event_json(std::string_view id, const cgroup::Stats& s) {
  spec::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  event_head(w, "stats", id);
  key(w, "data");
  w.StartObject();
  key(w, "cpu");
  cpu_json(w, s.cpu);
  key(w, "cpuset");
  cpuset_json(w, s);
  key(w, "memory");
  memory_json(w, s.memory);
  key(w, "pids");
  w.StartObject();
  u64_opt(w, "current", s.pids.current);
  u64_opt(w, "limit", s.pids.limit);
  w.EndObject();
  key(w, "blkio");
  blkio_json(w, s.blkio);
  key(w, "hugetlb");
  w.StartObject();
  for (const auto& [size, h] : s.hugetlb) {
    key(w, size);
    w.StartObject();
    u64_opt(w, "usage", h.usage);
    u64_opt(w, "max", h.max);
    u64(w, "failcnt", h.failcnt);
    w.EndObject();
  }
  w.EndObject();
  // Present in runc's stats even without Intel RDT or runc-managed network
  // interfaces (an empty object, a nil list): consumers index them.
  key(w, "intel_rdt");
  w.StartObject();
  w.EndObject();
  key(w, "network_interfaces");
  w.Null();
  w.EndObject();
  w.EndObject();
  return spec::json::take(buf);
}

std::string oom_event_json(std::string_view id) {
  spec::json::Buffer buf;
  Writer w(buf);
  w.StartObject();
  event_head(w, "oom", id);
  w.EndObject();
  return spec::json::take(buf);
}

Result<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  auto bad = [&] { return Error::arg("invalid duration \"{}\"", s); };
  std::string_view rest = s;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return std::chrono::nanoseconds(0);
  if (rest.empty()) return bad();
  long double total = 0;
  while (!rest.empty()) {
    size_t i = 0;
    while (i < rest.size() && ((rest[i] >= '0' && rest[i] <= '9') || rest[i] == '.')) ++i;
    if (i == 0) return bad();
    std::string num(rest.substr(0, i));
    if (num == "." || std::count(num.begin(), num.end(), '.') > 1) return bad();
    long double v = std::strtold(num.c_str(), nullptr);
    rest.remove_prefix(i);
    size_t j = 0;
    while (j < rest.size() && !((rest[j] >= '0' && rest[j] <= '9') || rest[j] == '.')) ++j;
    std::string_view unit = rest.substr(0, j);
    rest.remove_prefix(j);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return bad();
    total += v * mult;
  }
  if (total > 9.2e18L) return bad();
  auto ns = static_cast<int64_t>(std::llround(static_cast<double>(total)));
  return std::chrono::nanoseconds(neg ? -ns : ns);
}

Status events(const Context& ctx, const EventsOptions& o, const EmitFn& emit) {
  auto t = TRY(open_target(ctx, o));
  cgroup::Manager& mgr = *t.mgr;
  if (o.stats_only) {
    auto s = TRY_CTX(mgr.stats(), "container {}", o.id);
    return emit(stats_event_json(o.id, s));
  }
  std::unique_ptr<cgroup::OomWatch> oom;
  if (auto w = mgr.watch_oom(); w) {
    oom = std::move(*w);
  } else {
    ctx.warn(fmt::format("no OOM notifications for container {}: {}", o.id, w.error().message()));
  }
  auto next = Clock::now() + o.interval;
  for (;;) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
    int timeout = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 0, 1 << 30));
    pollfd pfd{oom ? oom->fd() : -1, POLLIN, 0};
    int n = ::poll(&pfd, 1, timeout);
    if (n < 0 && errno != EINTR) return Error::last("poll");
    if (n > 0 && (pfd.revents & POLLIN) != 0) {
      // v1 also signals the eventfd when the cgroup is removed.
      if (cgroup_gone(mgr)) return {};
      uint64_t count = TRY(oom->consume());
      for (uint64_t i = 0; i < count; ++i) TRY(emit(oom_event_json(o.id)));
    }
    if (Clock::now() < next) continue;
    next += o.interval;
    if (cgroup_gone(mgr)) return {};
    auto s = mgr.stats();
    if (s) {
      TRY(emit(stats_event_json(o.id, *s)));
    } else if (cgroup_gone(mgr)) {
      return {};
    } else {
      ctx.warn(fmt::format("stats of container {}: {}", o.id, s.error().message()));
    }
  }
}

}  // namespace husk::lifecycle
