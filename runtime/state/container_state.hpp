// What husk persists about one container in <root>/<id>/state.json.
// The JSON shape of the OCI "state" (runtime.md) is a projection of this;
// the rest is what later verbs need without re-reading the bundle.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace husk::state {

// What the runtime last recorded. The status a user sees is derived from this
// plus live facts (see status.hpp); it is never trusted on its own.
enum class Phase : unsigned char {
  Creating,  // written by earlier husk versions before the init existed; read only
  Created,   // what create writes, once: whether it is still at work, the
             // init blocked on exec.fifo or running is derived (status.hpp)
  Running,   // start opened the fifo
  Stopped,   // recorded once we observed init gone (e.g. by run/delete)
};

struct ContainerState {
  std::string oci_version;  // from config.json
  std::string id;
  Phase phase = Phase::Creating;
  pid_t pid = 0;                // init's pid in husk's pid namespace; 0 = none yet
  uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat, guards pid reuse
  std::string bundle;           // absolute
  std::string rootfs;           // absolute
  std::string created;          // RFC 3339 with nanoseconds, UTC
  std::string owner;            // "" for root, as runc
  std::map<std::string, std::string> annotations;
  // Opaque, produced by the cgroup layer; lets delete/pause/ps find the cgroup.
  std::string cgroup;
  bool systemd_cgroup = false;
  bool rootless = false;
};

}  // namespace husk::state
