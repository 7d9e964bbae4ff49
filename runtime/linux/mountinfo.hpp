// The parser for /proc/self/cgroup (cgroups(7)), and the pairing of a cgroup
// hierarchy with the mount (sys/mountinfo.hpp) that shows it. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sys/mountinfo.hpp"

namespace husk::linux_setup {

// The mountinfo parser is sys's; the pairing below works on its entries.
using sys::MountInfoEntry;
using sys::parse_mountinfo;

struct CgroupEntry {
  int id = 0;
  std::string controllers;  // "cpu,cpuacct", "name=systemd", "" for cgroup2
  std::string path;
  [[nodiscard]] bool v2() const { return id == 0 && controllers.empty(); }
};

std::vector<CgroupEntry> parse_proc_cgroup(std::string_view text);
std::vector<std::string> split_controllers(std::string_view list);

// The host mount shows this hierarchy: cgroup2 for the v2 entry; for v1 a
// "cgroup" mount whose superblock options name every controller of the entry.
bool cgroup_mount_matches(const CgroupEntry& cg, const MountInfoEntry& mi);
// Where the entry's cgroup is on the host: mount point + path below the
// mount's root. Error if the cgroup is not visible under that mount.
Result<std::string> cgroup_host_path(const CgroupEntry& cg, const MountInfoEntry& mi);

}  // namespace husk::linux_setup
