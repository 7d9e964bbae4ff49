#include <charconv>

#include "cgroup/fs.hpp"
#include "cgroup/writers.hpp"

namespace husk::cgroup {

namespace {

std::string v2_value(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

Status check_current(int dirfd, int64_t limit) {
  auto cur =
      TRY_CTX(fs::read_at(dirfd, "memory.current"), "linux.resources.memory.checkBeforeUpdate");
  uint64_t used = 0;
  std::from_chars(cur.data(), cur.data() + cur.size(), used);
  if (static_cast<uint64_t>(limit) < used) {
    return Error::arg(
        "linux.resources.memory.limit: {} is below the current usage {} (checkBeforeUpdate)", limit,
        used);
  }
  return {};
}

Status write_io_max(int dirfd, const std::vector<spec::ThrottleDevice>& devs, const char* key,
                    const char* field) {
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& d = devs[i];
    TRY(fs::write_field(dirfd, "io.max", fmt::format("{}:{} {}={}", d.major, d.minor, key, d.rate),
                        fmt::format("linux.resources.blockIO.{}[{}]", field, i)));
  }
  return {};
}

// BFQ (io.bfq.weight) takes the v1 weight range as is; io.weight (iocost)
// needs the 1..10000 scale.
Status write_io_weights(int dirfd, const spec::BlockIo& b) {
  bool bfq = fs::exists_at(dirfd, "io.bfq.weight");
  const char* file = bfq ? "io.bfq.weight" : "io.weight";
  auto scale = [bfq](uint64_t w) { return bfq ? w : blkio_to_io_weight(w); };
  if (given(b.weight)) {
    TRY(fs::write_field(dirfd, file, std::to_string(scale(*b.weight)),
                        "linux.resources.blockIO.weight"));
  }
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const auto& d = b.weight_device[i];
    if (!given(d.weight)) continue;
    TRY(fs::write_field(dirfd, file, fmt::format("{}:{} {}", d.major, d.minor, scale(*d.weight)),
                        fmt::format("linux.resources.blockIO.weightDevice[{}]", i)));
  }
  return {};
}

}  // namespace

Status write_memory_v2(int dirfd, const spec::Memory& m) {
  if (m.check_before_update.value_or(false) && given(m.limit) && *m.limit > 0) {
    TRY(check_current(dirfd, *m.limit));
  }
  if (given(m.limit)) {
    TRY(fs::write_field(dirfd, "memory.max", v2_value(*m.limit), "linux.resources.memory.limit"));
  }
  if (given(m.reservation)) {
    TRY(fs::write_field(dirfd, "memory.low", v2_value(*m.reservation),
                        "linux.resources.memory.reservation"));
  }
  auto swap = TRY(swap_max_value(m));
  bool accounted = fs::exists_at(dirfd, "memory.swap.max");
  // Unlimited swap is what a kernel without swap accounting gives anyway
  // (docker sends -1 on such hosts).
  if (swap && (accounted || *swap != "max")) {
    return fs::write_field(dirfd, "memory.swap.max", *swap, "linux.resources.memory.swap");
  }
  // Unlimited memory with swap unset means unlimited memory+swap on v1;
  // keep that meaning where swap is accounted.
  if (!swap && m.limit && *m.limit < 0 && accounted) {
    return fs::write_field(dirfd, "memory.swap.max", "max", "linux.resources.memory.limit");
  }
  return {};
}

Status write_cpu_v2(int dirfd, const spec::Cpu& c) {
  const char* f = "linux.resources.cpu";
  if (given(c.shares)) {
    TRY(fs::write_field(dirfd, "cpu.weight", std::to_string(shares_to_weight(*c.shares)),
                        fmt::format("{}.shares", f)));
  }
  if (given(c.quota) || given(c.period)) {
    std::string field = fmt::format("{}.{}", f, given(c.quota) ? "quota" : "period");
    auto cur = fs::read_at(dirfd, "cpu.max");
    if (!cur && cur.error().kind() != ErrorKind::NotFound)
      return std::move(cur).error().wrap("{}", field);
    auto v = cpu_max_value(c, cur ? *cur : std::string());
    TRY(fs::write_field(dirfd, "cpu.max", *v, field));
  }
  if (c.burst) {
    TRY(fs::write_field(dirfd, "cpu.max.burst", std::to_string(*c.burst),
                        fmt::format("{}.burst", f)));
  }
  if (c.idle) {
    TRY(fs::write_field(dirfd, "cpu.idle", std::to_string(*c.idle), fmt::format("{}.idle", f)));
  }
  return {};
}

Status write_io_v2(int dirfd, const spec::BlockIo& b) {
  TRY(write_io_weights(dirfd, b));
  TRY(write_io_max(dirfd, b.throttle_read_bps_device, "rbps", "throttleReadBpsDevice"));
  TRY(write_io_max(dirfd, b.throttle_write_bps_device, "wbps", "throttleWriteBpsDevice"));
  TRY(write_io_max(dirfd, b.throttle_read_iops_device, "riops", "throttleReadIOPSDevice"));
  return write_io_max(dirfd, b.throttle_write_iops_device, "wiops", "throttleWriteIOPSDevice");
}

Status write_hugetlb_v2(int dirfd, const std::vector<spec::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    std::string field = fmt::format("linux.resources.hugepageLimits[{}]", i);
    std::string v = std::to_string(l.limit);
    TRY(fs::write_field(dirfd, fmt::format("hugetlb.{}.max", l.page_size), v, field));
    std::string rsvd = fmt::format("hugetlb.{}.rsvd.max", l.page_size);
    if (fs::exists_at(dirfd, rsvd)) TRY(fs::write_field(dirfd, rsvd, v, field));
  }
  return {};
}

Status write_unified(int dirfd, const std::map<std::string, std::string>& unified) {
  for (const auto& [key, value] : unified) {
    auto st = fs::write_at(dirfd, key, value);
    if (st) continue;
    if (st.error().kind() == ErrorKind::NotFound) {
      return Error::make(ErrorKind::Unsupported,
                         "linux.resources.unified[\"{}\"]: no such file in this cgroup", key);
    }
    return std::move(st).error().wrap("linux.resources.unified[\"{}\"]", key);
  }
  return {};
}

}  // namespace husk::cgroup
