// linux.resources (also an `update --resources` document): device rules,
// memory, cpu, blockIO, hugepages, network, rdma and unified keys. What the
// host's cgroups can apply is the cgroup module's check, not this one.
#include <fmt/format.h>

#include <set>
#include <string_view>

#include "spec/validate.hpp"
#include "spec/validate_internal.hpp"

namespace husk::spec::validation {
namespace {

Status check_device_rule(const DeviceCgroup& d, const std::string& path) {
  if (d.type && (d.type->size() != 1 ||
                 std::string_view("acb").find((*d.type)[0]) == std::string_view::npos)) {
    return Error::spec("{}.type: must be one of a, c, b, got \"{}\"", path, *d.type);
  }
  // Any order, letters repeated ("wr", "mr", "rrw"): runc 1.1.5 takes them
  // all. An empty string is no composition of r, w and m; runc refuses it,
  // and an allow rule reading it as "everything" (an absent access) would
  // grant what nobody wrote.
  if (d.access && d.access->empty()) {
    return Error::spec("{}.access: must not be empty (a combination of r, w, m)", path);
  }
  if (d.access && d.access->find_first_not_of("rwm") != std::string::npos) {
    return Error::spec("{}.access: must be a combination of r, w, m, got \"{}\"", path, *d.access);
  }
  if (d.major.value_or(0) < -1 || d.minor.value_or(0) < -1) {
    return Error::spec("{}: major/minor must be >= 0, or -1 for any", path);
  }
  return {};
}

void check_memory(Diagnostics& dg, const Memory& m, const std::string& base) {
  const std::pair<std::string_view, const std::optional<int64_t>*> limits[] = {
      {"limit", &m.limit}, {"reservation", &m.reservation}, {"swap", &m.swap}};
  for (const auto& [key, v] : limits) {
    if (*v && **v < -1) {
      dg.take(Error::spec("{}: must be -1 (unlimited) or >= 0, got {}", sub(base, key), **v));
    }
  }
  if (m.limit && m.swap && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit) {
    dg.take(Error::spec("{}: memory+swap limit {} must be >= memory limit {}", sub(base, "swap"),
                        *m.swap, *m.limit));
  }
  if (m.swappiness && *m.swappiness > 100) {
    dg.take(Error::spec("{}: must be in 0..100, got {}", sub(base, "swappiness"), *m.swappiness));
  }
}

void check_cpu(Diagnostics& dg, const Cpu& c, const std::string& base) {
  if (c.burst && c.quota && *c.quota > 0 && *c.burst > static_cast<uint64_t>(*c.quota)) {
    dg.take(Error::spec("{}: burst {} must not exceed quota {}", sub(base, "burst"), *c.burst,
                        *c.quota));
  }
  if (c.idle && *c.idle != 0 && *c.idle != 1) {
    dg.take(Error::spec("{}: must be 0 or 1, got {}", sub(base, "idle"), *c.idle));
  }
  if (c.cpus) dg.take(check_cpu_list(*c.cpus, sub(base, "cpus")));
  if (c.mems) dg.take(check_cpu_list(*c.mems, sub(base, "mems")));
}

// 0 is "not set", as in runc (which writes no weight for it) and as the
// writers read it (cgroup::given); the kernel's range is 10..1000.
Status check_weight(std::optional<uint16_t> w, const std::string& path) {
  if (w && *w != 0 && (*w < 10 || *w > 1000)) {
    return Error::spec("{}: must be in 10..1000, got {}", path, *w);
  }
  return {};
}

void check_block_io(Diagnostics& dg, const BlockIo& b, const std::string& base) {
  dg.take(check_weight(b.weight, sub(base, "weight")));
  dg.take(check_weight(b.leaf_weight, sub(base, "leafWeight")));
  for (size_t i = 0; i < b.weight_device.size(); ++i) {
    const std::string path = idx(sub(base, "weightDevice"), i);
    dg.take(check_weight(b.weight_device[i].weight, path + ".weight"));
    dg.take(check_weight(b.weight_device[i].leaf_weight, path + ".leafWeight"));
  }
}

// "2MB", "1GB", "64KB": becomes part of a cgroup file name
// (hugetlb.<size>.limit_in_bytes), so nothing else may get through.
bool page_size_ok(std::string_view s) {
  if (s.size() < 3 || s.size() > 8 || !s.ends_with('B')) return false;
  if (std::string_view("KMGTP").find(s[s.size() - 2]) == std::string_view::npos) return false;
  const std::string_view num = s.substr(0, s.size() - 2);
  return num[0] != '0' && num.find_first_not_of("0123456789") == std::string_view::npos;
}

void check_hugepages(Diagnostics& dg, const std::vector<HugepageLimit>& limits,
                     const std::string& base) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < limits.size(); ++i) {
    const std::string path = idx(sub(base, "hugepageLimits"), i) + ".pageSize";
    if (!page_size_ok(limits[i].page_size)) {
      dg.take(Error::spec("{}: expected a size like \"2MB\" or \"1GB\", got \"{}\"", path,
                          limits[i].page_size));
    } else if (!seen.insert(limits[i].page_size).second) {
      dg.take(Error::spec("{}: duplicate page size \"{}\"", path, limits[i].page_size));
    }
  }
}

