#include "linux/mount.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

#include "linux/paths.hpp"
#include "spec/mount_options.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

bool mount_on_dir_fd(int dir, const char* source, const char* fstype, unsigned long flags,
                     const char* data) {
  if (::fchdir(dir) != 0) return false;
  int r = 0;
  do {
    r = ::mount(source, ".", fstype, flags, data);
  } while (r != 0 && errno == EINTR);
  return r == 0;
}

namespace {

struct MsAttr {
  unsigned long ms;
  uint64_t attr;
};

constexpr std::array<MsAttr, 6> kMsAttrs = {{
    {MS_RDONLY, MOUNT_ATTR_RDONLY},
    {MS_NOSUID, MOUNT_ATTR_NOSUID},
    {MS_NODEV, MOUNT_ATTR_NODEV},
    {MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
    {MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
}};

// Superblock flags: they belong to the filesystem, not the mount, so a bind
// mount (which shares the source's superblock) cannot take them, and a new
// filesystem gets them through fsconfig(2) under these generic names
// (fs_context.c recognises them for every filesystem type).
struct SbFlag {
  unsigned long ms;
  std::string_view set_name;    // option that sets it
  std::string_view clear_name;  // option that clears it ("" = none)
};

constexpr std::array<SbFlag, 4> kSbFlags = {{
    {MS_SYNCHRONOUS, "sync", "async"},
    {MS_DIRSYNC, "dirsync", ""},
    {MS_MANDLOCK, "mand", "nomand"},
    {MS_LAZYTIME, "lazytime", "nolazytime"},
}};

constexpr unsigned long kAtimeFlags = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

// Filesystems whose source is only a name (not a path mount(2) would resolve
// against our working directory, which the classic path changes) and that
// parse their data string option by option as fsconfig(2) passes them.
constexpr std::array<std::string_view, 5> kClassicTypes = {"proc", "tmpfs", "devpts", "mqueue",
                                                           "ramfs"};

// runc's list of /proc files container engines (lxcfs) bind over; anything
// else mounted inside /proc could shadow files the runtime or the kernel's
// users rely on.
constexpr std::array<std::string_view, 10> kProcBindAllowed = {
    "/proc/cpuinfo", "/proc/diskstats",
    "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",
    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

Status plan_bind(const spec::Mount& m, const spec::MountOptions& mo, const MountEnv& env,
                 MountPlan& p) {
  p.kind = MountKind::Bind;
  p.recursive = mo.recursive;
  std::string src = m.source.value_or("");
  if (src.empty()) return Error::spec("{}.source: required for a bind mount", p.field());
  if (src[0] != '/') {
    if (env.bundle.empty()) {
      return Error::spec("{}.source: relative path \"{}\" but no bundle directory", p.field(), src);
    }
    src = env.bundle + "/" + src;
  }
  p.source = src;
  for (const auto& f : kSbFlags) {
    if ((mo.flags & f.ms) != 0) {
      return Error::spec(
          "{}.options: \"{}\" is a filesystem flag and cannot be applied to a bind "
          "mount",
          p.field(), f.set_name);
    }
  }
  if ((mo.flags & MS_I_VERSION) != 0) {
    return Error::spec(
        "{}.options: \"iversion\" is a filesystem flag and cannot be applied to a "
        "bind mount",
        p.field());
  }
  // Clearing options (async, nomand, ...) ask for the default and leave the
  // shared superblock alone; MS_REMOUNT is implied: every bind is configured
  // after cloning. Data options were reported by spec validation as no-ops.
  return {};
}

Status plan_fresh(const spec::MountOptions& mo, MountPlan& p) {
  if ((mo.flags & MS_REMOUNT) != 0) {
    return Error::make(ErrorKind::Unsupported,
                       "{}.options: \"remount\" of a filesystem that is not yet mounted is not "
                       "supported",
                       p.field());
  }
  if (((mo.flags | mo.clear) & MS_I_VERSION) != 0) {
    return Error::make(ErrorKind::Unsupported,
                       "{}.options: \"iversion\"/\"noiversion\" are not supported (filesystems "
                       "that support i_version maintain it themselves)",
                       p.field());
  }
  p.params = split_fs_data(mo.data);
  for (const auto& f : kSbFlags) {
    if ((mo.flags & f.ms) != 0) p.params.push_back({std::string(f.set_name), std::nullopt});
    if ((mo.clear & f.ms) != 0 && !f.clear_name.empty()) {
      p.params.push_back({std::string(f.clear_name), std::nullopt});
    }
  }
  // MS_SILENT/"loud" only select whether mount(2) printks errors; fsopen(2)
  // reports them on the fs_context fd instead, so there is nothing to pass.
  p.tmpcopyup = mo.tmpcopyup && p.fstype == "tmpfs";
  return {};
}

bool has_param(const std::vector<FsParam>& params, std::string_view key) {
  return std::any_of(params.begin(), params.end(), [&](const FsParam& p) { return p.key == key; });
}

// linux.mountLabel: every file of a new filesystem gets the container's
// SELinux context (context=, which also makes the filesystem ignore any
// security.selinux xattrs it stores), as under runc. procfs and sysfs take
// none: their labels come from the policy (genfscon). A mount that names its
// own context= keeps it. Binds share the source's superblock, which keeps
// its labels: no option applies to them. A cgroup mount's parameters are
// those of the tmpfs that holds a v1 host's hierarchies.
void add_mount_label(MountPlan& p, const std::string& label) {
  if (label.empty() || p.fstype == "proc" || p.fstype == "sysfs") return;
  if (!has_param(p.params, "context")) p.params.push_back({"context", label});
}

// A new filesystem mount(2) can make in one call exactly as the fd-based API
// does: mount(2) applies MS_NOSUID etc. to the mount as fsmount(2) does, and
// splits its data string at commas into the same parameters fsconfig(2)
// takes (generic_parse_monolithic), superblock flags ("sync", ...) included.
// Not: read-only (MS_RDONLY also makes the superblock read-only, which a
// keyed superblock such as sysfs's per network namespace would keep for
// every later mount of it), propagation steps and tmpcopyup (they need the
// new mount's fd), /dev (create_devices needs the tmpfs's st_dev from it).
void plan_classic(MountPlan& p) {
  if (p.kind != MountKind::Fresh || p.tmpcopyup || !p.propagation.empty() ||
      p.destination == "/dev" ||
      std::find(kClassicTypes.begin(), kClassicTypes.end(), p.fstype) == kClassicTypes.end()) {
    return;
  }
  uint64_t attrs = p.attrs.set | p.rattrs.set;
  unsigned long flags = 0;
  for (const auto& e : kMsAttrs) {
    if ((attrs & e.attr) == 0) continue;
    if (e.ms == MS_RDONLY) return;
    flags |= e.ms;
    attrs &= ~e.attr;
  }
  // One access-time mode; relatime (0) is mount(2)'s default too.
  switch (attrs & MOUNT_ATTR__ATIME) {
    case MOUNT_ATTR_RELATIME:
      break;
    case MOUNT_ATTR_NOATIME:
      flags |= MS_NOATIME;
      break;
    case MOUNT_ATTR_STRICTATIME:
      flags |= MS_STRICTATIME;
      break;
    default:
      return;
  }
  if ((attrs & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME)) != 0) return;
  p.classic = true;
  p.classic_flags = flags;
  p.classic_data = fs_data(p.params);
}

Status plan_idmap(const spec::Mount& m, const spec::MountOptions& mo, const MountEnv& env,
                  MountPlan& p) {
  // spec validation warns that mappings without idmap/ridmap mean idmap.
  bool wanted = mo.idmap != spec::IdmapMode::None || !m.uid_mappings.empty();
  if (!wanted) return {};
  if (p.kind != MountKind::Bind) {
    return Error::make(ErrorKind::Unsupported, "{}.options: idmap is only supported on bind mounts",
                       p.field());
  }
  const auto* uids = &m.uid_mappings;
  const auto* gids = &m.gid_mappings;
  if (uids->empty() && gids->empty() && env.userns && env.uid_mappings && env.gid_mappings) {
    uids = env.uid_mappings;
    gids = env.gid_mappings;
  }
  if (uids->empty() || gids->empty()) {
    return Error::spec(
        "{}.options: idmap/ridmap need uidMappings and gidMappings on the mount or "
        "a user namespace with mappings",
        p.field());
  }
  p.idmap = true;
  p.idmap_recursive = mo.idmap == spec::IdmapMode::Ridmap;
  p.idmap_uid_map = id_map_text(*uids);
  p.idmap_gid_map = id_map_text(*gids);
  return {};
}

Status check_proc_destination(const MountPlan& p) {
  const std::string& d = p.destination;
  if (d.rfind("/proc/", 0) != 0) return {};
  if (p.kind == MountKind::Bind) {
    for (auto ok : kProcBindAllowed) {
      if (d == ok) return {};
    }
  }
  return Error::spec("{}.destination: {} cannot be mounted because it is inside /proc", p.field(),
                     d);
}

// The destination as resolved inside the rootfs may still land in a procfs
// (a rootfs symlink such as /data -> /proc/sys): the same rule applies there.
Status check_resolved_destination(const MountPlan& p, int dest) {
  struct statfs fs = TRY(sys::fstatfs(dest));
  if (fs.f_type != PROC_SUPER_MAGIC) return {};
  TRY(check_proc_destination(p));
  if (p.destination.rfind("/proc/", 0) != 0) {
    return Error::spec("{}.destination: {} resolves inside /proc", p.field(), p.destination);
  }
  return {};
}

// CVE-2023-25809: a read-only bind of the host's /sys (what a rootless
// config uses, and our sysfs fallback in a user namespace) carries the host's
// submounts, /sys/fs/cgroup/... among them, and "ro" only applies to the top
// mount: in a user namespace those stay writable to the container (its
// user's own cgroups, for a rootless caller). Make such a bind read-only all
// the way down.
MountAttrs sys_bind_rattrs(const MountPlan& m, bool userns, bool is_sys, bool recursive) {
  MountAttrs r = m.rattrs;
  if (userns && is_sys && recursive && (m.attrs.set & MOUNT_ATTR_RDONLY) != 0) {
    r.set |= MOUNT_ATTR_RDONLY;
    r.clr &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
  }
  return r;
}

// `opened`: the parent's O_PATH fd of the source (open_bind_sources), -1 to
// look it up by path here.
Result<sys::UniqueFd> clone_source(const MountPlan& m, int opened) {
  unsigned flags = OPEN_TREE_CLONE | (m.recursive ? AT_RECURSIVE : 0);
  if (opened >= 0) {
    return TRY_CTX(sys::open_tree(opened, "", flags | AT_EMPTY_PATH),
                   "bind source {} (opened by husk)", m.source);
  }
  return TRY_CTX(sys::open_tree(AT_FDCWD, m.source.c_str(), flags), "bind source {}", m.source);
}

int opened_source(const MountPlan& m, const MountRuntime& rt) {
  if (rt.bind_sources == nullptr || m.index >= rt.bind_sources->size()) return -1;
  return (*rt.bind_sources)[m.index].get();
}

Status perform_bind(const MountPlan& m, const MountRuntime& rt) {
  sys::UniqueFd cloned;
  int tree = m.prepared.get();  // idmapped: already configured by the parent
  if (!m.idmap) {
    cloned = TRY(clone_source(m, opened_source(m, rt)));
    tree = cloned.get();
  } else if (tree < 0) {
    return Error::sys(EINVAL, "idmapped mount not prepared (prepare_idmapped_mounts)");
  }
  struct stat st = TRY(sys::fstat(tree));
  CreateAs as = S_ISDIR(st.st_mode) ? CreateAs::Dir : CreateAs::File;
  sys::UniqueFd dest = TRY(mkdir_in_root(rt.rootfd, m.destination, as));
  TRY(check_resolved_destination(m, dest.get()));
  if (!m.idmap) {
    bool is_sys = clean_path(m.source) == "/sys" || m.destination == "/sys";
    TRY(set_bind_attrs(tree, m.attrs, sys_bind_rattrs(m, rt.userns, is_sys, m.recursive)));
  }
  return attach(tree, dest.get(), m.propagation);
}

// mqueue's superblock is made with its IPC namespace (mq_init_ns), before
// any mount of it asks for context=: SELinux refuses to label it a second,
// different way (EINVAL). As runc: mount it as it is and give its root
// directory the label (security.selinux, through the mount's fd).
Result<sys::UniqueFd> mqueue_labelled(const MountPlan& m, uint64_t attrs) {
  std::vector<FsParam> params = m.params;
  auto label = std::find_if(params.begin(), params.end(),
                            [](const FsParam& p) { return p.key == "context"; });
  const std::string context = label->value.value_or("");
  params.erase(label);
  auto mnt = TRY(fresh_mount(m.fstype, m.source, params, attrs));
  const std::string path = fmt::format("/proc/self/fd/{}", mnt.get());
  if (::setxattr(path.c_str(), "security.selinux", context.data(), context.size(), 0) != 0) {
    return Error::last("setxattr {} security.selinux {:?}", m.destination, context);
  }
  return mnt;
}

// Fallbacks for a user namespace, as runc and crun do. sysfs can only be
// mounted by a user namespace that owns the network namespace
// (sysfs_get_tree): bind the host's /sys instead. devpts rejects a gid= the
// namespace does not map (EINVAL): mount it without, ptys then get the
// opener's gid.
Result<sys::UniqueFd> fresh_with_fallbacks(const MountPlan& m, const MountRuntime& rt) {
  uint64_t attrs = m.attrs.set | m.rattrs.set;
  auto mnt = fresh_mount(m.fstype, m.source, m.params, attrs);
  if (mnt) return mnt;
  int err = mnt.error().err();
  if (m.fstype == "mqueue" && err == EINVAL && has_param(m.params, "context")) {
    return mqueue_labelled(m, attrs);
  }
  if (!rt.userns) return mnt;
  if (m.fstype == "sysfs" && err == EPERM) {
    auto tree = TRY(sys::open_tree(AT_FDCWD, "/sys", OPEN_TREE_CLONE | AT_RECURSIVE));
    TRY(set_bind_attrs(tree.get(), m.attrs, sys_bind_rattrs(m, true, true, true)));
    return tree;
  }
  if (m.fstype == "devpts" && err == EINVAL) {
    std::vector<FsParam> params = m.params;
    std::erase_if(params, [](const FsParam& p) { return p.key == "gid"; });
    if (params.size() != m.params.size()) return fresh_mount(m.fstype, m.source, params, attrs);
  }
  return mnt;
}

// MountPlan::classic: fchdir to the destination's O_PATH fd and mount(2) on
// ".", which is that very directory (lock_mount then stacks the new mount on
// top of whatever is mounted there, as move_mount does): one call where the
// fd-based API takes fsopen, an fsconfig per option, fsmount, move_mount and
// two closes. False when mount(2) failed: the fd-based path then runs and
// reports the kernel's own explanation (or applies its fallbacks).
bool mount_classic(const MountPlan& m, int dest, const MountRuntime& rt) {
  if (rt.saved_cwd == nullptr) return false;
  if (!*rt.saved_cwd) {
    *rt.saved_cwd = sys::UniqueFd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!*rt.saved_cwd) return false;
  }
  return mount_on_dir_fd(dest, m.source.empty() ? nullptr : m.source.c_str(), m.fstype.c_str(),
                         m.classic_flags,
                         m.classic_data.empty() ? nullptr : m.classic_data.c_str());
}

// procfs and sysfs go on a real directory of the rootfs, never through a
// symlink there: the rootfs decides where a followed link lands, so an image
// with /proc -> /fake would get a procfs the LSM profiles and masked paths
// (written for /proc) do not cover, and the real /proc path a fake tree
// (CVE-2019-16884; CVE-2023-27561 again). The last component is opened
// O_NOFOLLOW in its parent, so it cannot be swapped for a link after a
// check. Refused with runc's wording, which engines and users grep for.
Result<sys::UniqueFd> ordinary_dir_in_root(const MountPlan& m, int rootfd) {
  auto refuse = [&m] {
    return Error::spec("{}.destination {}: filesystem \"{}\" must be mounted on ordinary directory",
                       m.field(), m.destination, m.fstype);
  };
  if (m.destination == "/") return refuse();
  auto [parent, name] = TRY(open_parent_in_root(rootfd, m.destination));
  if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
    return Error::last("mkdir {}", m.destination);
  }
  sys::UniqueFd dest(
      ::openat(parent.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dest && (errno == ENOTDIR || errno == ELOOP)) return refuse();
  if (!dest) return Error::last("open {}", m.destination);
  return dest;
}

Status perform_fresh(const MountPlan& m, const MountRuntime& rt) {
  sys::UniqueFd dest = m.fstype == "proc" || m.fstype == "sysfs"
                           ? TRY(ordinary_dir_in_root(m, rt.rootfd))
                           : TRY(mkdir_in_root(rt.rootfd, m.destination, CreateAs::Dir));
  if (m.fstype != "proc" || m.destination != "/proc") {
    TRY(check_resolved_destination(m, dest.get()));
  }
  if (m.classic && mount_classic(m, dest.get(), rt)) return {};
  sys::UniqueFd mnt = TRY(fresh_with_fallbacks(m, rt));
  if (m.tmpcopyup) TRY_CTX(copy_up(dest.get(), mnt.get()), "tmpcopyup");
  if (rt.dev_tmpfs != nullptr && m.destination == "/dev") {
    *rt.dev_tmpfs = m.fstype == "tmpfs" ? TRY(sys::fstat(mnt.get())).st_dev : 0;
  }
  return attach(mnt.get(), dest.get(), m.propagation);
}

}  // namespace

std::string MountPlan::field() const { return "mounts[" + std::to_string(index) + "]"; }

MountAttrs ms_to_mount_attrs(unsigned long set, unsigned long clear) {
  MountAttrs a;
  for (const auto& e : kMsAttrs) {
    if ((set & e.ms) != 0) a.set |= e.attr;
    if ((clear & e.ms) != 0) a.clr |= e.attr;
  }
  // The access-time mode is one field: choosing any mode replaces it whole.
  // Clearing noatime/strictatime falls back to the kernel default, relatime;
  // clearing relatime ("norelatime") asks for every access to be recorded.
  if (((set | clear) & kAtimeFlags) != 0) {
    uint64_t mode = MOUNT_ATTR_RELATIME;
    if ((set & MS_NOATIME) != 0) {
      mode = MOUNT_ATTR_NOATIME;
    } else if ((set & MS_STRICTATIME) != 0) {
      mode = MOUNT_ATTR_STRICTATIME;
    } else if ((set & MS_RELATIME) == 0 && (clear & MS_RELATIME) != 0) {
      mode = MOUNT_ATTR_STRICTATIME;
    }
    a.clr |= MOUNT_ATTR__ATIME;
    a.set |= mode;
  }
  return a;
}

std::string fs_data(const std::vector<FsParam>& params) {
  std::string data;
  for (const auto& prm : params) {
    if (!data.empty()) data += ',';
    data += prm.key;
    if (!prm.value) continue;
    // mount(2) lets the LSM take its options out first
    // (security_sb_eat_lsm_opts), honouring double quotes around commas.
    const bool quote = prm.value->find(',') != std::string::npos;
    data += quote ? "=\"" + *prm.value + '"' : '=' + *prm.value;
  }
  return data;
}

std::vector<FsParam> split_fs_data(std::string_view data) {
  std::vector<FsParam> out;
  std::string item;
  bool quoted = false;
  auto flush = [&] {
    if (item.empty()) return;
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      out.push_back({item, std::nullopt});
    } else {
      out.push_back({item.substr(0, eq), item.substr(eq + 1)});
    }
    item.clear();
  };
  for (char c : data) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      flush();
    } else {
      item += c;
    }
  }
  flush();
  return out;
}

