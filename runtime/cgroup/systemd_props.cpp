// spec::Resources -> systemd unit properties (systemd_unit.hpp).
#include <set>

#include "cgroup/resources.hpp"
#include "cgroup/systemd_unit.hpp"

namespace husk::cgroup {

namespace {

using Props = std::vector<UnitProperty>;

// A limit where -1 (any negative) means unlimited.
uint64_t limit_value(int64_t v) { return v < 0 ? kInfinity : static_cast<uint64_t>(v); }

void memory_props(const spec::Memory& m, const PropertyHost& host, Props& out) {
  if (given(m.limit)) out.push_back({host.v2 ? "MemoryMax" : "MemoryLimit", limit_value(*m.limit)});
  if (!host.v2) return;
  if (given(m.reservation)) out.push_back({"MemoryLow", limit_value(*m.reservation)});
}

Status swap_props(const spec::Memory& m, const PropertyHost& host, Props& out) {
  if (!host.v2) return {};
  // The spec's swap is memory+swap; v2 (and systemd) limit swap alone.
  auto swap = TRY(swap_max_value(m));
  if (!swap) return {};
  uint64_t v = kInfinity;
  if (*swap != "max") v = std::stoull(*swap);
  out.push_back({"MemorySwapMax", v});
  return {};
}

// systemd takes the quota as CPU time per second of wall clock, in 1%
// (10 ms) steps: rounded up so the container never gets less than asked.
void cpu_quota_props(const spec::Cpu& c, Props& out) {
  uint64_t period = given(c.period) ? *c.period : 100000;
  if (given(c.quota)) {
    uint64_t per_sec = kInfinity;
    if (*c.quota > 0) {
      per_sec = static_cast<uint64_t>(*c.quota) * 1000000 / period;
      if (per_sec % 10000 != 0) per_sec = (per_sec / 10000 + 1) * 10000;
    }
    out.push_back({"CPUQuotaPerSecUSec", per_sec});
  }
  if (given(c.period)) out.push_back({"CPUQuotaPeriodUSec", *c.period});
}

Status cpu_props(const spec::Cpu& c, const PropertyHost& host, Props& out) {
  if (given(c.shares)) {
    if (host.v2) {
      out.push_back({"CPUWeight", shares_to_weight(*c.shares)});
    } else {
      out.push_back({"CPUShares", *c.shares});
    }
  }
  cpu_quota_props(c, out);
  // systemd manages cpuset only on the unified hierarchy.
  if (!host.v2) return {};
  if (c.cpus && !c.cpus->empty()) {
    out.push_back({"AllowedCPUs", TRY_CTX(cpu_list_mask(*c.cpus), "linux.resources.cpu.cpus")});
  }
  if (c.mems && !c.mems->empty()) {
    out.push_back(
        {"AllowedMemoryNodes", TRY_CTX(cpu_list_mask(*c.mems), "linux.resources.cpu.mems")});
  }
  return {};
}

void io_props(const spec::BlockIo& b, const PropertyHost& host, Props& out) {
  auto scale = [&host](uint64_t w) { return host.v2 ? blkio_to_io_weight(w) : w; };
  if (given(b.weight)) out.push_back({host.v2 ? "IOWeight" : "BlockIOWeight", scale(*b.weight)});
  std::vector<std::pair<std::string, uint64_t>> devs;
  for (const auto& d : b.weight_device) {
    if (!given(d.weight)) continue;
    devs.emplace_back(fmt::format("/dev/block/{}:{}", d.major, d.minor), scale(*d.weight));
  }
  if (!devs.empty()) {
    out.push_back({host.v2 ? "IODeviceWeight" : "BlockIODeviceWeight", std::move(devs)});
  }
}

std::string access_letters(unsigned access) {
  std::string s;
  if ((access & 2U) != 0) s += 'r';
  if ((access & 4U) != 0) s += 'w';
  if ((access & 1U) != 0) s += 'm';
  return s;
}

// One allow rule as DeviceAllow entries. systemd names a whole major by its
// driver ("char-pts"); a major /proc/devices does not list widens to every
// device of the type, since systemd's list only has to contain the rules.
void device_entries(const DeviceRule& r, const PropertyHost& host,
                    std::vector<std::pair<std::string, std::string>>& out) {
  std::string acc = access_letters(r.access);
  for (char type : {'c', 'b'}) {
    if (r.type != 'a' && r.type != type) continue;
    const char* kind = type == 'c' ? "char" : "block";
    const auto& majors = type == 'c' ? host.char_majors : host.block_majors;
    if (r.type == 'a' || r.major < 0) {
      out.emplace_back(fmt::format("{}-*", kind), acc);
    } else if (r.minor >= 0) {
      out.emplace_back(fmt::format("/dev/{}/{}:{}", kind, r.major, r.minor), acc);
    } else if (auto it = majors.find(r.major); it != majors.end()) {
      out.emplace_back(fmt::format("{}-{}", kind, it->second), acc);
    } else {
      out.emplace_back(fmt::format("{}-*", kind), acc);
    }
  }
}

// systemd's device policy is an allow list. husk's own filter (v2 eBPF, v1
// devices.deny/allow) applies the exact rules; the unit gets every allowed
// device, so that the two together grant exactly what the rules say, and a
// daemon-reload cannot open more than the unit lists.
Status device_props(const std::vector<spec::DeviceCgroup>& devices, const PropertyHost& host,
                    Props& out) {
  if (devices.empty()) return {};
  auto rules = TRY(normalize_device_rules(devices));
  std::vector<std::pair<std::string, std::string>> allow;
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& r : rules) {
    if (!r.allow) continue;
    std::vector<std::pair<std::string, std::string>> entries;
    device_entries(r, host, entries);
    for (auto& e : entries) {
      if (seen.insert(e).second) allow.push_back(std::move(e));
    }
  }
  out.push_back({"DevicePolicy", std::string("strict")});
  out.push_back({"DeviceAllow", std::move(allow)});
  return {};
}

}  // namespace

Result<std::vector<UnitProperty>> resource_properties(const spec::Resources& r,
                                                      const PropertyHost& host) {
  Props out;
  if (r.memory) {
    memory_props(*r.memory, host, out);
    TRY(swap_props(*r.memory, host, out));
  }
  if (r.cpu) TRY(cpu_props(*r.cpu, host, out));
  if (r.block_io) io_props(*r.block_io, host, out);
  if (r.pids) out.push_back({"TasksMax", limit_value(r.pids->limit)});
  TRY(device_props(r.devices, host, out));
  return out;
}

}  // namespace husk::cgroup
