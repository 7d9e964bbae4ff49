#include "linux/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string_view>

#include "linux/paths.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

namespace {

struct DefaultDevice {
  std::string_view path;
  unsigned major, minor;
};

// config-linux.md "Default Devices" (all character devices).
constexpr std::array<DefaultDevice, 6> kDefaults = {{
    {"/dev/null", 1, 3},
    {"/dev/zero", 1, 5},
    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8},
    {"/dev/urandom", 1, 9},
    {"/dev/tty", 5, 0},
}};

// The dev_t encoding glibc's makedev uses holds 12-bit majors and 20-bit
// minors in the kernel's new_encode_dev (what mknod(2) accepts).
constexpr int64_t kMaxMajor = (1 << 12) - 1;
constexpr int64_t kMaxMinor = (1 << 20) - 1;

Result<DevicePlan> plan_device(const spec::Device& d, size_t i) {
  DevicePlan p;
  p.field = "linux.devices[" + std::to_string(i) + "]";
  if (d.type == "c" || d.type == "u") {
    p.type = S_IFCHR;
  } else if (d.type == "b") {
    p.type = S_IFBLK;
  } else if (d.type == "p") {
    p.type = S_IFIFO;
  } else {
    return Error::spec("{}.type: unknown device type \"{}\" (expected c, u, b or p)", p.field,
                       d.type);
  }
  if (d.path.empty() || d.path[0] != '/') {
    return Error::spec("{}.path: must be an absolute path, got \"{}\"", p.field, d.path);
  }
  p.path = clean_path(d.path);
  if (p.path == "/" || p.path == "/dev") {
    return Error::spec("{}.path: \"{}\" is not a device path", p.field, d.path);
  }
  if (p.type != S_IFIFO) {
    if (d.major < 0 || d.major > kMaxMajor) {
      return Error::spec("{}.major: {} is out of range 0..{}", p.field, d.major, kMaxMajor);
    }
    if (d.minor < 0 || d.minor > kMaxMinor) {
      return Error::spec("{}.minor: {} is out of range 0..{}", p.field, d.minor, kMaxMinor);
    }
    p.rdev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  }
  // fileMode may carry the S_IFMT bits too (Go's os.FileMode users); the type
  // comes from `type`, as in runc.
  p.mode = d.file_mode.value_or(0666) & 07777;
  p.uid = d.uid.value_or(0);
  p.gid = d.gid.value_or(0);
  return p;
}

bool is_device(const struct stat& st, const DevicePlan& d) {
  if ((st.st_mode & S_IFMT) != d.type) return false;
  return d.type == S_IFIFO || st.st_rdev == d.rdev;
}

std::string describe(const DevicePlan& d) {
  if (d.type == S_IFIFO) return "a fifo";
  return fmt::format("{} device {}:{}", d.type == S_IFCHR ? "character" : "block", major(d.rdev),
                     minor(d.rdev));
}

Result<struct stat> stat_entry(int dir, const char* name, sys::UniqueFd* keep = nullptr) {
  auto fd = TRY(sys::openat(dir, name, O_PATH | O_NOFOLLOW));
  struct stat st = TRY(sys::fstat(fd.get()));
  if (keep != nullptr) *keep = std::move(fd);
  return st;
}

// The node we just made, owner and mode set through an fd of that very inode.
Status finish_node(int dir, const char* name, const DevicePlan& d) {
  sys::UniqueFd fd;
  struct stat st = TRY(stat_entry(dir, name, &fd));
  if (!is_device(st, d)) return Error::sys(EEXIST, "{} was replaced while being created", d.path);
  TRY(sys::fchown_fd(fd.get(), d.uid, d.gid));
  return sys::fchmod_fd(fd.get(), d.mode);
}

Status check_existing(int dir, const char* name, const DevicePlan& d) {
  struct stat st = TRY(stat_entry(dir, name));
  if (is_device(st, d)) return {};
  return Error::sys(EEXIST, "{} already exists and is not {}", d.path, describe(d));
}