// Keys name files in the container's cgroup directory and are written
// verbatim, so they must be plain "controller.file" names.
void check_unified(Diagnostics& dg, const std::map<std::string, std::string>& unified,
                   const std::string& base) {
  for (const auto& [key, value] : unified) {
    const size_t dot = key.find('.');
    if (key.find('/') != std::string::npos || dot == std::string::npos || dot == 0 ||
        dot + 1 == key.size()) {
      dg.take(Error::spec("{}[\"{}\"]: not a cgroup file name", sub(base, "unified"), key));
    }
  }
}

void check_named(Diagnostics& dg, const Resources& r, const std::string& base) {
  if (r.network) {
    for (size_t i = 0; i < r.network->priorities.size(); ++i) {
      if (!netdev_name_ok(r.network->priorities[i].name)) {
        dg.take(Error::spec("{}.name: invalid interface name \"{}\"",
                            idx(sub(base, "network.priorities"), i),
                            r.network->priorities[i].name));
      }
    }
  }
  for (const auto& [dev, limits] : r.rdma) {
    if (dev.empty() || dev.find_first_of(" \n/") != std::string::npos) {
      dg.take(Error::spec("{}[\"{}\"]: invalid device name", sub(base, "rdma"), dev));
    }
  }
}

}  // namespace

void check_resources(Diagnostics& dg, const Resources& r, const std::string& path) {
  for (size_t i = 0; i < r.devices.size(); ++i) {
    dg.take(check_device_rule(r.devices[i], idx(sub(path, "devices"), i)));
  }
  if (r.memory) check_memory(dg, *r.memory, sub(path, "memory"));
  if (r.cpu) check_cpu(dg, *r.cpu, sub(path, "cpu"));
  if (r.block_io) check_block_io(dg, *r.block_io, sub(path, "blockIO"));
  check_hugepages(dg, r.hugepage_limits, path);
  check_named(dg, r, path);
  check_unified(dg, r.unified, path);
}

}  // namespace husk::spec::validation

namespace husk::spec {

Status check_cpu_list(std::string_view list, const std::string& path) {
  std::string_view s = list;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string_view item = s.substr(0, comma);
    const size_t dash = item.find('-');
    const std::string_view lo = item.substr(0, dash);
    const std::string_view hi = dash == std::string_view::npos ? lo : item.substr(dash + 1);
    auto num_ok = [](std::string_view n) {
      return !n.empty() && n.size() <= 7 &&
             n.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (!num_ok(lo) || !num_ok(hi) || std::stoul(std::string(lo)) > std::stoul(std::string(hi))) {
      return Error::spec("{}: invalid list \"{}\" (expected e.g. \"0-3,6\")", path, list);
    }
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
    if (s.empty()) return Error::spec("{}: invalid list \"{}\" (trailing comma)", path, list);
  }
  return {};
}

}  // namespace husk::spec
