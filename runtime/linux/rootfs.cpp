#include "linux/rootfs.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "linux/lsm.hpp"
#include "linux/mountinfo.hpp"
#include "linux/paths.hpp"
#include "linux/rootless.hpp"
#include "spec/mount_options.hpp"
#include "sys/file.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

void RootfsPlanDeleter::operator()(RootfsPlan* p) const { delete p; }

namespace {

// ===================== parent: planning =====================

// procfs's root directory inode (PROC_ROOT_INO in fs/proc/internal.h).
constexpr ino_t kProcRootIno = 1;

bool has_namespace(const spec::Config& cfg, spec::NamespaceType t, bool joined_only = false) {
  if (!cfg.linux) return false;
  for (const auto& n : cfg.linux->namespaces) {
    if (n.type == t && (!joined_only || (n.path && !n.path->empty()))) return true;
  }
  return false;
}

// "net.ipv4.ip_forward" -> "sys/net/ipv4/ip_forward". A name written with
// '/' keeps its dots, which is how sysctl(8) names an interface such as
// "eth0.100": "net/ipv4/conf/eth0.100/forwarding".
Result<SysctlPlan> plan_sysctl(const std::string& name, const std::string& value) {
  std::string rel = name;
  if (rel.find('/') == std::string::npos) {
    for (char& c : rel) c = c == '.' ? '/' : c;
  }
  auto parts = split_path(rel);
  bool ok = !parts.empty() && rel.front() != '/' && rel.back() != '/' &&
            rel.find("//") == std::string::npos;
  for (const auto& p : parts) ok = ok && p != "." && p != "..";
  if (!ok) return Error::spec("linux.sysctl[\"{}\"]: invalid sysctl name", name);
  return SysctlPlan{name, "sys/" + rel, value};
}

Status plan_linux(const spec::Linux& l, RootfsPlan& p) {
  if (l.mount_label && !l.mount_label->empty()) {
    TRY(check_selinux_label(*l.mount_label, "linux.mountLabel"));
    p.mask_params.push_back({"context", *l.mount_label});
    p.mask_data = fs_data(p.mask_params);
  }
  if (l.rootfs_propagation) {
    p.root_propagation = TRY(spec::parse_rootfs_propagation(*l.rootfs_propagation));
  }
  bool private_root = p.root_propagation && (*p.root_propagation & MS_PRIVATE) != 0;
  p.setup_propagation = (private_root ? MS_PRIVATE : MS_SLAVE) | MS_REC;
  p.devices = TRY(plan_devices(l.devices));
  for (size_t i = 0; i < l.masked_paths.size(); ++i) {
    const auto& m = l.masked_paths[i];
    if (m.empty() || m[0] != '/') {
      return Error::spec("linux.maskedPaths[{}]: must be an absolute path, got \"{}\"", i, m);
    }
    p.masked_paths.push_back(clean_path(m));
  }
  for (size_t i = 0; i < l.readonly_paths.size(); ++i) {
    const auto& r = l.readonly_paths[i];
    if (r.empty() || r[0] != '/') {
      return Error::spec("linux.readonlyPaths[{}]: must be an absolute path, got \"{}\"", i, r);
    }
    p.readonly_paths.push_back(clean_path(r));
  }
  for (const auto& [name, value] : l.sysctl) p.sysctl.push_back(TRY(plan_sysctl(name, value)));
  return {};
}

// ===================== init: prepare =====================

// The rootfs bound onto itself: pivot_root(2) needs new_root to be a mount
// point, and the recursive bind carries the rootfs's own submounts. The host
// path is trusted (the caller's) and resolved by name, by mount(2) as by
// open_tree(2) before; opened again it is the root of the new bind, the
// topmost mount there, in a mount namespace only this init uses yet.
Result<sys::UniqueFd> bind_rootfs(const std::string& rootfs) {
  TRY(sys::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr));
  return sys::openat(AT_FDCWD, rootfs.c_str(), O_PATH | O_DIRECTORY);
}

