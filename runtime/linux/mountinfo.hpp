// Parsers for /proc/self/mountinfo (proc_pid_mountinfo(5)) and
// /proc/self/cgroup (cgroups(7)), and the pairing of a cgroup hierarchy with
// the mount that shows it. Pure except read_small_file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace husk::linux_setup {

struct MountInfoEntry {
  std::string root;         // field 4: the mount's root within its filesystem
  std::string mount_point;  // field 5
  std::string fstype;
  std::string source;
  std::string super_options;
};

// Lines that do not parse are skipped; octal escapes (\040) are decoded.
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

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

// Reads a /proc file (not seekable, size 0 in stat) completely.
Result<std::string> read_small_file(const char* path);

}  // namespace husk::linux_setup