Result<MountPlan> plan_mount(const spec::Mount& m, size_t index, const MountEnv& env) {
  MountPlan p;
  p.index = index;
  if (m.destination.empty()) return Error::spec("{}.destination: must not be empty", p.field());
  p.destination = clean_path(m.destination);
  if (p.destination == "/") {
    return Error::spec("{}.destination: cannot mount over the container's root", p.field());
  }
  const spec::MountOptions mo = spec::parse_mount_options(m.options);
  const std::string type = m.type.value_or("");
  if (mo.bind || type == "bind") {
    TRY(plan_bind(m, mo, env, p));
  } else if (type.empty()) {
    return Error::spec("{}.type: required unless the mount is a bind mount", p.field());
  } else {
    p.fstype = type;
    p.source = m.source.value_or("");
    if (type == "cgroup" || type == "cgroup2") {
      p.kind = MountKind::Cgroup;
      if (!mo.data.empty()) {
        return Error::make(ErrorKind::Unsupported,
                           "{}.options: filesystem options \"{}\" on a cgroup mount are not "
                           "supported",
                           p.field(), mo.data);
      }
      // For the tmpfs a v1 host's /sys/fs/cgroup is (mount_cgroup.cpp).
      add_mount_label(p, env.mount_label);
    } else {
      p.kind = MountKind::Fresh;
      TRY(plan_fresh(mo, p));
      add_mount_label(p, env.mount_label);
    }
  }
  TRY(plan_idmap(m, mo, env, p));
  if (p.kind != MountKind::Fresh || p.fstype != "proc" || p.destination != "/proc") {
    TRY(check_proc_destination(p));
  }
  p.attrs = ms_to_mount_attrs(mo.flags, mo.clear);
  p.rattrs = {mo.attr_set, mo.attr_clr};
  p.propagation = mo.propagation;
  if (p.kind == MountKind::Fresh && p.destination == "/dev" &&
      (p.attrs.set & MOUNT_ATTR_RDONLY) != 0) {
    p.attrs.set &= ~static_cast<uint64_t>(MOUNT_ATTR_RDONLY);
    p.readonly_after_setup = true;
  }
  plan_classic(p);
  return p;
}