// ===================== init: enter =====================

// A procfs to write sysctls through: the container's /proc when it really is
// the root of a procfs mount, else a fresh detached instance. The files are
// then opened without crossing any mount (RESOLVE_NO_XDEV), so a bind over
// /proc/sys/... cannot redirect the write (CVE-2025-52881's lesson).
Result<sys::UniqueFd> open_procfs(int root) {
  auto fd = open_in_root(root, "/proc", {O_DIRECTORY, true});
  if (fd) {
    struct statfs fs = TRY(sys::fstatfs(fd->get()));
    struct stat st = TRY(sys::fstat(fd->get()));
    if (fs.f_type == PROC_SUPER_MAGIC && st.st_ino == kProcRootIno) return std::move(*fd);
  }
  uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  return fresh_mount("proc", "proc", {}, attrs);
}

Status write_sysctls(int root, const std::vector<SysctlPlan>& sysctls) {
  if (sysctls.empty()) return {};
  auto proc = TRY_CTX(open_procfs(root), "linux.sysctl: procfs");
  for (const auto& s : sysctls) {
    auto fd = TRY_CTX(sys::openat2(proc.get(), s.path.c_str(), O_WRONLY, 0,
                                   RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
                                       RESOLVE_NO_MAGICLINKS),
                      "linux.sysctl[\"{}\"]", s.name);
    ssize_t n = ::write(fd.get(), s.value.data(), s.value.size());
    if (n != static_cast<ssize_t>(s.value.size())) {
      return Error::last("write \"{}\" to /proc/{}", s.value, s.path)
          .wrap("linux.sysctl[\"{}\"]", s.name);
    }
  }
  return {};
}

// A missing path is skipped, as runc does: masks and read-only lists are
// written for every kernel and some entries do not exist on this one.
Result<sys::UniqueFd> open_optional(int root, const std::string& path) {
  auto fd = open_in_root(root, path);
  if (!fd && fd.error().err() == ENOENT) return sys::UniqueFd();
  return fd;
}

Status readonly_path(int root, const std::string& path) {
  auto fd = TRY(open_optional(root, path));
  if (!fd) return {};
  auto tree = TRY(sys::open_tree(fd.get(), "", OPEN_TREE_CLONE | AT_RECURSIVE | AT_EMPTY_PATH));
  mount_attr a{};
  a.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  TRY(sys::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, a));
  return sys::move_mount_fd(tree.get(), fd.get());
}

// The host's /dev/null, checked to be the null device: masks are cloned from
// this fd, never from a path in the container (CVE-2025-31133: a container
// /dev/null swapped for a symlink turned a mask into a writable bind).
Result<sys::UniqueFd> open_host_null() {
  auto fd = TRY(sys::openat(AT_FDCWD, "/dev/null", O_PATH | O_NOFOLLOW));
  struct stat st = TRY(sys::fstat(fd.get()));
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    return Error::sys(ENODEV, "/dev/null on the host is not the character device 1:3");
  }
  return fd;
}

// A directory is masked with an empty read-only tmpfs: mount(2) on "." after
// fchdir to the resolved fd (the inode itself, no lookup by name), one call
// for fsopen, two fsconfig, fsmount, move_mount and two closes. MS_RDONLY
// also makes this tmpfs's own superblock read-only, as runc's mask is; no
// other mount shares it. If mount(2) fails the fd-based path reports why.
// The working directory is left there: enter_rootfs moves to the root next.
bool mask_dir_classic(int dir, const std::string& data) {
  return mount_on_dir_fd(dir, "tmpfs", "tmpfs", MS_RDONLY, data.empty() ? nullptr : data.c_str());
}

