#include <charconv>
#include <limits>

#include "cgroup/fs.hpp"
#include "cgroup/writers.hpp"

namespace husk::cgroup {

namespace {

// -1 is "unlimited" in every v1 byte/quota file.
std::string v1_value(int64_t v) { return v < 0 ? "-1" : std::to_string(v); }

uint64_t parse_u64_or_max(const std::string& s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::numeric_limits<uint64_t>::max();
  return v;
}

Status check_usage(int dirfd, const char* usage_file, int64_t limit) {
  auto usage = TRY_CTX(fs::read_at(dirfd, usage_file), "linux.resources.memory.checkBeforeUpdate");
  uint64_t used = parse_u64_or_max(usage);
  if (static_cast<uint64_t>(limit) < used) {
    return Error::arg(
        "linux.resources.memory.limit: {} is below the current usage {} (checkBeforeUpdate)", limit,
        used);
  }
  return {};
}

// The kernel keeps memsw >= limit after every single write (EINVAL
// otherwise, mm/memcontrol.c mem_cgroup_resize_max), so a rising memsw must
// be written before the limit and a falling one after it.
Status write_limit_and_swap_v1(int dirfd, const spec::Memory& m) {
  auto write_limit = [&]() -> Status {
    if (!given(m.limit)) return {};
    return fs::write_field(dirfd, "memory.limit_in_bytes", v1_value(*m.limit),
                           "linux.resources.memory.limit");
  };
  auto cur = fs::read_at(dirfd, "memory.memsw.limit_in_bytes");
  bool accounting = cur || cur.error().kind() != ErrorKind::NotFound;
  std::optional<int64_t> swap = given(m.swap) ? m.swap : std::nullopt;
  // An unlimited memory limit alone lifts memsw as well (as runc does):
  // the limit could never be written past a finite memsw.
  if (!swap && given(m.limit) && *m.limit < 0 && accounting) swap = -1;
  if (!swap) {
    if (!cur || !given(m.limit)) return write_limit();
    // The limit cannot rise above memsw, and memsw was not asked to move.
    uint64_t memsw = parse_u64_or_max(*cur);
    if (static_cast<uint64_t>(*m.limit) > memsw) {
      return Error::arg(
          "linux.resources.memory.limit: {} is above the current memory+swap limit {} "
          "(memory.memsw.limit_in_bytes); set linux.resources.memory.swap with it",
          *m.limit, memsw);
    }
    return write_limit();
  }
  // Unlimited swap is what a kernel without swap accounting gives anyway
  // (docker sends -1 on such hosts).
  if (!accounting && *swap < 0) return write_limit();
  if (!accounting) {
    return Error::make(ErrorKind::Unsupported,
                       "linux.resources.memory.swap: swap accounting is not enabled "
                       "(no memory.memsw.limit_in_bytes)");
  }
  if (!cur) return std::move(cur).error().wrap("linux.resources.memory.swap");
  auto write_swap = [&] {
    return fs::write_field(dirfd, "memory.memsw.limit_in_bytes", v1_value(*swap),
                           "linux.resources.memory.swap");
  };
  if (swap_before_limit_v1(parse_u64_or_max(*cur), *swap)) {
    TRY(write_swap());
    return write_limit();
  }
  TRY(write_limit());
  return write_swap();
}

Result<int64_t> read_i64(int dirfd, const char* file) {
  auto text = TRY(fs::read_at(dirfd, file));
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return Error::sys(EINVAL, "{}: unexpected content {:?}", file, text);
  }
  return v;
}

Result<CfsPair> read_cfs_v1(int dirfd) {
  CfsPair now;
  now.quota = TRY(read_i64(dirfd, "cpu.cfs_quota_us"));
  now.period = static_cast<uint64_t>(TRY(read_i64(dirfd, "cpu.cfs_period_us")));
  return now;
}

// The file holding a blkio weight: CFQ's blkio.weight on old kernels, BFQ's
// blkio.bfq.weight since CFQ's removal (5.0).
Result<std::string> weight_file(int dirfd, const char* cfq, const char* bfq,
                                std::string_view field) {
  if (fs::exists_at(dirfd, cfq)) return std::string(cfq);
  if (fs::exists_at(dirfd, bfq)) return std::string(bfq);
  return Error::make(ErrorKind::Unsupported, "{}: neither {} nor {} exists (no CFQ/BFQ scheduler)",
                     field, cfq, bfq);
}

Status write_throttle(int dirfd, const std::vector<spec::ThrottleDevice>& devs, const char* file,
                      const char* field) {
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& d = devs[i];
    TRY(fs::write_field(dirfd, file, fmt::format("{}:{} {}", d.major, d.minor, d.rate),
                        fmt::format("linux.resources.blockIO.{}[{}]", field, i)));
  }
  return {};
}