Result<sys::UniqueFd> fresh_mount(const std::string& fstype, const std::string& source,
                                  const std::vector<FsParam>& params, uint64_t attr_set) {
  sys::UniqueFd fs = TRY(sys::fsopen(fstype.c_str()));
  if (!source.empty()) TRY(sys::fsconfig_set(fs.get(), "source", source.c_str()));
  for (const auto& p : params) {
    TRY(sys::fsconfig_set(fs.get(), p.key.c_str(), p.value ? p.value->c_str() : nullptr));
  }
  TRY(sys::fsconfig_create(fs.get()));
  return sys::fsmount(fs.get(), static_cast<unsigned>(attr_set));
}

Status attach(int tree, int target, const std::vector<unsigned long>& propagation) {
  TRY(sys::move_mount_fd(tree, target));
  return set_propagation(tree, propagation);
}

// After move_mount the fd refers to the attached mount, so propagation is
// changed on it and not on whatever a path would now resolve to.
Status set_propagation(int tree, const std::vector<unsigned long>& propagation) {
  for (unsigned long prop : propagation) {
    mount_attr a{};
    a.propagation = prop & ~static_cast<unsigned long>(MS_REC);
    unsigned flags = AT_EMPTY_PATH | ((prop & MS_REC) != 0 ? AT_RECURSIVE : 0);
    TRY_CTX(sys::mount_setattr(tree, "", flags, a), "propagation");
  }
  return {};
}

