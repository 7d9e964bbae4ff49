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
// cgroup_ns: list a cgroup namespace. runc lists one only on a cgroup v2
// host (/sys/fs/cgroup is cgroup2), where the namespace makes the mounted
// cgroup2 show the container's own cgroup as its root; on a v1 or hybrid host
// its spec has none, and the caller passes what the host is.
// No trailing newline.
std::string default_config_json(bool rootless, uid_t host_uid = 0, gid_t host_gid = 0,
                                bool cgroup_ns = true);

}  // namespace husk::spec
