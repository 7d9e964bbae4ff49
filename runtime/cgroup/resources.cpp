#include "cgroup/resources.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <tuple>

namespace husk::cgroup {

namespace {

constexpr const char* kRes = "linux.resources";

bool is_plain_token(const std::string& s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\0' || c == '/';
  });
}

// "2MB", "1GB", "64KB": the <size> the kernel uses in hugetlb.<size>.* names.
bool valid_page_size(const std::string& s) {
  if (s.size() < 3) return false;
  std::string unit = s.substr(s.size() - 2);
  if (unit != "KB" && unit != "MB" && unit != "GB") return false;
  std::string num = s.substr(0, s.size() - 2);
  return num[0] != '0' &&
         std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A unified key names one file in the container's own cgroup directory.
bool valid_unified_key(const std::string& k) {
  return is_plain_token(k) && k[0] != '.' && k.find('.') != std::string::npos;
}

Status check_limit(const std::optional<int64_t>& v, const char* field) {
  if (v && *v < -1) {
    return Error::spec("{}.memory.{}: expected -1 (unlimited) or a byte count, got {}", kRes, field,
                       *v);
  }
  return {};
}

Status validate_memory(const spec::Memory& m) {
  TRY(check_limit(m.limit, "limit"));
  TRY(check_limit(m.reservation, "reservation"));
  TRY(check_limit(m.swap, "swap"));
  TRY(check_limit(m.kernel, "kernel"));
  TRY(check_limit(m.kernel_tcp, "kernelTCP"));
  if (m.swappiness && *m.swappiness > 100) {
    return Error::spec("{}.memory.swappiness: expected 0..100, got {}", kRes, *m.swappiness);
  }
  if (given(m.swap) && *m.swap > 0 && given(m.limit) && *m.limit > 0 && *m.swap < *m.limit) {
    return Error::spec("{}.memory.swap: memory+swap limit {} is lower than memory limit {}", kRes,
                       *m.swap, *m.limit);
  }
  return {};
}

Status validate_named(const std::vector<spec::NetworkPriority>& prios,
                      const std::map<std::string, spec::Rdma>& rdma) {
  for (size_t i = 0; i < prios.size(); ++i) {
    if (!is_plain_token(prios[i].name)) {
      return Error::spec("{}.network.priorities[{}].name: invalid interface name \"{}\"", kRes, i,
                         prios[i].name);
    }
  }
  for (const auto& [dev, _] : rdma) {
    if (!is_plain_token(dev)) return Error::spec("{}.rdma: invalid device name \"{}\"", kRes, dev);
  }
  return {};
}

void need(std::vector<Need>& out, bool cond, const std::string& field, const char* ctrl) {
  if (cond) out.push_back({fmt::format("{}.{}", kRes, field), ctrl});
}

template <typename... Args>
Error unsupported(fmt::format_string<Args...> f, Args&&... args) {
  return Error::make(ErrorKind::Unsupported, f, std::forward<Args>(args)...);
}

void needs_common(std::vector<Need>& out, const spec::Resources& r) {
  if (r.memory) {
    need(out, given(r.memory->limit), "memory.limit", "memory");
    need(out, given(r.memory->reservation), "memory.reservation", "memory");
    need(out, given(r.memory->swap), "memory.swap", "memory");
  }
  if (r.cpu) {
    need(out, given(r.cpu->shares), "cpu.shares", "cpu");
    need(out, given(r.cpu->quota), "cpu.quota", "cpu");
    need(out, given(r.cpu->period), "cpu.period", "cpu");
    need(out, r.cpu->burst.has_value(), "cpu.burst", "cpu");
    need(out, r.cpu->idle.has_value(), "cpu.idle", "cpu");
    need(out, r.cpu->cpus && !r.cpu->cpus->empty(), "cpu.cpus", "cpuset");
    need(out, r.cpu->mems && !r.cpu->mems->empty(), "cpu.mems", "cpuset");
  }
  need(out, r.pids.has_value(), "pids.limit", "pids");
  need(out, !r.hugepage_limits.empty(), "hugepageLimits", "hugetlb");
  need(out, !r.rdma.empty(), "rdma", "rdma");
}

bool blkio_set(const spec::BlockIo& b) {
  return given(b.weight) || given(b.leaf_weight) || !b.weight_device.empty() ||
         !b.throttle_read_bps_device.empty() || !b.throttle_write_bps_device.empty() ||
         !b.throttle_read_iops_device.empty() || !b.throttle_write_iops_device.empty();
}

bool leaf_weight_set(const spec::BlockIo& b) {
  return given(b.leaf_weight) || std::any_of(b.weight_device.begin(), b.weight_device.end(),
                                             [](const auto& d) { return given(d.leaf_weight); });
}

Status unsupported_v2_memory(const spec::Memory& m) {
  const char* why = "not available in cgroup v2";
  if (given(m.kernel)) return unsupported("{}.memory.kernel: {}", kRes, why);
  if (given(m.kernel_tcp)) return unsupported("{}.memory.kernelTCP: {}", kRes, why);
  if (m.swappiness) return unsupported("{}.memory.swappiness: {}", kRes, why);
  if (m.disable_oom_killer.value_or(false)) {
    return unsupported("{}.memory.disableOOMKiller: {}", kRes, why);
  }
  if (!m.use_hierarchy.value_or(true)) {
    return unsupported("{}.memory.useHierarchy: cgroup v2 is always hierarchical", kRes);
  }
  return {};
}

Status unsupported_v2(const spec::Resources& r) {
  if (r.memory) TRY(unsupported_v2_memory(*r.memory));
  if (r.cpu && (given(r.cpu->realtime_runtime) || given(r.cpu->realtime_period))) {
    return unsupported(
        "{}.cpu.realtimeRuntime: realtime scheduling limits are not available in "
        "cgroup v2",
        kRes);
  }
  if (r.block_io && leaf_weight_set(*r.block_io)) {
    return unsupported("{}.blockIO.leafWeight: not available in cgroup v2", kRes);
  }
  if (r.network && (r.network->class_id || !r.network->priorities.empty())) {
    return unsupported("{}.network: net_cls/net_prio do not exist in cgroup v2", kRes);
  }
  return {};
}

}  // namespace

