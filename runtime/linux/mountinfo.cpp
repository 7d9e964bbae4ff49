#include "linux/mountinfo.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "base/strings.hpp"

namespace husk::linux_setup {

std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text) {
  std::vector<CgroupEntry> out;
  for (auto line : split(text, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    CgroupEntry e;
    auto id = line.substr(0, a);
    auto [p, ec] = std::from_chars(id.data(), id.data() + id.size(), e.id);
    if (ec != std::errc() || p != id.data() + id.size()) continue;
    e.controllers = std::string(line.substr(a + 1, b - a - 1));
    e.path = std::string(line.substr(b + 1));
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> split_controllers(std::string_view list) {
  std::vector<std::string> out;
  for (auto c : split(list, ',')) {
    if (!c.empty()) out.emplace_back(c);
  }
  return out;
}

bool cgroup_mount_matches(const CgroupEntry& cg, const MountInfoEntry& mi) {
  if (cg.v2()) return mi.fstype == "cgroup2";
  if (mi.fstype != "cgroup" || cg.controllers.empty()) return false;
  auto opts = split_controllers(mi.super_options);
  for (const auto& c : split_controllers(cg.controllers)) {
    if (std::find(opts.begin(), opts.end(), c) == opts.end()) return false;
  }
  return true;
}

Result<std::string> cgroup_host_path(const CgroupEntry& cg, const MountInfoEntry& mi) {
  if (cg.path.empty() || cg.path[0] != '/' || cg.path.find("/..") != std::string::npos) {
    return Error::sys(EINVAL, "cgroup path \"{}\" is not below the cgroup namespace root", cg.path);
  }
  std::string rest;
  if (mi.root == "/") {
    rest = cg.path;
  } else if (cg.path == mi.root || cg.path.rfind(mi.root + "/", 0) == 0) {
    rest = cg.path.substr(mi.root.size());
  } else {
    return Error::sys(ENOENT, "cgroup {} is not visible under {} (root {})", cg.path,
                      mi.mount_point, mi.root);
  }
  if (rest == "/") rest.clear();
  return mi.mount_point + rest;
}

}  // namespace husk::linux_setup