Status mask_path(int root, const std::string& path, int null_fd, const RootfsPlan& p) {
  auto fd = TRY(open_optional(root, path));
  if (!fd) return {};
  struct stat st = TRY(sys::fstat(fd.get()));
  sys::UniqueFd mnt;
  if (S_ISDIR(st.st_mode)) {
    if (mask_dir_classic(fd.get(), p.mask_data)) return {};
    mnt = TRY(fresh_mount("tmpfs", "tmpfs", p.mask_params, MOUNT_ATTR_RDONLY));
  } else {
    mnt = TRY(sys::open_tree(null_fd, "", OPEN_TREE_CLONE | AT_EMPTY_PATH));
  }
  return sys::move_mount_fd(mnt.get(), fd.get());
}

Status apply_masks(int root, const RootfsPlan& p) {
  for (const auto& r : p.readonly_paths) {
    TRY_CTX(readonly_path(root, r), "linux.readonlyPaths: {}", r);
  }
  if (p.masked_paths.empty()) return {};
  auto null = TRY_CTX(open_host_null(), "linux.maskedPaths");
  for (const auto& m : p.masked_paths) {
    TRY_CTX(mask_path(root, m, null.get(), p), "linux.maskedPaths: {}", m);
  }
  return {};
}

// pivot_root(".", ".") (pivot_root(2) NOTES): the old root ends up stacked
// on the new one, is made slave so its unmount cannot propagate to the host,
// and is detached; no directory for it is needed in the rootfs.
Status pivot(int root) {
  auto old = TRY(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY));
  TRY(sys::fchdir(root));
  TRY(sys::pivot_root(".", "."));
  TRY(sys::fchdir(old.get()));
  TRY(sys::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr));
  TRY(sys::umount2(".", MNT_DETACH));
  if (::chdir("/") != 0) return Error::last("chdir /");
  return {};
}

