// Device nodes and the standard /dev links of a container
// (config-linux.md "Devices", "Default Devices"; runtime-linux.md "Dev
// symbolic links"). Every node is created and checked through a directory
// fd with O_NOFOLLOW semantics: a rootfs whose /dev holds symlinks (e.g.
// null -> /etc/shadow on the host, CVE-2025-31133 / runc's /dev symlink
// CVEs) can make setup fail, never redirect it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct DevicePlan {
  std::string path;  // cleaned, absolute inside the container
  mode_t type = 0;   // S_IFCHR, S_IFBLK or S_IFIFO
  dev_t rdev = 0;
  mode_t mode = 0666;  // permission bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::string field;  // "linux.devices[2]" or "default device /dev/null"
};

// The six default devices (null zero full random urandom tty, 0666, root),
// then linux.devices; a configured device replaces the default at its path.
Result<std::vector<DevicePlan>> plan_devices(const std::vector<spec::Device>& devices);

// Creates every device under the rootfs: mknodat, or, when `bind` (a user
// namespace, where mknod(2) is refused) or mknod fails with EPERM, a bind of
// the host's node at the same path onto an empty file. An existing entry is
// accepted only if it is already that device (the spec's "MUST generate an
// error" on a mismatch).
Status create_devices(int rootfd, const std::vector<DevicePlan>& devices, bool bind);

// /dev/ptmx -> pts/ptmx, /dev/fd -> /proc/self/fd, /dev/std{in,out,err}, and
// with `console` an empty /dev/console for the pty bind.
Status create_dev_links(int rootfd, bool console);

}  // namespace husk::linux_setup
