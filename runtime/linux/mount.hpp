// One entry of config.mounts, planned (options decoded, paths made absolute,
// unsupported combinations rejected) and performed inside the container's
// rootfs. Mounts are built with the fd-based mount API: a detached mount
// (fsmount(2) for a new filesystem, open_tree(2) OPEN_TREE_CLONE for a bind)
// gets its attributes while detached and is then attached with move_mount(2)
// onto an O_PATH fd of the destination, so the destination is never looked up
// again by name (CVE-2021-30465) and the mount is never briefly writable.
// The exception is a plain writable virtual filesystem (proc, a tmpfs,
// devpts, mqueue: MountPlan::classic), made with one mount(2) onto "." after
// fchdir(2) to that same O_PATH fd, which names exactly the inode resolved
// and so is no lookup by name either.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup {

enum class MountKind : unsigned char {
  Bind,    // bind / rbind of a host path
  Fresh,   // a new filesystem instance (proc, sysfs, tmpfs, devpts, mqueue, ...)
  Cgroup,  // "cgroup" / "cgroup2": the container's own cgroups only (see mount_cgroup.cpp)
};

// MOUNT_ATTR_* bits for mount_setattr(2) / fsmount(2).
struct MountAttrs {
  uint64_t set = 0;
  uint64_t clr = 0;
  friend bool operator==(const MountAttrs&, const MountAttrs&) = default;
};

// One fsconfig(2) parameter: key=value, or a bare flag.
struct FsParam {
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const FsParam&, const FsParam&) = default;
};

struct MountPlan {
  size_t index = 0;         // position in config.mounts, for messages
  std::string destination;  // cleaned absolute path inside the container
  MountKind kind = MountKind::Fresh;
  std::string fstype;           // Fresh: fsopen(2) type; Cgroup: "cgroup" or "cgroup2"
  std::string source;           // Bind: absolute host path; Fresh: fsconfig "source" (may be empty)
  bool recursive = false;       // rbind: submounts of the source come along
  MountAttrs attrs;             // on the mount itself (ro, nosuid, ...)
  MountAttrs rattrs;            // on the whole tree, AT_RECURSIVE (rro, rnosuid, ...)
  std::vector<FsParam> params;  // Fresh: data options and superblock flags; Cgroup: its v1 tmpfs's
  std::vector<unsigned long> propagation;  // MS_SHARED ... (| MS_REC), in order
  // Fresh: mount(2) makes exactly what fsopen/fsconfig/fsmount would, with
  // these flags and params as its data string (see plan_classic).
  bool classic = false;
  unsigned long classic_flags = 0;
  std::string classic_data;
  // idmap/ridmap: uid_map/gid_map text ("containerID hostID size" lines) of
  // the user namespace the mount is idmapped with: the mount's own mappings,
  // else the container's (linux.uidMappings/gidMappings).
  bool idmap = false;
  bool idmap_recursive = false;
  std::string idmap_uid_map, idmap_gid_map;
  // The idmapped detached tree, made in the parent by
  // prepare_idmapped_mounts (see there) and inherited by the init.
  sys::UniqueFd prepared;
  bool tmpcopyup = false;
  // A read-only /dev: mounted read-write, made read-only by finish_rootfs
  // once the device nodes, links and the mount points of the mounts below it
  // (devpts, shm, mqueue) are made in it.
  bool readonly_after_setup = false;

  [[nodiscard]] std::string field() const;  // "mounts[3]"
};

struct MountEnv {
  std::string bundle;   // relative bind sources are relative to it
  bool userns = false;  // the container has a user namespace (new or joined)
  const std::vector<spec::IdMapping>* uid_mappings = nullptr;  // linux.uidMappings
  const std::vector<spec::IdMapping>* gid_mappings = nullptr;
  std::string mount_label;  // linux.mountLabel (checked by plan_linux), "" for none
};

// Pure: validates and decodes config.mounts[index].
Result<MountPlan> plan_mount(const spec::Mount& m, size_t index, const MountEnv& env);

// fsconfig parameters as mount(2)'s data string ("size=1m,context=\"a,b\"").
std::string fs_data(const std::vector<FsParam>& params);

// MS_* set/clear flags of the mount-level options -> MOUNT_ATTR_* set/clear.
MountAttrs ms_to_mount_attrs(unsigned long set, unsigned long clear);

