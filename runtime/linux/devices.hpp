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
#include "sys/fd.hpp"

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

// The container's /dev, opened once (through the rootfs-confined walker) for
// every node and link made directly in it.
struct DevDir {
  sys::UniqueFd fd;
  // /dev is on the tmpfs this init mounted there itself (fresh_tmpfs below):
  // nodes made in it are not reopened and checked (see create_fresh_node).
  bool fresh = false;
  uid_t creator_uid = 0;  // owner mknodat gives a new node in it (fresh only)
  gid_t creator_gid = 0;
};

// fresh_tmpfs: st_dev of the tmpfs the init mounted at /dev, 0 if none.
Result<DevDir> open_dev_dir(int rootfd, dev_t fresh_tmpfs);

// Creates every device under the rootfs: mknodat, or, when `bind` (a user
// namespace, where mknod(2) is refused) or mknod fails with EPERM, a bind of
// the host's node at the same path onto an empty file. An existing entry is
// accepted only if it is already that device (the spec's "MUST generate an
// error" on a mismatch). Unless /dev is fresh, every node made is reopened
// without following symlinks and checked before its owner and mode are set
// through that fd (a rootfs /dev from the image or a bind may be shared with
// something that swaps entries).
Status create_devices(int rootfd, const DevDir& dev, const std::vector<DevicePlan>& devices,
                      bool bind);

// /dev/ptmx -> pts/ptmx, /dev/fd -> /proc/self/fd, /dev/std{in,out,err}, and
// with `console` an empty /dev/console for the pty bind.
Status create_dev_links(const DevDir& dev, bool console);

}  // namespace husk::linux_setup
