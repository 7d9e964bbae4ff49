// Building the container's filesystem view inside its new mount namespace
// (or, for a container that shares one, in a private copy of it: see
// RootfsPlan::shared_mount_ns).
// Planned in the parent (pure: strings, flags, data resolved up front), executed
// by the init after clone. Every path inside the rootfs is resolved through
// file descriptors (openat2 RESOLVE_IN_ROOT, or the mkdir walker of paths.hpp)
// and mounts target fds (move_mount), never re-resolved host strings.
//
// Propagation: during setup "/" is made recursively slave (or recursively
// private when rootfsPropagation asks for private/rprivate), so nothing the
// init mounts or unmounts reaches the host, while host mount events still
// reach the container (runc's default, MS_SLAVE|MS_REC). pivot_root(2)
// refuses shared mounts, so a requested shared/unbindable propagation is
// applied to the new "/" only after pivot_root (runc#1755, runc#4724).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "linux/devices.hpp"
#include "linux/mount.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct SysctlPlan {
  std::string name;  // as in the config
  std::string path;  // below the procfs root: "sys/net/ipv4/ip_forward"
  std::string value;
};

struct RootfsPlan {
  std::string rootfs;  // absolute host path
  bool no_pivot = false;
  // The container has no mount namespace of its own: linux.namespaces lists
  // none (inherited from husk) or joins one by path. The runtime-spec lets
  // such a container run, and runc then makes "/" of that shared namespace
  // (the host's, for an inherited one) rslave and mounts config.mounts, masks
  // and all, straight into it, where they outlive the container; a joined one
  // it also pivot_root(2)s, which moves the root of every other process of
  // that namespace that was at the old root (pivot_root(2)). husk never
  // attaches a mount there instead: the init builds the rootfs as usual in a
  // private namespace copied from the shared one (paths, the rootfs's
  // included, resolve as they would there), chroots into it, clones the
  // finished tree as a detached mount tree (open_tree(2) OPEN_TREE_CLONE |
  // AT_RECURSIVE), setns(2)es back into the shared namespace and chroots into
  // the detached tree (leave_build_ns). The copy dies with the init's leaving
  // it; the detached tree lives only while the container's processes have
  // their root in it. So there is no mount for `delete` to remove and none
  // other processes could see, and the container cannot change its tree
  // either (mount(2) and umount(2) act on the caller's namespace, which the
  // tree is not in), nor walk out of it with "..": the tree's root mount has
  // no parent. Not closed: a procfs is fully visible in the shared namespace,
  // so a process that may unshare a user namespace there can fsmount(2) one
  // without the masks (mount_too_revealing; docs/security.md).
  bool shared_mount_ns = false;
  bool readonly = false;                          // root.readonly
  bool console = false;                           // create /dev/console for the pty bind
  bool userns = false;                            // the container has a user namespace
  bool bind_devices = false;                      // device nodes are binds (rootless.hpp)
  bool cgroup_ns = false;                         // ... and a cgroup namespace
  bool cgroup_ns_joined = false;                  // ... which it joins by path
  unsigned long setup_propagation = 0;            // applied to "/" first (MS_REC always)
  std::optional<unsigned long> root_propagation;  // rootfsPropagation, after pivot_root
  std::vector<MountPlan> mounts;
  // /dev is populated (devices, links) unless a mount binds something over
  // /dev, as runc does.
  bool setup_dev = true;
  std::vector<DevicePlan> devices;
  std::vector<std::string> masked_paths;  // cleaned
  // The empty tmpfs over a masked directory: linux.mountLabel's context=
  // (as runc labels it), as fsconfig parameters and as mount(2)'s data.
  std::vector<FsParam> mask_params;
  std::string mask_data;
  std::vector<std::string> readonly_paths;  // cleaned
  std::vector<SysctlPlan> sysctl;
  CgroupDirsPlan cgroup_dirs;  // set_cgroup_dirs
  // readonlyPaths and maskedPaths may be applied by begin_rootfs, right
  // after the mounts before the first showing cgroups, instead of by
  // enter_rootfs: no hook runs in between (they may look or mount there),
  // no sysctl is written (through /proc/sys, a readonly path), and no path
  // overlaps a later mount, /dev (filled later) or process.cwd (made later),
  // so the order cannot change the result (plan_rootfs).
  bool masks_before_cgroups = false;
};

struct RootfsPlanDeleter {
  void operator()(RootfsPlan* p) const;
};
using RootfsPlanPtr = std::unique_ptr<RootfsPlan, RootfsPlanDeleter>;

struct RootfsOptions {
  std::string rootfs;  // absolute host path of root.path
  std::string bundle;  // absolute bundle directory: relative bind sources are relative to it
  bool no_pivot = false;
  // The config creates no mount namespace (RootfsPlan::shared_mount_ns).
  bool shared_mount_ns = false;
  bool console = false;  // process.terminal: /dev/console gets the pty slave later
};

// Validate and plan everything (mount options -> flags/data, device nodes,
// masked/readonly paths, propagation, sysctl). All errors name the config field.
Result<RootfsPlanPtr> plan_rootfs(const spec::Config& cfg, const RootfsOptions& opts);