// user_namespaces(7): mknod(2) of a device needs CAP_MKNOD in the initial
// user namespace, so the host's node is bind-mounted onto an empty file.
Status bind_node(int dir, const char* name, const DevicePlan& d) {
  auto host =
      TRY_CTX(sys::openat(AT_FDCWD, d.path.c_str(), O_PATH | O_NOFOLLOW), "host device to bind");
  struct stat hst = TRY(sys::fstat(host.get()));
  if (!is_device(hst, d)) {
    return Error::sys(ENODEV, "the host's {} is not {}, cannot bind it", d.path, describe(d));
  }
  auto made = sys::openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0644);
  if (!made && made.error().err() != EEXIST) return std::move(made).error();
  sys::UniqueFd target;
  struct stat st = TRY(stat_entry(dir, name, &target));
  if (!S_ISREG(st.st_mode) && !is_device(st, d)) {
    return Error::sys(EEXIST, "{} already exists and is not {}", d.path, describe(d));
  }
  auto tree = TRY(sys::open_tree(host.get(), "", OPEN_TREE_CLONE | AT_EMPTY_PATH));
  return sys::move_mount_fd(tree.get(), target.get());
}

// "/dev/null" -> "null"; nullptr for a path in a subdirectory of /dev (or
// outside it), which is resolved on its own.
const char* name_in_dev(const std::string& path) {
  constexpr std::string_view kDev = "/dev/";
  if (path.size() <= kDev.size() || path.compare(0, kDev.size(), kDev) != 0) return nullptr;
  if (path.find('/', kDev.size()) != std::string::npos) return nullptr;
  return path.c_str() + kDev.size();
}

// umask(2) is cleared around the mknodat calls of the fast path, so that a
// node gets its mode from mknodat alone; the caller's umask is back before
// anything else is created (directories keep the mode they always had).
class UmaskCleared {
 public:
  UmaskCleared() = default;
  UmaskCleared(const UmaskCleared&) = delete;
  UmaskCleared& operator=(const UmaskCleared&) = delete;
  ~UmaskCleared() { restore(); }
  void clear() {
    if (!cleared_) old_ = ::umask(0);
    cleared_ = true;
  }
  void restore() {
    if (cleared_) ::umask(old_);
    cleared_ = false;
  }

 private:
  mode_t old_ = 0;
  bool cleared_ = false;
};

// On a /dev this init mounted itself (DevDir::fresh) nobody else can reach
// the directory, so nothing can swap the new entry between mknodat and the
// next call: the node is not reopened and checked. With umask 0 and no
// default ACL (a new tmpfs has none), mknodat(2) gives it exactly d.mode;
// setuid/setgid/sticky bits are set by chmod, because mknod may strip
// S_ISGID (inode_init_owner) and chown clears S_ISUID/S_ISGID of
// executables. The owner is the creator's fsuid, and its fsgid or the
// directory's group when it is setgid (inode_init_owner): chown only if that
// is not the wanted owner.
Status create_fresh_node(const DevDir& dev, const char* name, const DevicePlan& d) {
  auto r = sys::mknodat(dev.fd.get(), name, d.type | d.mode, d.rdev);
  if (!r) {
    if (r.error().err() == EEXIST) return check_existing(dev.fd.get(), name, d);
    return r;
  }
  if (d.uid != dev.creator_uid || d.gid != dev.creator_gid) {
    if (::fchownat(dev.fd.get(), name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return Error::last("fchownat({}, {}, {})", d.path, d.uid, d.gid);
    }
  }
  if ((d.mode & 07000) != 0 && ::fchmodat(dev.fd.get(), name, d.mode, 0) != 0) {
    return Error::last("fchmodat({}, {:o})", d.path, d.mode);
  }
  return {};
}

Status create_node(int dir, const char* name, const DevicePlan& d, bool bind) {
  if (!bind || d.type == S_IFIFO) {
    auto r = sys::mknodat(dir, name, d.type | d.mode, d.rdev);
    if (r) return finish_node(dir, name, d);
    if (r.error().err() == EEXIST) return check_existing(dir, name, d);
    if (r.error().err() != EPERM || d.type == S_IFIFO) return r;
  }
  return bind_node(dir, name, d);
}

Status create_device(int rootfd, const DevDir& dev, const DevicePlan& d, bool bind,
                     UmaskCleared& umask) {
  const char* name = name_in_dev(d.path);
  if (name != nullptr && dev.fresh && (!bind || d.type == S_IFIFO)) {
    umask.clear();
    return create_fresh_node(dev, name, d);
  }
  umask.restore();
  if (name != nullptr) return create_node(dev.fd.get(), name, d, bind);
  auto pn = TRY(open_parent_in_root(rootfd, d.path));
  return create_node(pn.dir.get(), pn.name.c_str(), d, bind);
}

// A default link: on a /dev this init just mounted nothing is there yet, and
// whatever is there otherwise (an image's /dev) is kept, as runc does.
Status symlink_if_missing(int dir, const char* target, const char* name) {
  auto r = sys::symlinkat(target, dir, name);
  if (!r && r.error().err() != EEXIST) return r;
  return {};
}

// An empty regular file for the pty slave to be bound onto (mount_console).
Status create_console(int devfd) {
  auto made = sys::openat(devfd, "console", O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0666);
  if (made) return {};
  if (made.error().err() != EEXIST) return std::move(made).error();
  struct stat st = TRY(stat_entry(devfd, "console"));
  if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)) return {};
  return Error::sys(EEXIST, "/dev/console exists and is neither a file nor a device");
}

}  // namespace

