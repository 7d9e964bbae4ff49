// type "cgroup" / "cgroup2" mounts: the container sees its own cgroups only.
//
// Layout follows the host, as runc does. On a cgroup v2-only host (or for
// type "cgroup2") a single cgroup2 mount; on a v1/hybrid host a tmpfs with
// one directory per hierarchy the init belongs to, named like the host's
// mount point under /sys/fs/cgroup ("cpu", "memory", "systemd", "unified"),
// plus symlinks for co-mounted controllers ("cpu" -> "cpu,cpuacct").
//
// Each hierarchy's content: in a cgroup namespace, a fresh cgroup/cgroup2
// mount, whose root the kernel sets to the namespace root (cgroup_namespaces(7));
// without one, a bind of exactly the init's own cgroup directory, found from
// /proc/self/cgroup and the host's mount table. Either way no sibling or
// ancestor cgroup is reachable. This needs the init to be in its final
// cgroups (every hierarchy) before prepare_rootfs.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>

#include "linux/mount.hpp"
#include "linux/mountinfo.hpp"
#include "sys/file.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

namespace {

struct Hierarchy {
  CgroupEntry cg;        // line of /proc/self/cgroup
  MountInfoEntry mount;  // the host mount of that hierarchy
};

// Pairs each line of /proc/self/cgroup with the host's mount of it; lines for
// hierarchies the host does not mount (e.g. net_cls when unmounted) are skipped.
std::vector<Hierarchy> find_hierarchies(const std::vector<CgroupEntry>& cgs,
                                        const std::vector<MountInfoEntry>& mounts) {
  std::vector<Hierarchy> out;
  for (const auto& cg : cgs) {
    for (const auto& mi : mounts) {
      if (cgroup_mount_matches(cg, mi)) {
        out.push_back({cg, mi});
        break;
      }
    }
  }
  return out;
}

// In a cgroup namespace the kernel shows paths relative to the namespace
// root; "/.." means the init sits outside it, and a fresh mount would then
// expose a cgroup that is not the container's.
Status check_ns_path(const CgroupEntry& cg) {
  if (cg.path.rfind("/..", 0) == 0) {
    return Error::sys(EINVAL, "the init's cgroup {} is outside its cgroup namespace", cg.path);
  }
  return {};
}

// A detached mount of the hierarchy's part the container may see.
Result<sys::UniqueFd> hierarchy_mount(const Hierarchy& h, const MountRuntime& rt, uint64_t attr_set,
                                      const MountAttrs& rattrs) {
  if (rt.cgroup_ns) {
    TRY(check_ns_path(h.cg));
    if (h.cg.v2()) return fresh_mount("cgroup2", "cgroup2", {}, attr_set);
    std::vector<FsParam> params;
    for (const auto& c : split_controllers(h.cg.controllers)) {
      if (c.rfind("name=", 0) == 0) {
        params.push_back({"name", c.substr(5)});
      } else {
        params.push_back({c, std::nullopt});
      }
    }
    return fresh_mount("cgroup", "cgroup", params, attr_set);
  }
  auto host = TRY(cgroup_host_path(h.cg, h.mount));
  sys::UniqueFd tree = TRY(sys::open_tree(AT_FDCWD, host.c_str(), OPEN_TREE_CLONE));
  MountAttrs a{attr_set, 0};
  TRY(set_bind_attrs(tree.get(), a, rattrs));
  return tree;
}

Result<std::vector<Hierarchy>> read_hierarchies() {
  auto cg_text = TRY(sys::read_file(AT_FDCWD, "/proc/self/cgroup"));
  auto mi_text = TRY(sys::read_file(AT_FDCWD, "/proc/self/mountinfo"));
  return find_hierarchies(parse_proc_cgroup(cg_text), parse_mountinfo(mi_text));
}

Status mount_single_v2(const MountPlan& m, int dest, const MountRuntime& rt,
                       const std::vector<Hierarchy>& hs) {
  for (const auto& h : hs) {
    if (!h.cg.v2()) continue;
    uint64_t attrs = m.attrs.set | m.rattrs.set;
    sys::UniqueFd mnt = TRY(hierarchy_mount(h, rt, attrs, m.rattrs));
    return attach(mnt.get(), dest, m.propagation);
  }
  return Error::sys(ENOENT, "no cgroup2 hierarchy is mounted on the host");
}

// Builds the per-hierarchy tree inside the (still writable) tmpfs.
Status populate_v1_tree(int tmpfs, const MountPlan& m, const MountRuntime& rt,
                        const std::vector<Hierarchy>& hs) {
  uint64_t attrs = m.attrs.set | m.rattrs.set;
  for (const auto& h : hs) {
    std::string name = h.mount.mount_point.substr(h.mount.mount_point.rfind('/') + 1);
    if (name.empty() || name == "." || name == "..") continue;
    TRY(sys::mkdirat(tmpfs, name.c_str(), 0755));
    sys::UniqueFd dir = TRY(sys::openat(tmpfs, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW));
    sys::UniqueFd mnt = TRY_CTX(hierarchy_mount(h, rt, attrs, m.rattrs), "cgroup {}", name);
    TRY(sys::move_mount_fd(mnt.get(), dir.get()));
    if (name.find(',') == std::string::npos) continue;
    for (const auto& c : split_controllers(name)) {
      auto r = sys::symlinkat(name.c_str(), tmpfs, c.c_str());
      if (!r && r.error().err() != EEXIST) return r;
    }
  }
  return {};
}

// `populate(tmpfs)` fills the tree. With `recursive_attrs` it has left the
// binds without the mount's attributes, which are then set on the tmpfs and
// every bind in it at once.
template <typename Populate>
Status mount_v1_tree(const MountPlan& m, int dest, bool recursive_attrs, const Populate& populate) {
  // Read-only only once populated: the directories are made first.
  uint64_t attrs = m.attrs.set | m.rattrs.set;
  uint64_t tmpfs_attrs = attrs & ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
  std::vector<FsParam> params = m.params;  // linux.mountLabel's context=, as runc
  params.push_back({"mode", "755"});
  sys::UniqueFd tmpfs = TRY(fresh_mount("tmpfs", "tmpfs", params, tmpfs_attrs));
  // Populated in place: before Linux 6.15, move_mount(2) refuses (EINVAL) a
  // target inside a detached mount such as a fresh tmpfs, so the binds go
  // in once it is attached (only the init can see the container's rootfs
  // yet); the propagation steps come last.
  TRY(sys::move_mount_fd(tmpfs.get(), dest));
  TRY(populate(tmpfs.get()));
  if (recursive_attrs ? attrs != 0 : (attrs & MOUNT_ATTR_RDONLY) != 0) {
    mount_attr a{};
    a.attr_set = recursive_attrs ? attrs : MOUNT_ATTR_RDONLY;
    TRY(sys::mount_setattr(tmpfs.get(), "", AT_EMPTY_PATH | (recursive_attrs ? AT_RECURSIVE : 0),
                           a));
  }
  return set_propagation(tmpfs.get(), m.propagation);
}

// The planned path (CgroupDirsPlan, filled by the parent from the cgroup
// manager): the init is in exactly these directories, moved there by the
// parent before it was started.

Result<sys::UniqueFd> planned_bind(const CgroupDirPlan& d, uint64_t attr_set,
                                   const MountAttrs& rattrs) {
  sys::UniqueFd tree = TRY(sys::open_tree(AT_FDCWD, d.host.c_str(), OPEN_TREE_CLONE));
  TRY(set_bind_attrs(tree.get(), MountAttrs{attr_set, 0}, rattrs));
  return tree;
}

Status mount_planned_v2(const MountPlan& m, int dest, const MountRuntime& rt,
                        const CgroupDirsPlan& c) {
  uint64_t attrs = m.attrs.set | m.rattrs.set;
  sys::UniqueFd mnt;
  if (rt.cgroup_ns) {
    // A namespace the init made itself (not joined: see the caller), and
    // only after the parent had moved it into its cgroup: the namespace's
    // root is that cgroup, so the init's path in it is "/" and the fresh
    // mount shows exactly the container's cgroup.
    mnt = TRY(fresh_mount("cgroup2", "cgroup2", {}, attrs));
  } else {
    mnt = TRY(planned_bind(c.dirs.front(), attrs, m.rattrs));
  }
  return attach(mnt.get(), dest, m.propagation);
}

// The attributes of every bind are those of the tmpfs (ro, nosuid, ...) when
// the mount has no recursive ones and no access-time mode (which
// mount_setattr only takes together with clearing the old one): one
// recursive mount_setattr after populating sets them on all, instead of one
// per bind.
bool attrs_shared(const MountPlan& m) {
  return m.rattrs == MountAttrs{} && ((m.attrs.set | m.rattrs.set) & MOUNT_ATTR__ATIME) == 0;
}

Status populate_planned_v1_tree(int tmpfs, const MountPlan& m, const CgroupDirsPlan& c,
                                bool shared) {
  uint64_t attrs = m.attrs.set | m.rattrs.set;
  for (const auto& d : c.dirs) {
    TRY(sys::mkdirat(tmpfs, d.name.c_str(), 0755));
    sys::UniqueFd mnt;
    if (shared) {
      mnt = TRY_CTX(sys::open_tree(AT_FDCWD, d.host.c_str(), OPEN_TREE_CLONE), "cgroup {}", d.name);
    } else {
      mnt = TRY_CTX(planned_bind(d, attrs, m.rattrs), "cgroup {}", d.name);
    }
    // By name in the tmpfs, which only the init can reach yet, on a
    // directory just made (d.name has no '/': set_cgroup_dirs).
    TRY(sys::move_mount(mnt.get(), "", tmpfs, d.name.c_str(), MOVE_MOUNT_F_EMPTY_PATH));
    for (const auto& l : d.links) {
      auto r = sys::symlinkat(d.name.c_str(), tmpfs, l.c_str());
      if (!r && r.error().err() != EEXIST) return r;
    }
  }
  return {};
}

Result<bool> host_is_unified() {
  struct statfs st {};
  if (::statfs("/sys/fs/cgroup", &st) != 0) return Error::last("statfs /sys/fs/cgroup");
  return st.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

Status perform_cgroup_mount(const MountPlan& m, int dest, const MountRuntime& rt) {
  // The plan covers the usual cases: a v2-only host, and a v1/hybrid host
  // without a cgroup namespace (type "cgroup": the tree of binds). A joined
  // cgroup namespace may not be rooted at the container's cgroup, and a v1
  // namespace's fresh mounts need each hierarchy's controllers: those, and
  // "cgroup2" on a hybrid host, are looked up from the init's own view.
  const CgroupDirsPlan* c = rt.cgroup_dirs;
  if (c != nullptr && c->known && !rt.cgroup_ns_joined) {
    if (c->unified) return mount_planned_v2(m, dest, rt, *c);
    if (!rt.cgroup_ns && m.fstype == "cgroup") {
      bool shared = attrs_shared(m);
      return mount_v1_tree(m, dest, shared, [&](int tmpfs) {
        return populate_planned_v1_tree(tmpfs, m, *c, shared);
      });
    }
  }
  auto hs = TRY(read_hierarchies());
  bool v2 = m.fstype == "cgroup2" || TRY(host_is_unified());
  if (v2) return mount_single_v2(m, dest, rt, hs);
  return mount_v1_tree(m, dest, false,
                       [&](int tmpfs) { return populate_v1_tree(tmpfs, m, rt, hs); });
}

}  // namespace husk::linux_setup
