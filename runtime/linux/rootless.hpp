// The decisions that differ for a caller without privilege over the host
// (a "rootless" husk), gathered here so the rest of the runtime asks one
// question instead of testing uids itself:
//  - whether husk is rootless at all (--rootless, else runc's auto rule);
//  - where its state lives by default ($XDG_RUNTIME_DIR/husk);
//  - how a new user namespace's uid_map/gid_map get written: directly when
//    the kernel lets this caller write them, else by the setuid helpers
//    newuidmap/newgidmap (shadow's, Debian's uidmap), which grant the
//    ranges /etc/subuid and /etc/subgid allow.
// The cgroup side (a delegated cgroup, or none when no limits are asked
// for) is cgroup::plan_rootless; device nodes become binds of the host's in
// a user namespace (devices.hpp, create_devices).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

// Whether husk runs in a user namespace other than the initial one: its
// uid_map is not the identity over all 2^32 ids.
bool in_user_namespace();

// The caller's euid as the initial user namespace knows it, through
// /proc/self/uid_map: inside rootless podman's namespace husk is uid 0, and
// the user whose systemd and /run/user/UID it has is the uid 0 maps to.
uid_t host_euid();

// --rootless true|false, or for auto (nullopt) runc's rule: a non-root
// euid, or root of a user namespace (e.g. inside `podman unshare`), whose
// "root" has no privilege over the host's cgroups.
bool rootless(std::optional<bool> flag);

// The default --root: $XDG_RUNTIME_DIR/husk for a non-root caller, and for
// root in a user namespace unless $USER says "root" (runc's rule, so that
// podman's rootless engine and the user agree); /run/husk otherwise.
std::string default_state_root();

// Whether device nodes are binds of the host's rather than mknod(2)ed: in
// a user namespace other than the initial one mknod of a device is refused
// (EPERM, user_namespaces(7)), whether the container makes that namespace
// (config_userns) or husk already runs in one (inside podman's, rootless).
bool device_nodes_are_binds(bool config_userns);

// How one id map of a new user namespace is written.
enum class MapWriter : unsigned char {
  Direct,  // write(2) to /proc/<pid>/{uid,gid}_map by husk itself
  Helper,  // newuidmap / newgidmap
};

// Direct when husk is root (CAP_SETUID/CAP_SETGID in its own namespace,
// which is the parent of the new one), or when the map is the single line
// the kernel lets an unprivileged writer set: its own euid (egid) with
// size 1 (user_namespaces(7), "Defining user and group ID mappings").
MapWriter map_writer(const std::vector<spec::IdMapping>& maps, bool gid);

// Run newuidmap (gid false) or newgidmap for `pid` with `maps`; on refusal,
// an error naming `field` with the helper's own message (which says which
// range /etc/subuid or /etc/subgid does not grant).
Status write_map_with_helper(pid_t pid, const std::vector<spec::IdMapping>& maps, bool gid,
                             const char* field);

}  // namespace husk::linux_setup
