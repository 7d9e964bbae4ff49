// /proc/<pid>/mountinfo (proc_pid_mountinfo(5)): one line per mount of the
// reader's mount namespace, in mount order (a later line at the same mount
// point is a mount on top of an earlier one). Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace husk::sys {

struct MountInfoEntry {
  std::string root;         // field 4: the mount's root within its filesystem
  std::string mount_point;  // field 5
  std::string fstype;
  std::string source;
  std::string super_options;
  std::string dev;  // field 3, "major:minor": one value per superblock
};

// Lines that do not parse are skipped; octal escapes (\040) are decoded.
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

}  // namespace husk::sys