// "size=64k,mode=755,newinstance" -> fsconfig parameters (commas separate,
// except inside double quotes, which are dropped: mount(8)'s quoting of an
// SELinux context such as context="system_u:object_r:t:s0:c1,c2").
std::vector<FsParam> split_fs_data(std::string_view data);

// Where the parent placed the init in every cgroup hierarchy (filled before
// the clone by set_cgroup_dirs, rootfs.hpp, from the cgroup manager's plan),
// so that a cgroup mount need not find it again from /proc/self/cgroup and
// the whole of /proc/self/mountinfo.
struct CgroupDirPlan {
  std::string name;  // the hierarchy's mount point below /sys/fs/cgroup: "cpu,cpuacct"
  std::string host;  // the container's cgroup in it (absolute host path)
  std::vector<std::string> links;  // co-mounted controllers' names: "cpu", "cpuacct"
};
struct CgroupDirsPlan {
  bool known = false;    // false: the init looks its cgroups up itself
  bool unified = false;  // a cgroup v2 only host: one hierarchy, mounted at /sys/fs/cgroup
  std::vector<CgroupDirPlan> dirs;
};

struct MountRuntime {
  int rootfd = -1;         // the container rootfs (mount root of its bind)
  bool cgroup_ns = false;  // the init is in its own cgroup namespace
  bool userns = false;
  // Out: st_dev of the tmpfs last mounted at /dev (0: /dev is not one),
  // for create_devices (devices.hpp, DevDir::fresh).
  dev_t* dev_tmpfs = nullptr;
  const CgroupDirsPlan* cgroup_dirs = nullptr;
  bool cgroup_ns_joined = false;  // the cgroup namespace is given by path
  // The init's working directory before the first classic mount moved it
  // (fchdir to the destination); the caller goes back there when done.
  sys::UniqueFd* saved_cwd = nullptr;
  // Bind sources the parent opened (RootfsBuild::bind_sources), by
  // config.mounts index; a bind without one looks its source up by path.
  const std::vector<sys::UniqueFd>* bind_sources = nullptr;
};

// In the parent, before the init is cloned: the detached, idmapped clone of
// the source of an idmap/ridmap mount. mount_setattr(MOUNT_ATTR_IDMAP) needs
// CAP_SYS_ADMIN in the user namespace that owns the source's filesystem (the
// host's), which the init, inside the container's user namespace, lacks. The
// user namespace carrying the mapping is made by a short-lived helper child.
Status prepare_idmapped_mount(MountPlan& m);

// "0 1000 65536\n..." for /proc/<pid>/{uid,gid}_map.
std::string id_map_text(const std::vector<spec::IdMapping>& maps);

// In the init: performs one planned mount under the rootfs.
Status perform_mount(const MountPlan& m, const MountRuntime& rt);

// A new, detached filesystem instance: fsopen + fsconfig + fsmount.
Result<sys::UniqueFd> fresh_mount(const std::string& fstype, const std::string& source,
                                  const std::vector<FsParam>& params, uint64_t attr_set);

// mount(2) onto the directory `dir` (an O_PATH fd of a resolved destination):
// fchdir there and mount on ".", which is that very inode, so no lookup by
// name. The working directory is left there. False when either call fails
// (the caller then takes the fd-based path, which reports the kernel's error).
bool mount_on_dir_fd(int dir, const char* source, const char* fstype, unsigned long flags,
                     const char* data);

// Attaches the detached (or cloned) mount `tree` onto `target` and applies
// the propagation steps to it there.
Status attach(int tree, int target, const std::vector<unsigned long>& propagation);
// The propagation steps alone, on the attached mount `tree`.
Status set_propagation(int tree, const std::vector<unsigned long>& propagation);

// mount_setattr for the planned attributes of a bind: the mount itself, then
// recursively. A flag the kernel locked (MNT_LOCK_*, a mount inherited from a
// more privileged user namespace) cannot be cleared: as runc, such a clear is
// dropped rather than failing the container.
Status set_bind_attrs(int tree, const MountAttrs& attrs, const MountAttrs& rattrs);

// type "cgroup"/"cgroup2" (mount_cgroup.cpp).
Status perform_cgroup_mount(const MountPlan& m, int dest, const MountRuntime& rt);

// tmpcopyup: copies the directory `from` (the destination before the tmpfs
// covered it) into the detached tmpfs `to`, as files, directories, symlinks
// and fifos with their modes, owners and times.
Status copy_up(int from, int to);

}  // namespace husk::linux_setup