Status write_weight_devices_v1(int dirfd, const std::vector<spec::WeightDevice>& devs) {
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& d = devs[i];
    std::string field = fmt::format("linux.resources.blockIO.weightDevice[{}]", i);
    if (given(d.weight)) {
      auto file = TRY(weight_file(dirfd, "blkio.weight_device", "blkio.bfq.weight_device", field));
      TRY(fs::write_field(dirfd, file, fmt::format("{}:{} {}", d.major, d.minor, *d.weight),
                          field));
    }
    if (given(d.leaf_weight)) {
      TRY(fs::write_field(dirfd, "blkio.leaf_weight_device",
                          fmt::format("{}:{} {}", d.major, d.minor, *d.leaf_weight), field));
    }
  }
  return {};
}

}  // namespace

bool swap_before_limit_v1(uint64_t current_memsw, int64_t new_swap) {
  return new_swap < 0 || static_cast<uint64_t>(new_swap) > current_memsw;
}

bool quota_before_period_v1(const CfsPair& now, const CfsPair& next) {
  // cgroup v1 CFS bandwidth must stay schedulable after every single write:
  // a child's quota/period ratio may not exceed its parent's (EINVAL,
  // kernel/sched/core.c tg_cfs_schedulable_down), and an unlimited quota
  // takes the parent's, so it always fits. Of the two intermediate states,
  // (next quota, old period) and (old quota, next period), the one with the
  // lower ratio is never above both the old and the new ratio, so it is
  // valid whenever they are.
  if (next.quota < 0) return true;
  if (now.quota < 0) return false;
  using Wide = unsigned __int128;
  return static_cast<Wide>(next.quota) * next.period <= static_cast<Wide>(now.quota) * now.period;
}

Status write_memory_v1(int dirfd, const spec::Memory& m) {
  if (m.check_before_update.value_or(false) && given(m.limit) && *m.limit > 0) {
    TRY(check_usage(dirfd, "memory.usage_in_bytes", *m.limit));
  }
  TRY(write_limit_and_swap_v1(dirfd, m));
  const char* f = "linux.resources.memory";
  if (given(m.reservation)) {
    TRY(fs::write_field(dirfd, "memory.soft_limit_in_bytes", v1_value(*m.reservation),
                        fmt::format("{}.reservation", f)));
  }
  if (given(m.kernel)) {
    TRY(fs::write_field(dirfd, "memory.kmem.limit_in_bytes", v1_value(*m.kernel),
                        fmt::format("{}.kernel", f)));
  }
  if (given(m.kernel_tcp)) {
    TRY(fs::write_field(dirfd, "memory.kmem.tcp.limit_in_bytes", v1_value(*m.kernel_tcp),
                        fmt::format("{}.kernelTCP", f)));
  }
  if (m.swappiness) {
    TRY(fs::write_field(dirfd, "memory.swappiness", std::to_string(*m.swappiness),
                        fmt::format("{}.swappiness", f)));
  }
  if (m.disable_oom_killer.value_or(false)) {
    TRY(fs::write_field(dirfd, "memory.oom_control", "1", fmt::format("{}.disableOOMKiller", f)));
  }
  if (m.use_hierarchy) {
    TRY(fs::write_field(dirfd, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0",
                        fmt::format("{}.useHierarchy", f)));
  }
  return {};
}

Status write_cpu_v1(int dirfd, const spec::Cpu& c) {
  const char* f = "linux.resources.cpu";
  if (given(c.shares)) {
    TRY(fs::write_field(dirfd, "cpu.shares", std::to_string(*c.shares),
                        fmt::format("{}.shares", f)));
  }
  auto write_period = [&]() -> Status {
    if (!given(c.period)) return {};
    return fs::write_field(dirfd, "cpu.cfs_period_us", std::to_string(*c.period),
                           fmt::format("{}.period", f));
  };
  auto write_quota = [&]() -> Status {
    if (!given(c.quota)) return {};
    return fs::write_field(dirfd, "cpu.cfs_quota_us", v1_value(*c.quota),
                           fmt::format("{}.quota", f));
  };
  bool quota_first = false;
  if (given(c.period) && given(c.quota)) {
    auto now = TRY_CTX(read_cfs_v1(dirfd), "{}.period", f);
    quota_first = quota_before_period_v1(now, {*c.quota, *c.period});
  }
  if (quota_first) TRY(write_quota());
  TRY(write_period());
  if (!quota_first) TRY(write_quota());
  // The kernel rejects a burst larger than the quota, so it goes after it.
  if (c.burst) {
    TRY(fs::write_field(dirfd, "cpu.cfs_burst_us", std::to_string(*c.burst),
                        fmt::format("{}.burst", f)));
  }
  // Likewise the RT runtime must fit in the period.
  if (given(c.realtime_period)) {
    TRY(fs::write_field(dirfd, "cpu.rt_period_us", std::to_string(*c.realtime_period),
                        fmt::format("{}.realtimePeriod", f)));
  }
  if (given(c.realtime_runtime)) {
    TRY(fs::write_field(dirfd, "cpu.rt_runtime_us", v1_value(*c.realtime_runtime),
                        fmt::format("{}.realtimeRuntime", f)));
  }
  if (c.idle) {
    TRY(fs::write_field(dirfd, "cpu.idle", std::to_string(*c.idle), fmt::format("{}.idle", f)));
  }
  return {};
}