// With no_pivot the host's mounts stay in this mount namespace, under the
// new root. The kernel lets a user namespace mount a procfs or sysfs only if
// one is already fully visible in its mount namespace (mount_too_revealing:
// no locked mount over any part of it), so the host's /proc and /sys would
// let a process in the container unshare a user namespace and mount a bare
// procfs, without the masked paths. Every procfs and sysfs outside the
// rootfs is detached first (made slave so that no unmount reaches the host),
// or, where it cannot be unmounted, covered by an empty tmpfs.
Status hide_host_procfs_sysfs(const std::string& rootfs) {
  auto mounts = parse_mountinfo(TRY(sys::read_file(AT_FDCWD, "/proc/self/mountinfo")));
  for (const auto& m : mounts) {
    if (m.fstype != "proc" && m.fstype != "sysfs") continue;
    const std::string& at = m.mount_point;
    if (at.starts_with(rootfs) && (at.size() == rootfs.size() || at[rootfs.size()] == '/')) {
      continue;
    }
    if (::mount(nullptr, at.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
      // Below one detached already (/proc/sys/fs/binfmt_misc): gone, or
      // a plain directory of the filesystem underneath.
      if (errno == ENOENT || errno == EINVAL) continue;
      return Error::last("make {} slave", at);
    }
    if (::umount2(at.c_str(), MNT_DETACH) == 0) continue;
    if (errno != EINVAL && errno != EPERM) return Error::last("umount {}", at);
    TRY_CTX(sys::mount("tmpfs", at.c_str(), "tmpfs", MS_RDONLY, nullptr), "cover {}", at);
  }
  return {};
}

// no_pivot: for roots pivot_root(2) refuses (e.g. an initramfs). The host's
// root stays underneath, hidden only by chroot(2).
Status move_root(int root, const std::string& rootfs) {
  TRY(hide_host_procfs_sysfs(rootfs));
  TRY(sys::fchdir(root));
  TRY(sys::mount(".", "/", nullptr, MS_MOVE, nullptr));
  TRY(sys::chroot("."));
  if (::chdir("/") != 0) return Error::last("chdir /");
  return {};
}

Status chroot_to(int root) {
  TRY(sys::fchdir(root));
  TRY(sys::chroot("."));
  if (::chdir("/") != 0) return Error::last("chdir /");
  return {};
}

Status finish_root(const RootfsPlan& p) {
  if (p.root_propagation) {
    TRY_CTX(sys::mount(nullptr, "/", nullptr, *p.root_propagation, nullptr),
            "linux.rootfsPropagation");
  }
  if (p.readonly) {
    // "/" is the container's root now (pivot_root or chroot): resolved by
    // the kernel without any component the rootfs could make a symlink.
    mount_attr a{};
    a.attr_set = MOUNT_ATTR_RDONLY;
    TRY_CTX(sys::mount_setattr(AT_FDCWD, "/", 0, a), "root.readonly");
  }
  return {};
}

// Whether a mount can show the container's cgroups, whose directories the
// parent makes (and moves the init into) while begin_rootfs runs.
bool involves_cgroups(const MountPlan& m) {
  if (m.kind == MountKind::Cgroup) return true;
  constexpr std::string_view kRoot = "/sys/fs/cgroup";
  return m.kind == MountKind::Bind && m.source.starts_with(kRoot) &&
         (m.source.size() == kRoot.size() || m.source[kRoot.size()] == '/');
}

// a == b, or one lies below the other (clean absolute paths).
bool overlaps(std::string_view a, std::string_view b) {
  auto below = [](std::string_view in, std::string_view dir) {
    return dir == "/" ||
           (in.starts_with(dir) && (in.size() == dir.size() || in[dir.size()] == '/'));
  };
  return below(a, b) || below(b, a);
}

// See RootfsPlan::masks_before_cgroups.
bool masks_commute(const spec::Config& cfg, const RootfsPlan& p) {
  if (cfg.hooks) {
    const auto& h = *cfg.hooks;
    if (!h.prestart.empty() || !h.create_runtime.empty() || !h.create_container.empty()) {
      return false;
    }
  }
  if (!p.sysctl.empty()) return false;
  std::vector<std::string_view> later;
  bool late = false;
  for (const auto& m : p.mounts) {
    late = late || involves_cgroups(m);
    if (late) later.emplace_back(m.destination);
  }
  if (p.setup_dev) later.emplace_back("/dev");
  // make_cwd creates process.cwd (unless it is "/") after finish_rootfs.
  if (cfg.process && cfg.process->cwd != "/") later.emplace_back(cfg.process->cwd);
  auto clashes = [&](const std::string& path) {
    return std::any_of(later.begin(), later.end(),
                       [&](std::string_view d) { return d.empty() || overlaps(path, d); });
  };
  return std::none_of(p.masked_paths.begin(), p.masked_paths.end(), clashes) &&
         std::none_of(p.readonly_paths.begin(), p.readonly_paths.end(), clashes);
}

}  // namespace

Result<RootfsPlanPtr> plan_rootfs(const spec::Config& cfg, const RootfsOptions& opts) {
  if (opts.rootfs.empty() || opts.rootfs[0] != '/') {
    return Error::spec("root.path: \"{}\" is not an absolute path", opts.rootfs);
  }
  RootfsPlanPtr p(new RootfsPlan);
  p->rootfs = opts.rootfs;
  p->no_pivot = opts.no_pivot;
  p->shared_mount_ns = opts.shared_mount_ns;
  p->console = opts.console;
  p->readonly = cfg.root && cfg.root->readonly;
  p->userns = has_namespace(cfg, spec::NamespaceType::User);
  p->bind_devices = device_nodes_are_binds(p->userns);
  p->cgroup_ns = has_namespace(cfg, spec::NamespaceType::Cgroup);
  p->cgroup_ns_joined = has_namespace(cfg, spec::NamespaceType::Cgroup, true);
  p->setup_propagation = MS_SLAVE | MS_REC;
  if (cfg.linux) TRY(plan_linux(*cfg.linux, *p));
  if (p->shared_mount_ns && p->root_propagation &&
      (*p->root_propagation & ~static_cast<unsigned long>(MS_REC)) != MS_PRIVATE) {
    // The detached tree a shared-namespace container lives in is in no
    // peer group and receives nothing: only "private" is true of it.
    return Error::spec(
        "linux.rootfsPropagation: \"{}\" needs a mount namespace of the container's own "
        "(linux.namespaces has no new mount namespace)",
        *cfg.linux->rootfs_propagation);
  }
  if (!cfg.linux) p->devices = TRY(plan_devices({}));
  MountEnv env{opts.bundle, p->userns, nullptr, nullptr, {}};
  if (cfg.linux) {
    env.uid_mappings = &cfg.linux->uid_mappings;
    env.gid_mappings = &cfg.linux->gid_mappings;
    env.mount_label = cfg.linux->mount_label.value_or("");
  }
  for (size_t i = 0; i < cfg.mounts.size(); ++i) {
    p->mounts.push_back(TRY(plan_mount(cfg.mounts[i], i, env)));
    const MountPlan& m = p->mounts.back();
    if (m.kind == MountKind::Bind && m.destination == "/dev") p->setup_dev = false;
  }
  p->masks_before_cgroups = masks_commute(cfg, *p);
  return p;
}