// In the parent, after plan_rootfs and the cgroup plan: the container's
// cgroup directory in every hierarchy the init will be moved into
// (cgroup::Manager::leaf_dirs) under the manager's mount_root, v2-only
// (`unified`) or not. Used by cgroup mounts (mount_cgroup.cpp) instead of
// the init's own lookup when the hierarchies are the ones mounted at
// /sys/fs/cgroup; anything else leaves the lookup to the init.
void set_cgroup_dirs(RootfsPlan& plan, std::string_view mount_root, bool unified,
                     const std::vector<std::string>& leaf_dirs);

// In the parent, after plan_rootfs and before the init is cloned (e.g. right
// before clone3): makes the detached idmapped trees of idmap/ridmap mounts,
// which the init inherits (see prepare_idmapped_mount). No-op without them;
// the fds close with the plan.
Status prepare_idmapped_mounts(RootfsPlan& plan);

// In the parent, as root, once the init has a user namespace (UsernsReady):
// O_PATH fds of the sources of the bind mounts the init is to make, keyed by
// their index in config.mounts, for the init to clone its mounts from
// (protocol MountSource). Inside its user namespace the init resolves paths
// as an unprivileged user of the host (its root maps to e.g. uid 100000), so
// a source below a directory only root may search (mode 0700) is out of its
// reach; runc opens such sources before the init switches credentials, and
// so does husk. The lookup is done in the init's mount namespace (the
// parent enters it with setns(2) and returns): open_tree(2) clones only
// mounts of the caller's own namespace (check_mnt), and the copies there are
// the ones locked to the container's user namespace (a read-only source
// mount stays read-only to it, submounts cannot be uncovered), which a clone
// made from the host's namespace would not be. Empty when there is nothing
// to do: no user namespace, a shared mount namespace (the init builds in a
// copy it makes later), a non-root caller (no right to enter; it can reach
// no more than its container's root), idmapped binds (prepared already).
struct BindSource {
  size_t mount_index = 0;  // in config.mounts
  sys::UniqueFd fd;
};
Result<std::vector<BindSource>> open_bind_sources(const RootfsPlan& plan, pid_t init);

// In the init, in its new mount namespace and its final cgroups, before
// createContainer hooks: make / slave/private, bind the rootfs onto itself,
// mount config.mounts in order, create default devices and linux.devices,
// /dev/fd and std* links, /dev/ptmx, /dev/console (empty, with console).
// Returns an O_PATH fd of the root of the rootfs bind.
Result<sys::UniqueFd> prepare_rootfs(const RootfsPlan& plan);

// prepare_rootfs in two steps, for an init that starts building before it
// is in its cgroups (init.cpp, starts_early). begin_rootfs does what does
// not involve them: propagation, the rootfs bind, and config.mounts up to
// the first that shows cgroups (a cgroup mount, or a bind whose source lies
// under /sys/fs/cgroup: the container's directories may not exist yet).
// finish_rootfs does the rest, device nodes included (mknod(2) is checked
// against the devices cgroup). prepare_rootfs(p) is the two in a row.
struct RootfsBuild {
  sys::UniqueFd root;  // O_PATH, the root of the rootfs bind
  dev_t dev_tmpfs = 0;
  sys::UniqueFd saved_cwd;  // see MountRuntime
  size_t next_mount = 0;    // the first of config.mounts not mounted yet
  bool masks_done = false;  // readonly and masked paths applied: enter_rootfs skips them
  // shared_mount_ns: the shared mount namespace begin_rootfs left for its
  // private copy, for leave_build_ns to return to.
  sys::UniqueFd shared_ns;
  // open_bind_sources' fds as the init received them, by config.mounts
  // index (-1: none, the source is looked up by path). Closed by
  // finish_rootfs.
  std::vector<sys::UniqueFd> bind_sources;
};
// The size begin_rootfs expects of bind_sources: one past the highest
// config.mounts index of the plan.
size_t bind_source_slots(const RootfsPlan& plan);
// with_masks: apply readonlyPaths and maskedPaths at the end when
// plan.masks_before_cgroups, and say so in masks_done.
// bind_sources: see RootfsBuild (empty: every source by path).
Result<RootfsBuild> begin_rootfs(const RootfsPlan& plan, bool with_masks = false,
                                 std::vector<sys::UniqueFd> bind_sources = {});
// The rest of the mounts and /dev; build.root stays the rootfs.
Status finish_rootfs(const RootfsPlan& plan, RootfsBuild& build);

// After createContainer hooks: sysctl, readonlyPaths, maskedPaths, then
// pivot_root (or MS_MOVE + chroot with no_pivot), rootfsPropagation,
// root.readonly. On return the process's root and cwd are the container's /.
// `root`: the fd prepare_rootfs returned, when nothing that could mount over
// the rootfs path (hooks) ran since; -1: the path is opened again and the
// topmost mount there becomes the root, as runc's pivot_root by path does.
// With shared_mount_ns the init only chroots into the rootfs, still in its
// private copy of the namespace; leave_build_ns finishes.
Status enter_rootfs(const RootfsPlan& plan, int root = -1, bool masks_done = false);

// shared_mount_ns, after enter_rootfs and mount_console (the last mount the
// init makes): clone the tree at "/" detached, setns(2) back into
// `shared_ns` and chroot into the clone. No-op when shared_ns is -1.
Status leave_build_ns(int shared_ns);

// After enter_rootfs: bind the pty slave `pty` (an fd the init holds, e.g.
// from TIOCGPTPEER) onto /dev/console, which must be a file or device and is
// opened without following symlinks (CVE-2025-52565). The mount is cloned
// from the fd itself, so no path of the pty is looked up either.
Status mount_console(int pty);

}  // namespace husk::linux_setup