Status write_blkio_v1(int dirfd, const spec::BlockIo& b) {
  if (given(b.weight)) {
    const char* field = "linux.resources.blockIO.weight";
    auto file = TRY(weight_file(dirfd, "blkio.weight", "blkio.bfq.weight", field));
    TRY(fs::write_field(dirfd, file, std::to_string(*b.weight), field));
  }
  if (given(b.leaf_weight)) {
    TRY(fs::write_field(dirfd, "blkio.leaf_weight", std::to_string(*b.leaf_weight),
                        "linux.resources.blockIO.leafWeight"));
  }
  TRY(write_weight_devices_v1(dirfd, b.weight_device));
  TRY(write_throttle(dirfd, b.throttle_read_bps_device, "blkio.throttle.read_bps_device",
                     "throttleReadBpsDevice"));
  TRY(write_throttle(dirfd, b.throttle_write_bps_device, "blkio.throttle.write_bps_device",
                     "throttleWriteBpsDevice"));
  TRY(write_throttle(dirfd, b.throttle_read_iops_device, "blkio.throttle.read_iops_device",
                     "throttleReadIOPSDevice"));
  return write_throttle(dirfd, b.throttle_write_iops_device, "blkio.throttle.write_iops_device",
                        "throttleWriteIOPSDevice");
}

Status write_hugetlb_v1(int dirfd, const std::vector<spec::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    std::string field = fmt::format("linux.resources.hugepageLimits[{}]", i);
    std::string v = std::to_string(l.limit);
    TRY(fs::write_field(dirfd, fmt::format("hugetlb.{}.limit_in_bytes", l.page_size), v, field));
    // Reservations (5.7+) are limited too, so a reserved-but-unfaulted
    // mapping cannot exceed the limit either.
    std::string rsvd = fmt::format("hugetlb.{}.rsvd.limit_in_bytes", l.page_size);
    if (fs::exists_at(dirfd, rsvd)) TRY(fs::write_field(dirfd, rsvd, v, field));
  }
  return {};
}

Status write_net_cls_v1(int dirfd, const spec::Network& n) {
  if (!n.class_id) return {};
  return fs::write_field(dirfd, "net_cls.classid", std::to_string(*n.class_id),
                         "linux.resources.network.classID");
}

Status write_net_prio_v1(int dirfd, const spec::Network& n) {
  for (size_t i = 0; i < n.priorities.size(); ++i) {
    const auto& p = n.priorities[i];
    TRY(fs::write_field(dirfd, "net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority),
                        fmt::format("linux.resources.network.priorities[{}]", i)));
  }
  return {};
}

Status write_devices_v1(int dirfd, const std::vector<DeviceRule>& rules) {
  if (rules.empty()) return {};
  const std::string deny_file = "devices.deny";
  const std::string allow_file = "devices.allow";
  // Each file is opened once: the kernel parses one rule per write(2), not
  // per open, so every rule is its own write on the same descriptor.
  sys::UniqueFd deny, allow;
  auto write = [&](bool to_allow, const std::string& line, std::string_view field) -> Status {
    sys::UniqueFd& fd = to_allow ? allow : deny;
    const std::string& name = to_allow ? allow_file : deny_file;
    if (!fd) {
      auto opened = fs::open_control(dirfd, name);
      if (!opened) return fs::field_status(std::move(opened).error(), name, field);
      fd = std::move(*opened);
    }
    return fs::field_status(fs::write_fd(fd.get(), name, line + "\n"), name, field);
  };
  // "a" in devices.deny drops every exception and denies by default. When
  // the config's first rule is that same deny-all (the usual case), it is
  // written once: the kernel would only repeat the reset.
  auto first = device_rule_lines_v1(rules.front());
  bool starts_with_deny_all = !rules.front().allow && first.size() == 1 && first.front() == "a";
  TRY(write(false, "a", "linux.resources.devices"));
  for (size_t i = starts_with_deny_all ? 1 : 0; i < rules.size(); ++i) {
    std::string field = fmt::format("linux.resources.devices[{}]", i);
    for (const auto& line : device_rule_lines_v1(rules[i])) TRY(write(rules[i].allow, line, field));
  }
  return {};
}

}  // namespace husk::cgroup