void set_cgroup_dirs(RootfsPlan& plan, std::string_view mount_root, bool unified,
                     const std::vector<std::string>& leaf_dirs) {
  // The init mounts what it finds at /sys/fs/cgroup (statfs there tells v2
  // from v1); the plan only stands in for that when the manager's
  // hierarchies are the ones mounted there.
  constexpr std::string_view kRoot = "/sys/fs/cgroup";
  while (mount_root.size() > 1 && mount_root.back() == '/') mount_root.remove_suffix(1);
  plan.cgroup_dirs = {};
  CgroupDirsPlan out;
  if (mount_root != kRoot || leaf_dirs.empty() || (unified && leaf_dirs.size() != 1)) return;
  for (const auto& dir : leaf_dirs) {
    // "/sys/fs/cgroup/<name>/<cgroupsPath>" (v1, hybrid) or
    // "/sys/fs/cgroup/<cgroupsPath>" (v2 only).
    if (dir.size() <= kRoot.size() + 1 || dir.compare(0, kRoot.size(), kRoot) != 0 ||
        dir[kRoot.size()] != '/') {
      return;
    }
    CgroupDirPlan d;
    d.host = dir;
    if (!unified) {
      size_t end = dir.find('/', kRoot.size() + 1);
      if (end == std::string::npos) return;
      d.name = dir.substr(kRoot.size() + 1, end - kRoot.size() - 1);
      if (d.name == "." || d.name == "..") return;
      if (d.name.find(',') != std::string::npos) d.links = split_controllers(d.name);
    }
    out.dirs.push_back(std::move(d));
  }
  out.known = true;
  out.unified = unified;
  plan.cgroup_dirs = std::move(out);
}

Status prepare_idmapped_mounts(RootfsPlan& p) {
  for (auto& m : p.mounts) TRY(prepare_idmapped_mount(m));
  return {};
}

namespace {

MountRuntime runtime_of(const RootfsPlan& p, RootfsBuild& b) {
  return MountRuntime{b.root.get(),   p.cgroup_ns,        p.userns,     &b.dev_tmpfs,
                      &p.cgroup_dirs, p.cgroup_ns_joined, &b.saved_cwd, &b.bind_sources};
}

bool parent_opens_source(const MountPlan& m) { return m.kind == MountKind::Bind && !m.idmap; }

Result<std::vector<BindSource>> open_sources_here(const RootfsPlan& p) {
  std::vector<BindSource> out;
  for (const auto& m : p.mounts) {
    if (!parent_opens_source(m)) continue;
    // As open_tree(2) would resolve it: the last component followed.
    auto fd = TRY_CTX(sys::openat(AT_FDCWD, m.source.c_str(), O_PATH), "{}: bind source {}",
                      m.field(), m.source);
    out.push_back({m.index, std::move(fd)});
  }
  return out;
}

// Back from the init's mount namespace: setns(2) into a mount namespace
// also moves the caller's root and working directory to that namespace's
// root, so both are restored from fds taken before.
Status return_to(int own_ns, int root, int cwd) {
  if (::setns(own_ns, CLONE_NEWNS) != 0) return Error::last("setns back to husk's mount namespace");
  TRY(sys::fchdir(root));
  if (::chroot(".") != 0) return Error::last("chroot back to husk's root");
  return sys::fchdir(cwd);
}

}  // namespace