Status set_bind_attrs(int tree, const MountAttrs& attrs, const MountAttrs& rattrs) {
  auto apply = [tree](const MountAttrs& a, unsigned rec) -> Status {
    if (a.set == 0 && a.clr == 0) return {};
    mount_attr ma{};
    ma.attr_set = a.set;
    ma.attr_clr = a.clr;
    auto r = sys::mount_setattr(tree, "", AT_EMPTY_PATH | rec, ma);
    if (r || r.error().err() != EPERM) return r;
    // Locked flags (mount_namespaces(7), MNT_LOCK_*: inherited from a more
    // privileged mount namespace) cannot be cleared, nor a locked access-time
    // mode changed: keep them, and still set what was asked to be set.
    ma.attr_clr = 0;
    ma.attr_set = a.set & ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
    if (ma.attr_set == 0) return {};
    return sys::mount_setattr(tree, "", AT_EMPTY_PATH | rec, ma);
  };
  // runc's order: the mount's own flags, then the recursive ones, which win.
  TRY(apply(attrs, 0));
  return apply(rattrs, AT_RECURSIVE);
}

Status perform_mount(const MountPlan& m, const MountRuntime& rt) {
  Status s;
  switch (m.kind) {
    case MountKind::Bind:
      s = perform_bind(m, rt);
      break;
    case MountKind::Fresh:
      s = perform_fresh(m, rt);
      break;
    case MountKind::Cgroup: {
      auto dest = mkdir_in_root(rt.rootfd, m.destination, CreateAs::Dir);
      if (!dest) {
        s = std::move(dest).error();
        break;
      }
      s = check_resolved_destination(m, dest->get());
      if (s) s = perform_cgroup_mount(m, dest->get(), rt);
      break;
    }
  }
  if (!s)
    return std::move(s).error().wrap(
        "{} ({} on {})", m.field(), m.kind == MountKind::Bind ? m.source : m.fstype, m.destination);
  return {};
}

}  // namespace husk::linux_setup
