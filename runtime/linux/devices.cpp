#include "linux/devices.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

Result<struct stat> stat_entry(int dir, const std::string& name, sys::UniqueFd* keep = nullptr) {
  auto fd = TRY(sys::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW));
  struct stat st = TRY(sys::fstat(fd.get()));
  if (keep != nullptr) *keep = std::move(fd);
  return st;
}

// The node we just made, owner and mode set through an fd of that very inode.
Status finish_node(const ParentAndName& pn, const DevicePlan& d) {
  sys::UniqueFd fd;
  struct stat st = TRY(stat_entry(pn.dir.get(), pn.name, &fd));
  if (!is_device(st, d)) return Error::sys(EEXIST, "{} was replaced while being created", d.path);
  TRY(sys::fchown_fd(fd.get(), d.uid, d.gid));
  return sys::fchmod_fd(fd.get(), d.mode);
}

Status check_existing(const ParentAndName& pn, const DevicePlan& d) {
  struct stat st = TRY(stat_entry(pn.dir.get(), pn.name));
  if (is_device(st, d)) return {};
  return Error::sys(EEXIST, "{} already exists and is not {}", d.path, describe(d));
}

// user_namespaces(7): mknod(2) of a device needs CAP_MKNOD in the initial
// user namespace, so the host's node is bind-mounted onto an empty file.
Status bind_node(const ParentAndName& pn, const DevicePlan& d) {
  auto host =
      TRY_CTX(sys::openat(AT_FDCWD, d.path.c_str(), O_PATH | O_NOFOLLOW), "host device to bind");
  struct stat hst = TRY(sys::fstat(host.get()));
  if (!is_device(hst, d)) {
    return Error::sys(ENODEV, "the host's {} is not {}, cannot bind it", d.path, describe(d));
  }
  auto made =
      sys::openat(pn.dir.get(), pn.name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, 0644);
  if (!made && made.error().err() != EEXIST) return std::move(made).error();
  sys::UniqueFd target;
  struct stat st = TRY(stat_entry(pn.dir.get(), pn.name, &target));
  if (!S_ISREG(st.st_mode) && !is_device(st, d)) {
    return Error::sys(EEXIST, "{} already exists and is not {}", d.path, describe(d));
  }
  auto tree = TRY(sys::open_tree(host.get(), "", OPEN_TREE_CLONE | AT_EMPTY_PATH));
  return sys::move_mount_fd(tree.get(), target.get());
}

Status create_device(int rootfd, const DevicePlan& d, bool bind) {
  auto pn = TRY(open_parent_in_root(rootfd, d.path));
  if (!bind || d.type == S_IFIFO) {
    auto r = sys::mknodat(pn.dir.get(), pn.name.c_str(), d.type | d.mode, d.rdev);
    if (r) return finish_node(pn, d);
    if (r.error().err() == EEXIST) return check_existing(pn, d);
    if (r.error().err() != EPERM || d.type == S_IFIFO) return r;
  }
  return bind_node(pn, d);
}

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

Status create_devices(int rootfd, const std::vector<DevicePlan>& devices, bool bind) {
  for (const auto& d : devices) TRY_CTX(create_device(rootfd, d, bind), "{}", d.field);
  return {};
}

Status create_dev_links(int rootfd, bool console) {
  auto dev = TRY(mkdir_in_root(rootfd, "/dev", CreateAs::Dir));
  // devpts(4) with newinstance: the container's own ptmx is pts/ptmx.
  auto r = sys::unlinkat(dev.get(), "ptmx", 0);
  if (!r && r.error().err() != ENOENT) return std::move(r).error().wrap("/dev/ptmx");
  TRY_CTX(sys::symlinkat("pts/ptmx", dev.get(), "ptmx"), "/dev/ptmx");
  TRY(symlink_if_missing(dev.get(), "/proc/self/fd", "fd"));
  TRY(symlink_if_missing(dev.get(), "/proc/self/fd/0", "stdin"));
  TRY(symlink_if_missing(dev.get(), "/proc/self/fd/1", "stdout"));
  TRY(symlink_if_missing(dev.get(), "/proc/self/fd/2", "stderr"));
  if (console) TRY_CTX(create_console(dev.get()), "process.terminal");
  return {};
}

}  // namespace husk::linux_setup
