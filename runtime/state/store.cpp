#include "state/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "spec/state_json.hpp"

namespace husk::state {

namespace {

constexpr const char *kStateTmp = "state.json.tmp";

bool id_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '-' || c == '.';
}

// d_type is DT_UNKNOWN on filesystems that do not fill it in.
bool is_dir_entry(int dirfd, const dirent *de) {
  if (de->d_type != DT_UNKNOWN) return de->d_type == DT_DIR;
  struct stat st {};
  return ::fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

husk::Status write_all(int fd, std::string_view data, const char *name) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("write {}", name);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_all_at(int dirfd, const char *name, const std::string &dir) {
  std::string shown = dir.empty() ? std::string(name) : dir + "/" + name;
  sys::UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::last("open {}", shown);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("read {}", shown);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// tmp file + renameat: a reader (or a husk killed half-way) finds either the
// old or the new content, never a prefix, because rename(2) replaces the name
// atomically and every reader goes through the same page cache.
//
// No fsync, as runc and crun do not either. fsync only matters for a crash of
// the whole machine, and a record describes live kernel objects (the init
// process, its cgroups and namespaces) that a reboot takes away whatever the
// file says: after one, every container is stopped and its record is only
// good for `delete`. The state root is /run/husk, on a tmpfs on most hosts
// (fsync does nothing there) and on a disk filesystem on some (fsync of the
// file and the directory cost 3-30 ms per write there, up to 200 ms on a
// busy disk, several times per create/start). Without it, a record written
// shortly before a power loss on such a host may come back empty: such a
// stale directory is left for the administrator, as runc's would be.
husk::Status write_atomic(int dirfd, const char *tmp, const char *name, std::string_view data,
                          const std::string &dir) {
  sys::UniqueFd fd(
      ::openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::last("open {}/{}", dir, tmp);
  TRY_CTX(write_all(fd.get(), data, tmp), "{}", dir);
  fd.reset();
  if (::renameat(dirfd, tmp, dirfd, name) < 0) {
    return Error::last("rename {}/{} to {}", dir, tmp, name);
  }
  return {};
}

// Remove every entry below dirfd (recursively), leaving dirfd itself.
husk::Status remove_contents(int dirfd, const std::string &path) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Error::last("dup {}", path);
  DIR *d = ::fdopendir(dup);
  if (d == nullptr) {
    int e = errno;
    ::close(dup);
    return Error::sys(e, "fdopendir {}", path);
  }
  ::rewinddir(d);
  std::vector<std::pair<std::string, bool>> entries;
  while (dirent *de = ::readdir(d)) {
    std::string_view n = de->d_name;
    if (n == "." || n == "..") continue;
    entries.emplace_back(std::string(n), is_dir_entry(dirfd, de));
  }
  ::closedir(d);
  for (const auto &[name, is_dir] : entries) {
    if (is_dir) {
      sys::UniqueFd sub(
          ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (!sub) return Error::last("open {}/{}", path, name);
      std::string sub_path = path;
      sub_path.append("/").append(name);
      TRY(remove_contents(sub.get(), sub_path));
    }
    if (::unlinkat(dirfd, name.c_str(), is_dir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT) {
      return Error::last("remove {}/{}", path, name);
    }
  }
  return {};
}

husk::Status mkdir_p(const std::string &path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string part = path.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) return Error::last("mkdir {}", part);
  }
  return {};
}

struct flock whole_file(short type) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;
  return fl;
}

}  // namespace

bool lock_held_by_other(std::string_view proc_locks, unsigned dev_major, unsigned dev_minor,
                        uint64_t ino, pid_t self) {
  // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; waiters have "->" after
  // the id.
  std::string want = fmt::format("{:02x}:{:02x}:{}", dev_major, dev_minor, ino);
  size_t pos = 0;
  while (pos < proc_locks.size()) {
    size_t end = proc_locks.find('\n', pos);
    if (end == std::string_view::npos) end = proc_locks.size();
    std::string_view line = proc_locks.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string_view> f;
    for (size_t i = 0; i < line.size();) {
      size_t b = line.find_first_not_of(' ', i);
      if (b == std::string_view::npos) break;
      size_t e = line.find(' ', b);
      if (e == std::string_view::npos) e = line.size();
      f.push_back(line.substr(b, e - b));
      i = e;
    }
    if (f.size() < 6 || f[1] == "->" || f[5] != want) continue;
    if (f[1] != "POSIX" || f[4] != std::to_string(self)) return true;
  }
  return false;
}

std::string default_root() {
  if (::geteuid() != 0) {
    const char *xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/husk";
  }
  return "/run/husk";
}

husk::Status validate_id(std::string_view id) {
  if (id.empty()) return Error::arg("container id cannot be empty");
  // Unlike runc, no leading '.': the root holds husk's own dot-directories
  // (.seccomp-cache), which must never be taken for a container.
  bool ok = id[0] != '.' && id.size() <= NAME_MAX && std::all_of(id.begin(), id.end(), id_char_ok);
  if (!ok) return Error::arg("invalid id format: {}", id);
  return {};
}

Error not_exist_error(std::string_view id) {
  return Error::make(ErrorKind::NotFound, "container \"{}\" does not exist", id);
}

ContainerDir::ContainerDir(std::string id, std::string path, sys::UniqueFd dir, sys::UniqueFd root)
    : id_(std::move(id)), path_(std::move(path)), dir_(std::move(dir)), root_(std::move(root)) {}

husk::Status ContainerDir::lock() {
  if (lock_) return {};
  sys::UniqueFd fd(
      ::openat(dir_.get(), kLockFile, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    if (errno == ENOENT) return not_exist_error(id_);
    return Error::last("open {}/{}", path_, kLockFile);
  }
  struct flock fl = whole_file(F_WRLCK);
  while (::fcntl(fd.get(), F_SETLKW, &fl) < 0) {
    if (errno != EINTR) return Error::last("lock {}/{}", path_, kLockFile);
  }
  // A delete that held the lock before us unlinks the directory; our fd then
  // points at a removed inode (st_nlink == 0).
  struct stat st {};
  if (::fstat(dir_.get(), &st) < 0) return Error::last("stat {}", path_);
  if (st.st_nlink == 0) return not_exist_error(id_);
  lock_ = std::move(fd);
  return {};
}

Result<bool> ContainerDir::locked_by_other() const {
  if (lock_) return false;
  // Not F_GETLK: that needs an fd on .lock, and closing any fd on a file
  // drops every POSIX lock this process holds on it (fcntl(2)). /proc/locks
  // names the holder by pid and the file by device and inode.
  struct stat st {};
  if (::fstatat(dir_.get(), kLockFile, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return false;
    return Error::last("stat {}/{}", path_, kLockFile);
  }
  auto locks = read_all_at(AT_FDCWD, "/proc/locks", "");
  if (!locks) return std::move(locks).error();
  return lock_held_by_other(*locks, major(st.st_dev), minor(st.st_dev), st.st_ino, ::getpid());
}

husk::Status ContainerDir::write_state(const ContainerState &st) {
  return write_atomic(dir_.get(), kStateTmp, kStateFile, spec::to_json(st), path_);
}

Result<ContainerState> ContainerDir::read_state() const {
  auto bytes = read_all_at(dir_.get(), kStateFile, path_);
  if (!bytes) {
    if (bytes.error().err() == ENOENT) return not_exist_error(id_);
    return std::move(bytes).error();
  }
  return TRY_CTX(spec::parse_container_state(*bytes), "{}/{}", path_, kStateFile);
}

// Written once, by create, before any record says "created": nothing reads
// it earlier (start, exec and delete need a created container, and delete of
// a create that died takes a torn copy as "no poststop hooks"). So no temp
// file and rename: on a disk-backed root each costs a journal update.
husk::Status ContainerDir::save_config(std::string_view bytes) {
  sys::UniqueFd fd(::openat(dir_.get(), kConfigFile,
                            O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::last("open {}/{}", path_, kConfigFile);
  TRY_CTX(write_all(fd.get(), bytes, kConfigFile), "{}", path_);
  return {};
}

Result<std::string> ContainerDir::read_config() const {
  return read_all_at(dir_.get(), kConfigFile, path_);
}

std::string ContainerDir::fifo_path() const { return path_ + "/" + kFifoFile; }

Result<bool> ContainerDir::fifo_exists() const {
  struct stat st {};
  if (::fstatat(dir_.get(), kFifoFile, &st, AT_SYMLINK_NOFOLLOW) == 0) return S_ISFIFO(st.st_mode);
  if (errno == ENOENT) return false;
  return Error::last("stat {}", fifo_path());
}

husk::Status ContainerDir::make_fifo() {
  // mkfifoat honours the umask; 0622 lets only the owner read (the start gate).
  if (::mkfifoat(dir_.get(), kFifoFile, 0622) < 0) return Error::last("mkfifo {}", fifo_path());
  if (::fchmodat(dir_.get(), kFifoFile, 0622, 0) < 0) return Error::last("chmod {}", fifo_path());
  return {};
}

Result<sys::UniqueFd> ContainerDir::open_fifo(int flags) const {
  sys::UniqueFd fd(::openat(dir_.get(), kFifoFile, flags | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::last("open {}", fifo_path());
  return fd;
}

husk::Status ContainerDir::unlink_fifo() {
  if (::unlinkat(dir_.get(), kFifoFile, 0) < 0 && errno != ENOENT) {
    return Error::last("unlink {}", fifo_path());
  }
  return {};
}

Result<uid_t> ContainerDir::owner_uid() const {
  struct stat st {};
  if (::fstat(dir_.get(), &st) < 0) return Error::last("stat {}", path_);
  return st.st_uid;
}

husk::Status ContainerDir::remove() {
  // The files husk always makes, by name; a listing only when something
  // else is left (the notify directory, a temp file of a create that died).
  for (const char *name : {kStateFile, kConfigFile, kFifoFile, kLockFile}) {
    if (::unlinkat(dir_.get(), name, 0) < 0 && errno != ENOENT) {
      return Error::last("remove {}/{}", path_, name);
    }
  }
  if (::unlinkat(root_.get(), id_.c_str(), AT_REMOVEDIR) < 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) {
      if (errno != ENOENT) return Error::last("remove {}", path_);
    } else {
      TRY(remove_contents(dir_.get(), path_));
      if (::unlinkat(root_.get(), id_.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
        return Error::last("remove {}", path_);
      }
    }
  }
  lock_.reset();
  return {};
}

Result<StateStore> StateStore::open(const std::string &root) {
  if (root.empty() || root[0] != '/')
    return Error::arg("--root must be an absolute path, got \"{}\"", root);
  // The root exists after the first container: open it first, and only
  // make the missing components when that fails.
  sys::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd && errno == ENOENT) {
    TRY_CTX(mkdir_p(root), "state directory {}", root);
    fd.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!fd) return Error::last("open state directory {}", root);
  // The store is useless unless we can create container directories in it.
  if (::faccessat(fd.get(), ".", W_OK | X_OK, AT_EACCESS) < 0) {
    return Error::last("state directory {} is not writable", root);
  }
  return StateStore(root, std::move(fd));
}

Result<ContainerDir> StateStore::create_container(std::string_view id) const {
  TRY(validate_id(id));
  std::string name(id);
  if (::mkdirat(fd_.get(), name.c_str(), 0700) < 0) {
    if (errno == EEXIST) {
      return Error::make(ErrorKind::AlreadyExists, "container with id exists: {}", id);
    }
    return Error::last("mkdir {}/{}", root_, id);
  }
  auto dir = TRY(open_container(id));
  TRY(dir.lock());
  return dir;
}

Result<ContainerDir> StateStore::open_container(std::string_view id) const {
  TRY(validate_id(id));
  std::string name(id);
  sys::UniqueFd dir(
      ::openat(fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!dir) {
    if (errno == ENOENT || errno == ENOTDIR) return not_exist_error(id);
    return Error::last("open {}/{}", root_, id);
  }
  int root_dup = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (root_dup < 0) return Error::last("dup {}", root_);
  return ContainerDir(name, root_ + "/" + name, std::move(dir), sys::UniqueFd(root_dup));
}

Result<std::vector<std::string>> StateStore::list() const {
  int dup = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Error::last("dup {}", root_);
  DIR *d = ::fdopendir(dup);
  if (d == nullptr) {
    int e = errno;
    ::close(dup);
    return Error::sys(e, "fdopendir {}", root_);
  }
  ::rewinddir(d);
  std::vector<std::string> ids;
  while (dirent *de = ::readdir(d)) {
    std::string_view n = de->d_name;
    if (n == "." || n == ".." || !is_dir_entry(fd_.get(), de) || !validate_id(n)) continue;
    ids.emplace_back(n);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace husk::state
