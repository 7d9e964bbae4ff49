#include "state/store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "linux/rootless.hpp"
#include "spec/state_json.hpp"
#include "sys/file.hpp"

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

// A regular file: its first short read is its end, so `list`, which reads
// one record per container, does one read(2) per record.
Result<std::string> read_all_at(int dirfd, const char *name, const std::string &dir) {
  std::string shown = dir.empty() ? std::string(name) : dir + "/" + name;
  return sys::read_file(dirfd, name, O_NOFOLLOW, shown, {.short_read_is_end = true});
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

// Byte ranges of config.json used as locks (POSIX locks may lie past EOF).
constexpr off_t kLockByte = 0;      // the container: every verb that changes it
constexpr off_t kCreatingByte = 1;  // held by create alone, until it is done

struct flock byte_range(short type, off_t start, off_t len) {
  struct flock fl {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = len;
  return fl;
}

// The config.json files whose locks this process holds, and the fd holding
// them (ContainerDir::LockFd registers itself). husk's parent is single-
// threaded. A forked child inherits the memory but not the locks: the list
// belongs to the pid that made it.
struct HeldLock {
  dev_t dev;
  ino_t ino;
  int fd;
};
std::vector<HeldLock> &held_locks() {
  static pid_t owner = 0;
  static std::vector<HeldLock> held;
  if (pid_t self = ::getpid(); owner != self) {
    owner = self;
    held.clear();
  }
  return held;
}

// A removed file (st_nlink 0): a delete that held the lock before us
// unlinked it while we waited.
Result<bool> unlinked(int fd, const std::string &shown) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return Error::last("stat {}", shown);
  return st.st_nlink == 0;
}

}  // namespace

std::string default_root() { return linux_setup::default_state_root(); }

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

ContainerDir::ContainerDir(std::string id, std::string path, sys::UniqueFd dir,
                           std::shared_ptr<const sys::UniqueFd> root)
    : id_(std::move(id)), path_(std::move(path)), dir_(std::move(dir)), root_(std::move(root)) {}

husk::Status ContainerDir::LockFd::take(sys::UniqueFd fd, off_t start, off_t len,
                                        const std::string &shown) {
  // The caller made sure this process holds no lock on the file (held_fd, or
  // a file it just created): our own lock would not conflict, and closing
  // either fd would drop it for both.
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0) return Error::last("stat {}", shown);
  struct flock fl = byte_range(F_WRLCK, start, len);
  while (::fcntl(fd.get(), F_SETLKW, &fl) < 0) {
    if (errno != EINTR) return Error::last("lock {}", shown);
  }
  reset();
  fd_ = std::move(fd);
  held_locks().push_back({st.st_dev, st.st_ino, fd_.get()});
  return {};
}

void ContainerDir::LockFd::reset() {
  if (!fd_) return;
  auto &held = held_locks();
  held.erase(std::remove_if(held.begin(), held.end(),
                            [this](const HeldLock &h) { return h.fd == fd_.get(); }),
             held.end());
  fd_.reset();
}

