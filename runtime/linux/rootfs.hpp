// Building the container's filesystem view inside its new mount namespace.
// Planned in the parent (pure: strings, flags, data resolved up front), executed
// by the init after clone. Every path inside the rootfs is resolved through
// file descriptors (openat2 RESOLVE_IN_ROOT, O_NOFOLLOW); mounts target fds
// (/proc/self/fd/N or move_mount), never re-resolved host strings.
#pragma once

#include <memory>
#include <string>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct RootfsPlan;  // defined in rootfs.cpp; opaque to callers

struct RootfsPlanDeleter {
  void operator()(RootfsPlan* p) const;
};
using RootfsPlanPtr = std::unique_ptr<RootfsPlan, RootfsPlanDeleter>;

struct RootfsOptions {
  std::string rootfs;  // absolute host path of root.path
  bool no_pivot = false;
  bool new_mount_ns = true;   // false if config joins an existing mount ns / has none
  bool console = false;       // process.terminal: /dev/console gets the pty slave later
};

// Validate and plan everything (mount options -> flags/data, device nodes,
// masked/readonly paths, propagation, sysctl). All errors name the config field.
Result<RootfsPlanPtr> plan_rootfs(const spec::Config& cfg, const RootfsOptions& opts);

// In the init, in its new mount namespace, before createRuntime/createContainer
// hooks: make / private per rootfsPropagation, bind the rootfs onto itself,
// mount config.mounts in order, create default devices and linux.devices,
// /dev/fd and std* links, /dev/ptmx.
Status prepare_rootfs(const RootfsPlan& plan);

// After createContainer hooks: pivot_root (or MS_MOVE + chroot with no_pivot),
// apply rootfsPropagation, maskedPaths, readonlyPaths, root.readonly, sysctl.
Status enter_rootfs(const RootfsPlan& plan);

}  // namespace husk::linux_setup