size_t bind_source_slots(const RootfsPlan& p) {
  size_t n = 0;
  for (const auto& m : p.mounts) {
    if (parent_opens_source(m)) n = std::max(n, m.index + 1);
  }
  return n;
}

Result<std::vector<BindSource>> open_bind_sources(const RootfsPlan& p, pid_t init) {
  if (!p.userns || p.shared_mount_ns || ::geteuid() != 0 || bind_source_slots(p) == 0) {
    return std::vector<BindSource>{};
  }
  auto own = TRY(sys::openat(AT_FDCWD, "/proc/self/ns/mnt", O_RDONLY));
  auto root = TRY(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY));
  auto cwd = TRY(sys::openat(AT_FDCWD, ".", O_PATH | O_DIRECTORY));
  std::string path = "/proc/" + std::to_string(init) + "/ns/mnt";
  auto theirs = TRY(sys::openat(AT_FDCWD, path.c_str(), O_RDONLY));
  if (::setns(theirs.get(), CLONE_NEWNS) != 0) {
    return Error::last("setns into the container's mount namespace (to open bind sources)");
  }
  auto opened = open_sources_here(p);
  TRY(return_to(own.get(), root.get(), cwd.get()));
  return opened;
}

Result<RootfsBuild> begin_rootfs(const RootfsPlan& p, bool with_masks,
                                 std::vector<sys::UniqueFd> bind_sources) {
  RootfsBuild b;
  b.bind_sources = std::move(bind_sources);
  if (p.shared_mount_ns) {
    // The init's mount namespace now is the shared one (inherited, or
    // joined by setns(2) already). unshare(2) gives it a private copy to
    // build in (RootfsPlan::shared_mount_ns); made slave below, so nothing
    // done in the copy propagates back.
    b.shared_ns = TRY(sys::openat(AT_FDCWD, "/proc/self/ns/mnt", O_RDONLY));
    if (::unshare(CLONE_NEWNS) != 0) {
      return Error::last("unshare(CLONE_NEWNS) for a private copy of the shared mount namespace");
    }
  }
  TRY_CTX(sys::mount(nullptr, "/", nullptr, p.setup_propagation, nullptr),
          "make / {} before building the rootfs",
          (p.setup_propagation & MS_PRIVATE) != 0 ? "rprivate" : "rslave");
  b.root = TRY_CTX(bind_rootfs(p.rootfs), "bind rootfs {} onto itself", p.rootfs);
  MountRuntime rt = runtime_of(p, b);
  for (; b.next_mount < p.mounts.size(); ++b.next_mount) {
    const MountPlan& m = p.mounts[b.next_mount];
    if (involves_cgroups(m)) break;
    TRY(perform_mount(m, rt));
  }
  if (with_masks && p.masks_before_cgroups) {
    // Masks of directories fchdir there (mask_dir_classic): finish_rootfs
    // comes back to where the init was.
    if (!b.saved_cwd) b.saved_cwd = TRY(sys::openat(AT_FDCWD, ".", O_PATH | O_DIRECTORY));
    TRY(apply_masks(b.root.get(), p));
    b.masks_done = true;
  }
  return b;
}