Result<std::vector<DevicePlan>> plan_devices(const std::vector<spec::Device>& devices) {
  std::vector<DevicePlan> configured;
  for (size_t i = 0; i < devices.size(); ++i) {
    DevicePlan p = TRY(plan_device(devices[i], i));
    for (const auto& q : configured) {
      if (q.path == p.path) return Error::spec("{}.path: {} is also {}", p.field, p.path, q.field);
    }
    configured.push_back(std::move(p));
  }
  std::vector<DevicePlan> out;
  for (const auto& def : kDefaults) {
    bool overridden = false;
    for (const auto& q : configured) overridden = overridden || q.path == def.path;
    if (overridden) continue;
    DevicePlan p;
    p.path = def.path;
    p.type = S_IFCHR;
    p.rdev = makedev(def.major, def.minor);
    p.field = fmt::format("default device {}", def.path);
    out.push_back(std::move(p));
  }
  for (auto& p : configured) out.push_back(std::move(p));
  return out;
}

Result<DevDir> open_dev_dir(int rootfd, dev_t fresh_tmpfs) {
  DevDir dev;
  struct stat st {};
  dev.fd = TRY_CTX(mkdir_in_root(rootfd, "/dev", CreateAs::Dir, &st), "/dev");
  // A tmpfs superblock is new with every mount (get_tree_nodev), and its
  // anonymous st_dev belongs to no other filesystem while it is mounted: a
  // /dev on that device is the tmpfs this init mounted in its own mount
  // namespace before any hook or container process runs (reaching it from
  // outside takes ptrace access to this non-dumpable init, or setns).
  dev.fresh = fresh_tmpfs != 0 && st.st_dev == fresh_tmpfs;
  if (dev.fresh) {
    // Who owns what mknodat makes here (inode_init_owner): fsuid (= euid,
    // husk never calls setfsuid) and fsgid, or the group of a setgid dir.
    dev.creator_uid = ::geteuid();
    dev.creator_gid = (st.st_mode & S_ISGID) != 0 ? st.st_gid : ::getegid();
  }
  return dev;
}

Status create_devices(int rootfd, const DevDir& dev, const std::vector<DevicePlan>& devices,
                      bool bind) {
  UmaskCleared umask;
  for (const auto& d : devices) TRY_CTX(create_device(rootfd, dev, d, bind, umask), "{}", d.field);
  return {};
}

Status create_dev_links(const DevDir& dev, bool console) {
  int fd = dev.fd.get();
  // devpts(4) with newinstance: the container's own ptmx is pts/ptmx. An
  // existing /dev/ptmx (the image's node) is replaced; on a new /dev there is
  // none, so the symlink is tried first and unlinkat only runs on EEXIST.
  auto r = sys::symlinkat("pts/ptmx", fd, "ptmx");
  if (!r && r.error().err() == EEXIST) {
    TRY_CTX(sys::unlinkat(fd, "ptmx", 0), "/dev/ptmx");
    r = sys::symlinkat("pts/ptmx", fd, "ptmx");
  }
  if (!r) return std::move(r).error().wrap("/dev/ptmx");
  TRY(symlink_if_missing(fd, "/proc/self/fd", "fd"));
  TRY(symlink_if_missing(fd, "/proc/self/fd/0", "stdin"));
  TRY(symlink_if_missing(fd, "/proc/self/fd/1", "stdout"));
  TRY(symlink_if_missing(fd, "/proc/self/fd/2", "stderr"));
  if (console) TRY_CTX(create_console(fd), "process.terminal");
  return {};
}

}  // namespace husk::linux_setup