Status validate_resources(const spec::Resources& r) {
  TRY(normalize_device_rules(r.devices));
  if (r.memory) TRY(validate_memory(*r.memory));
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    if (!valid_page_size(r.hugepage_limits[i].page_size)) {
      return Error::spec("{}.hugepageLimits[{}].pageSize: expected <number>KB|MB|GB, got \"{}\"",
                         kRes, i, r.hugepage_limits[i].page_size);
    }
  }
  for (const auto& [key, value] : r.unified) {
    if (!valid_unified_key(key)) {
      return Error::spec("{}.unified: \"{}\" is not a cgroup interface file name", kRes, key);
    }
  }
  static const std::vector<spec::NetworkPriority> kNone;
  return validate_named(r.network ? r.network->priorities : kNone, r.rdma);
}

Result<std::vector<Need>> needs_v1(const spec::Resources& r) {
  // Refused whole, as runc refuses it, even on a hybrid host whose cgroup2
  // mount holds a controller (hugetlb here): the v1 driver places the
  // container in that mount only to mirror its membership, and a key would
  // otherwise mean a file there for some controllers and nothing for the
  // rest. HUSK_CGROUP_DRIVER=v2 drives that mount as a cgroup v2 host.
  if (!r.unified.empty()) {
    return Error::spec(
        "{}.unified: invalid configuration: cannot use unified on cgroup v1 (\"{}\" is set)", kRes,
        r.unified.begin()->first);
  }
  std::vector<Need> out;
  needs_common(out, r);
  if (r.memory) {
    const auto& m = *r.memory;
    need(out, given(m.kernel), "memory.kernel", "memory");
    need(out, given(m.kernel_tcp), "memory.kernelTCP", "memory");
    need(out, m.swappiness.has_value(), "memory.swappiness", "memory");
    need(out, m.disable_oom_killer.value_or(false), "memory.disableOOMKiller", "memory");
    need(out, m.use_hierarchy.has_value(), "memory.useHierarchy", "memory");
  }
  if (r.cpu) {
    need(out, given(r.cpu->realtime_runtime), "cpu.realtimeRuntime", "cpu");
    need(out, given(r.cpu->realtime_period), "cpu.realtimePeriod", "cpu");
  }
  need(out, r.block_io && blkio_set(*r.block_io), "blockIO", "blkio");
  if (r.network) {
    need(out, r.network->class_id.has_value(), "network.classID", "net_cls");
    need(out, !r.network->priorities.empty(), "network.priorities", "net_prio");
  }
  need(out, !r.devices.empty(), "devices", "devices");
  return out;
}

Result<std::vector<Need>> needs_v2(const spec::Resources& r) {
  TRY(unsupported_v2(r));
  std::vector<Need> out;
  needs_common(out, r);
  need(out, r.block_io && blkio_set(*r.block_io), "blockIO", "io");
  for (const auto& [key, value] : r.unified) {
    std::string ctrl = key.substr(0, key.find('.'));
    if (ctrl != "cgroup") out.push_back({fmt::format("{}.unified[\"{}\"]", kRes, key), ctrl});
  }
  return out;
}

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  double l = std::log2(static_cast<double>(shares));
  double w = std::ceil(std::pow(10.0, (l * l + 125 * l) / 612.0 - 7.0 / 34.0));
  return std::clamp<uint64_t>(static_cast<uint64_t>(w), 1, 10000);
}

uint64_t blkio_to_io_weight(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight <= 10) return 1;
  if (weight >= 1000) return 10000;
  return 1 + (weight - 10) * 9999 / 990;
}