int ContainerDir::held_fd() const {
  if (lock_) return lock_.get();
  if (held_locks().empty()) return -1;  // the common case: no fstatat
  struct stat st {};
  if (::fstatat(dir_.get(), kConfigFile, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  for (const auto &h : held_locks()) {
    if (h.dev == st.st_dev && h.ino == st.st_ino) return h.fd;
  }
  return -1;
}

husk::Status ContainerDir::lock() {
  if (lock_) return {};
  std::string shown = path_ + "/" + kConfigFile;
  if (held_fd() >= 0) {
    return Error::make(ErrorKind::BadState, "{} is locked by this process already", shown);
  }
  sys::UniqueFd fd(::openat(dir_.get(), kConfigFile, O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return not_exist_error(id_);
    return Error::last("open {}", shown);
  }
  TRY(lock_.take(std::move(fd), kLockByte, 1, shown));
  if (TRY(unlinked(lock_.get(), shown))) {
    lock_.reset();
    return not_exist_error(id_);
  }
  return {};
}

husk::Status ContainerDir::finish_creating() {
  if (!creating_) return {};
  struct flock fl = byte_range(F_UNLCK, kCreatingByte, 1);
  if (::fcntl(lock_.get(), F_SETLK, &fl) < 0) {
    return Error::last("unlock {}/{}", path_, kConfigFile);
  }
  creating_ = false;
  return {};
}

Result<bool> ContainerDir::create_in_progress() const {
  // This process holds the container: no create of another is running.
  if (held_fd() >= 0) return false;
  // F_GETLK reports a lock of another process only. Closing the fd again is
  // harmless: this process holds no lock on the file (held_fd).
  sys::UniqueFd fd(::openat(dir_.get(), kConfigFile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return false;
    return Error::last("open {}/{}", path_, kConfigFile);
  }
  struct flock fl = byte_range(F_WRLCK, kCreatingByte, 1);
  if (::fcntl(fd.get(), F_GETLK, &fl) < 0)
    return Error::last("query lock {}/{}", path_, kConfigFile);
  return fl.l_type != F_UNLCK;
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

// Written once, by create, into the file it created and locked: nothing reads
// it earlier (start, exec and delete need a record, which comes later, and
// delete of a create that died takes a torn copy as "no poststop hooks").
// So no temp file and rename: on a disk-backed root each costs a journal
// update.
husk::Status ContainerDir::save_config(std::string_view bytes) {
  if (!lock_ || !creating_) {
    return Error::make(ErrorKind::BadState, "{}: config saved outside create", path_);
  }
  TRY_CTX(write_all(lock_.get(), bytes, kConfigFile), "{}", path_);
  return {};
}

Result<std::string> ContainerDir::read_config() const {
  // Through the lock's fd when this process holds it: closing another fd on
  // the file would release the lock (fcntl(2)).
  int held = held_fd();
  if (held < 0) return read_all_at(dir_.get(), kConfigFile, path_);
  return sys::read_all(held, fmt::format("{}/{}", path_, kConfigFile), {.from_start = true});
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
  for (const char *name : {kStateFile, kFifoFile, kConfigFile}) {
    if (::unlinkat(dir_.get(), name, 0) < 0 && errno != ENOENT) {
      return Error::last("remove {}/{}", path_, name);
    }
  }
  if (::unlinkat(root_->get(), id_.c_str(), AT_REMOVEDIR) < 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) {
      if (errno != ENOENT) return Error::last("remove {}", path_);
    } else {
      TRY(remove_contents(dir_.get(), path_));
      if (::unlinkat(root_->get(), id_.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) {
        return Error::last("remove {}", path_);
      }
    }
  }
  unlock();
  return {};
}

Result<bool> ContainerDir::remove_if_empty() {
  if (::unlinkat(root_->get(), id_.c_str(), AT_REMOVEDIR) == 0) return true;
  if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT) return false;
  return Error::last("remove {}", path_);
}

Result<bool> ContainerDir::removed() const { return unlinked(dir_.get(), path_); }

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
  return StateStore(root, std::make_shared<const sys::UniqueFd>(std::move(fd)));
}

Result<ContainerDir> StateStore::create_container(std::string_view id) const {
  TRY(validate_id(id));
  std::string name(id);
  if (::mkdirat(fd_->get(), name.c_str(), 0700) < 0) {
    if (errno == EEXIST) {
      return Error::make(ErrorKind::AlreadyExists, "container with id exists: {}", id);
    }
    return Error::last("mkdir {}/{}", root_, id);
  }
  auto dir = TRY(open_container(id));
  // config.json is made here, not with the config: it is the lock, and the
  // lock and the "creating" mark must be held before anyone can see it empty.
  // A delete that opens it in between and finds no record removes the
  // directory; the nlink check below then fails this create.
  std::string shown = dir.path() + "/" + kConfigFile;
  sys::UniqueFd fd(
      ::openat(dir.fd(), kConfigFile, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::last("open {}", shown);
  TRY(dir.lock_.take(std::move(fd), kLockByte, 2, shown));
  dir.creating_ = true;
  if (TRY(unlinked(dir.lock_.get(), shown))) {
    dir.unlock();
    return Error::make(ErrorKind::NotFound, "container {} was deleted while being created", id);
  }
  return dir;
}

Result<ContainerDir> StateStore::open_container(std::string_view id) const {
  TRY(validate_id(id));
  std::string name(id);
  sys::UniqueFd dir(
      ::openat(fd_->get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!dir) {
    if (errno == ENOENT || errno == ENOTDIR) return not_exist_error(id);
    return Error::last("open {}/{}", root_, id);
  }
  // The root's fd is shared, not duplicated: `list` opens every container.
  return ContainerDir(name, root_ + "/" + name, std::move(dir), fd_);
}

Result<std::vector<std::string>> StateStore::list() const {
  int dup = ::fcntl(fd_->get(), F_DUPFD_CLOEXEC, 0);
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
    if (n == "." || n == ".." || !is_dir_entry(fd_->get(), de) || !validate_id(n)) continue;
    ids.emplace_back(n);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace husk::state
