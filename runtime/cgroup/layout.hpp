// Where a container's cgroup lives: the driver, the path below each
// hierarchy root, and per hierarchy how many trailing path components this
// container created. Internal to runtime/cgroup (exposed for unit tests).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "cgroup/cgroup.hpp"

namespace husk::cgroup {

struct Hierarchy {
  std::string mount;                     // "/sys/fs/cgroup/memory"
  std::vector<std::string> controllers;  // v1: {"cpu","cpuacct"}, {"name=systemd"}; v2: {}
  bool unified = false;                  // a cgroup2 hierarchy
  int created = 0;                       // trailing components of `path` made by this container
  [[nodiscard]] bool has(std::string_view controller) const;
};

struct Layout {
  Driver driver = Driver::V2;
  std::string root;  // Options::mount_root, for messages
  std::string path;  // "/husk/<id>": normalized, below every hierarchy root
  std::vector<Hierarchy> hierarchies;
  // The systemd unit that owns `path` (--systemd-cgroup), empty for cgroupfs.
  std::string systemd_unit;
  // A rootless caller's delegated cgroup (rootless.cpp): device rules are
  // not its to write (v1 devices.* and v2 device programs need CAP_SYS_ADMIN).
  bool rootless = false;

  [[nodiscard]] std::vector<std::string> components() const;
  [[nodiscard]] std::string dir(const Hierarchy& h) const { return h.mount + path; }
  [[nodiscard]] const Hierarchy* find(std::string_view controller) const;  // v1 controller
  [[nodiscard]] const Hierarchy* unified() const;
};

// linux.cgroupsPath -> "/a/b" (see Options::cgroups_path). InvalidSpec
// naming linux.cgroupsPath for "..", "process_api", control characters or a
// path that is the hierarchy root itself.
Result<std::string> normalize_cgroups_path(const std::string& cgroups_path, const std::string& id);

// cgroup v1 hierarchies mounted directly under `mount_root`, from the text of
// /proc/self/mountinfo (one entry per superblock).
std::vector<Hierarchy> parse_v1_mounts(std::string_view mountinfo, const std::string& mount_root);
// Whether the mount a lookup of `path` reaches is cgroup2, from the same text.
bool cgroup2_mounted_at(std::string_view mountinfo, const std::string& path);

// Driver detection and hierarchy discovery for plan().
Result<Layout> discover(const Options& opts);

std::string serialize_layout(const Layout& l);
Result<Layout> parse_layout(std::string_view s);

}  // namespace husk::cgroup