Status finish_rootfs(const RootfsPlan& p, RootfsBuild& b) {
  MountRuntime rt = runtime_of(p, b);
  for (; b.next_mount < p.mounts.size(); ++b.next_mount)
    TRY(perform_mount(p.mounts[b.next_mount], rt));
  // Classic mounts moved us to their destinations (mount.hpp): back to the
  // working directory the hooks and the rest of the init run in. (On an
  // error the init exits: nothing runs in the moved one.)
  if (b.saved_cwd) TRY_CTX(sys::fchdir(b.saved_cwd.get()), "back to the working directory");
  // Every bind is made: the parent's source fds are done with (and must be
  // closed before apply_process closes whatever is left by number).
  b.bind_sources.clear();
  if (p.setup_dev) {
    DevDir dev = TRY(open_dev_dir(b.root.get(), b.dev_tmpfs));
    TRY(create_devices(b.root.get(), dev, p.devices, p.bind_devices));
    TRY(create_dev_links(dev, p.console));
  }
  for (const auto& m : p.mounts) {
    if (!m.readonly_after_setup) continue;
    auto at = TRY_CTX(open_in_root(b.root.get(), m.destination), "{}", m.field());
    mount_attr a{};
    a.attr_set = MOUNT_ATTR_RDONLY;
    TRY_CTX(sys::mount_setattr(at.get(), "", AT_EMPTY_PATH, a), "{}: make {} read-only", m.field(),
            m.destination);
  }
  return {};
}

Result<sys::UniqueFd> prepare_rootfs(const RootfsPlan& p) {
  RootfsBuild b = TRY(begin_rootfs(p));
  TRY(finish_rootfs(p, b));
  return std::move(b.root);
}

Status enter_rootfs(const RootfsPlan& p, int root_fd, bool masks_done) {
  sys::UniqueFd opened;
  if (root_fd < 0) {
    // The bind made by prepare_rootfs is the topmost mount at this path,
    // unless a hook mounted something over it.
    opened = TRY_CTX(sys::openat(AT_FDCWD, p.rootfs.c_str(), O_PATH | O_DIRECTORY), "rootfs");
    root_fd = opened.get();
  }
  TRY(write_sysctls(root_fd, p.sysctl));
  if (!masks_done) TRY(apply_masks(root_fd, p));
  if (p.shared_mount_ns) {
    // Only a chroot in the private copy: leave_build_ns clones the tree from
    // "/" once the console is bound. pivot_root and no_pivot's hiding of the
    // host's procfs and sysfs would only change the copy, which goes away.
    TRY_CTX(chroot_to(root_fd), "chroot into rootfs {}", p.rootfs);
  } else if (p.no_pivot) {
    TRY_CTX(move_root(root_fd, p.rootfs), "move rootfs {} to / (no_pivot)", p.rootfs);
  } else {
    TRY_CTX(pivot(root_fd), "pivot_root into {}", p.rootfs);
  }
  return finish_root(p);
}

Status leave_build_ns(int shared_ns) {
  if (shared_ns < 0) return {};
  // A copy of "/" and every mount below it (masks, read-only flags and
  // root.readonly included: clone_mnt keeps the per-mount flags), in an
  // anonymous namespace of its own. Once this fd is closed, on return, the
  // kernel dissolves that namespace but leaves the mounts connected
  // (dissolve_on_fput, UMOUNT_CONNECTED): they stay reachable from the
  // roots and working directories inside them for as long as those last.
  auto tree = TRY(sys::open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | AT_RECURSIVE));
  // setns(2) into a mount namespace also moves root and cwd to that
  // namespace's root: the chroot follows at once.
  if (::setns(shared_ns, CLONE_NEWNS) != 0) {
    return Error::last("setns back into the shared mount namespace");
  }
  return chroot_to(tree.get());
}

Status mount_console(int pty) {
  auto root = TRY(sys::openat(AT_FDCWD, "/", O_PATH | O_DIRECTORY));
  auto target = TRY_CTX(open_in_root(root.get(), "/dev/console", {0, false}), "/dev/console");
  struct stat st = TRY(sys::fstat(target.get()));
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
    return Error::sys(EEXIST, "/dev/console is neither a file nor a device");
  }
  auto tree = TRY(sys::open_tree(pty, "", OPEN_TREE_CLONE | AT_EMPTY_PATH));
  TRY_CTX(sys::move_mount_fd(tree.get(), target.get()), "bind pty onto /dev/console");
  return {};
}

}  // namespace husk::linux_setup