Result<std::optional<std::string>> swap_max_value(const spec::Memory& m) {
  if (!given(m.swap)) return std::optional<std::string>();
  if (*m.swap < 0) return std::optional<std::string>("max");
  if (!given(m.limit) || *m.limit < 0) {
    return Error::spec("{}.memory.swap: a memory+swap limit needs a memory limit on cgroup v2",
                       kRes);
  }
  if (*m.swap < *m.limit) {
    return Error::spec("{}.memory.swap: memory+swap limit {} is lower than memory limit {}", kRes,
                       *m.swap, *m.limit);
  }
  return std::optional<std::string>(std::to_string(*m.swap - *m.limit));
}

std::optional<std::string> cpu_max_value(const spec::Cpu& c, const std::string& current) {
  if (!given(c.quota) && !given(c.period)) return std::nullopt;
  std::string quota = "max";
  std::string period = "100000";
  size_t sp = current.find(' ');
  if (sp != std::string::npos) {
    quota = current.substr(0, sp);
    period = current.substr(sp + 1);
  }
  if (given(c.quota)) quota = *c.quota < 0 ? "max" : std::to_string(*c.quota);
  if (given(c.period)) period = std::to_string(*c.period);
  return quota + " " + period;
}

Result<std::vector<DeviceRule>> normalize_device_rules(const std::vector<spec::DeviceCgroup>& in) {
  std::vector<DeviceRule> out;
  for (size_t i = 0; i < in.size(); ++i) {
    const auto& d = in[i];
    DeviceRule r;
    r.allow = d.allow;
    std::string type = d.type.value_or("a");
    if (type != "a" && type != "b" && type != "c") {
      return Error::spec("{}.devices[{}].type: expected \"a\", \"b\" or \"c\", got \"{}\"", kRes, i,
                         type);
    }
    r.type = type[0];
    for (auto [src, dst, name] :
         {std::tuple{&d.major, &r.major, "major"}, std::tuple{&d.minor, &r.minor, "minor"}}) {
      if (!*src) continue;
      if (**src < -1 || **src > INT32_MAX) {
        return Error::spec("{}.devices[{}].{}: expected -1 (any) or 0..{}, got {}", kRes, i, name,
                           INT32_MAX, **src);
      }
      *dst = **src;
    }
    std::string access = d.access.value_or("");
    if (!access.empty()) r.access = 0;
    for (char ch : access) {
      unsigned bit = ch == 'm' ? 1 : ch == 'r' ? 2 : ch == 'w' ? 4 : 0;
      if (bit == 0) {
        return Error::spec("{}.devices[{}].access: expected a combination of r, w, m, got \"{}\"",
                           kRes, i, access);
      }
      r.access |= bit;
    }
    out.push_back(r);
  }
  return out;
}

std::vector<std::string> device_rule_lines_v1(const DeviceRule& r) {
  std::string access;
  if (r.access & 2) access += 'r';
  if (r.access & 4) access += 'w';
  if (r.access & 1) access += 'm';
  auto num = [](int64_t v) { return v < 0 ? std::string("*") : std::to_string(v); };
  std::string rest = fmt::format(" {}:{} {}", num(r.major), num(r.minor), access);
  if (r.type != 'a') return {r.type + rest};
  if (r.major < 0 && r.minor < 0 && r.access == 7) return {"a"};
  return {"c" + rest, "b" + rest};
}

std::vector<spec::DeviceCgroup> container_device_rules(const spec::Linux* linux) {
  std::vector<spec::DeviceCgroup> out;
  if (linux && linux->resources) out = linux->resources->devices;
  auto allow = [&out](const char* type, std::optional<int64_t> major, std::optional<int64_t> minor,
                      const char* access) {
    out.push_back({true, std::string(type), major, minor, std::string(access)});
  };
  allow("c", std::nullopt, std::nullopt, "m");
  allow("b", std::nullopt, std::nullopt, "m");
  for (int64_t minor : {3, 5, 7, 8, 9})
    allow("c", 1, minor, "rwm");         // null zero full random urandom
  allow("c", 5, 0, "rwm");               // tty
  allow("c", 5, 2, "rwm");               // ptmx
  allow("c", 136, std::nullopt, "rwm");  // pts/*
  // /dev/net/tun: runc dropped it once (runc#3468) and had to restore it
  // (runc#4555), as did crun; users rely on the default list as it is.
  allow("c", 10, 200, "rwm");
  // linux.devices only creates nodes: access to them is what the rules above
  // say. An allow per entry would override the config's own deny rules
  // (a listed /dev/kmsg readable under an explicit deny-all), which is what
  // runc does not do either.
  return out;
}

spec::Resources container_resources(const spec::Linux* linux) {
  spec::Resources r;
  if (linux && linux->resources) r = *linux->resources;
  r.devices = container_device_rules(linux);
  return r;
}

}  // namespace husk::cgroup
