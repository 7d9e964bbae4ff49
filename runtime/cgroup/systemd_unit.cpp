#include "cgroup/systemd_unit.hpp"

#include <algorithm>
#include <charconv>

#include "cgroup/fs.hpp"
#include "cgroup/resources.hpp"
#include "cgroup/stats.hpp"

namespace husk::cgroup {

namespace {

constexpr const char* kPathField = "linux.cgroupsPath";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// systemd's unit name alphabet: ASCII letters, digits and ":-_.\", at most
// 255 bytes, and a suffix naming the type.
bool valid_unit_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
           c == '-' || c == '_' || c == '.' || c == '\\';
  });
}

std::vector<std::string_view> split_colon(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t at = 0;;) {
    size_t next = s.find(':', at);
    out.push_back(
        s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) return out;
    at = next + 1;
  }
}

// The slice a slice unit sits in, by its name: "a-b.slice" -> "a.slice",
// "a.slice" -> "-.slice".
std::string parent_slice(const std::string& slice) {
  std::string base = slice.substr(0, slice.size() - 6);
  size_t dash = base.rfind('-');
  return dash == std::string::npos ? "-.slice" : base.substr(0, dash) + ".slice";
}

}  // namespace

Result<std::string> expand_slice(const std::string& slice) {
  if (slice == "-.slice") return std::string();
  std::string_view base(slice);
  if (!ends_with(base, ".slice") || !valid_unit_name(slice)) {
    return Error::spec("{}: invalid slice name \"{}\"", kPathField, slice);
  }
  base.remove_suffix(6);
  // Each dash is one level down; empty levels ("a--b", "-a", "a-") are invalid.
  if (base.empty() || base.front() == '-' || base.back() == '-' ||
      base.find("--") != std::string_view::npos) {
    return Error::spec("{}: invalid slice name \"{}\"", kPathField, slice);
  }
  std::string path;
  for (size_t dash = 0;; ++dash) {
    dash = base.find('-', dash);
    std::string_view prefix = base.substr(0, dash);
    path += "/" + std::string(prefix) + ".slice";
    if (dash == std::string_view::npos) return path;
  }
}

Result<UnitPlacement> place_unit(const std::string& cgroups_path, const std::string& id,
                                 bool rootless) {
  std::string slice, prefix = "husk", name = id;
  if (!cgroups_path.empty()) {
    auto parts = split_colon(cgroups_path);
    if (parts.size() != 3) {
      return Error::spec(
          "{}: expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, "
          "got \"{}\" instead",
          kPathField, cgroups_path);
    }
    slice = parts[0];
    prefix = parts[1];
    name = parts[2];
  }
  UnitPlacement p;
  if (ends_with(name, ".slice")) {
    // A pod's slice: systemd places it by its own name, so a slice given
    // with it must be the one that name implies.
    if (!slice.empty() && slice != parent_slice(name)) {
      return Error::spec("{}: slice \"{}\" cannot contain \"{}\" (its parent is \"{}\")",
                         kPathField, slice, name, parent_slice(name));
    }
    p.unit = name;
    p.path = TRY(expand_slice(name));
    return p;
  }
  if (slice.empty()) slice = rootless ? "user.slice" : "system.slice";
  p.slice = slice;
  p.unit = prefix.empty() ? name + ".scope" : prefix + "-" + name + ".scope";
  if (name.empty() || !valid_unit_name(p.unit)) {
    return Error::spec("{}: invalid unit name \"{}\"", kPathField, p.unit);
  }
  p.path = TRY(expand_slice(slice)) + "/" + p.unit;
  return p;
}

void parse_proc_devices(std::string_view text, PropertyHost& host) {
  std::map<int64_t, std::string>* into = nullptr;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.rfind("Character devices:", 0) == 0) into = &host.char_majors;
    if (line.rfind("Block devices:", 0) == 0) into = &host.block_majors;
    auto words = fs::split_words(line);
    int64_t major = 0;
    if (into == nullptr || words.size() != 2) continue;
    const std::string& w = words[0];
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), major);
    if (ec == std::errc() && end == w.data() + w.size()) (*into)[major] = words[1];
  }
}

Result<std::vector<uint8_t>> cpu_list_mask(std::string_view list) {
  auto ids = TRY(parse_cpu_list(list));
  std::vector<uint8_t> mask;
  for (uint16_t id : ids) {
    size_t byte = id / 8;
    if (mask.size() <= byte) mask.resize(byte + 1, 0);
    mask[byte] |= static_cast<uint8_t>(1U << (id % 8));
  }
  return mask;
}

std::vector<UnitProperty> unit_properties(const UnitPlacement& p, const std::string& id, pid_t pid,
                                          const PropertyHost& host) {
  std::vector<UnitProperty> out;
  out.push_back({"Description", "husk container " + id});
  if (!p.is_slice()) {
    out.push_back({"Slice", p.slice});
    // Not ordered after sysinit/basic nor stopped at shutdown by conflict:
    // the engine that made the container decides its lifetime.
    out.push_back({"DefaultDependencies", false});
    out.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
    // The container manages the cgroup below this unit itself (sub-cgroups,
    // controllers systemd does not know): systemd leaves it alone. systemd
    // refuses Delegate for slices ("Delegation not available for unit type").
    out.push_back({"Delegate", true});
  }
  out.push_back({"MemoryAccounting", true});
  out.push_back({"CPUAccounting", true});
  out.push_back({host.v2 ? "IOAccounting" : "BlockIOAccounting", true});
  out.push_back({"TasksAccounting", true});
  return out;
}

}  // namespace husk::cgroup
