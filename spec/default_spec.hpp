// The config.json `husk spec` writes: runc's example spec (same layout and
// tab indentation), with ociVersion 1.3.0 and hostname "husk".
#pragma once

#include <sys/types.h>

#include <string>

namespace husk::spec {

// rootless: add a user namespace mapping container root to host_uid/host_gid
// (size 1), drop the network namespace and the cgroup device rules, bind
// /sys instead of mounting sysfs, and drop uid=/gid= mount options, as
// `runc spec --rootless` does. host_uid/host_gid are ignored otherwise.
// No trailing newline.
std::string default_config_json(bool rootless, uid_t host_uid = 0, gid_t host_gid = 0);

}  // namespace husk::spec
