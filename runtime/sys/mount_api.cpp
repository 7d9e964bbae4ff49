#include "sys/mount_api.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace husk::sys {

namespace {

template <typename F>
auto retry(F f) {
  decltype(f()) r;
  do {
    r = f();
  } while (r < 0 && errno == EINTR);
  return r;
}

const char* str(const char* s) { return s != nullptr ? s : "(null)"; }

// Error for a failed fsconfig/fsmount, with the kernel's own explanation
// (fs_context log) when it left one: "bad value for 'mode'" beats EINVAL.
Error fs_error(int fsfd, Error e) {
  std::string log = fs_context_log(fsfd);
  if (!log.empty()) e.wrap("{}", log);
  return e;
}

}  // namespace

Status mount(const char* source, const char* target, const char* fstype, unsigned long flags,
             const char* data) {
  if (retry([&] { return ::mount(source, target, fstype, flags, data); }) < 0) {
    return Error::last("mount({}, {}, {}, {:#x}, {})", str(source), str(target), str(fstype), flags,
                       str(data));
  }
  return {};
}

Status umount2(const char* target, int flags) {
  if (retry([&] { return ::umount2(target, flags); }) < 0) {
    return Error::last("umount2({}, {:#x})", target, flags);
  }
  return {};
}

Status pivot_root(const char* new_root, const char* put_old) {
  if (retry([&] { return ::syscall(SYS_pivot_root, new_root, put_old); }) < 0) {
    return Error::last("pivot_root({}, {})", new_root, put_old);
  }
  return {};
}

Status chroot(const char* path) {
  if (retry([&] { return ::chroot(path); }) < 0) return Error::last("chroot({})", path);
  return {};
}

Status fchdir(int fd) {
  if (retry([&] { return ::fchdir(fd); }) < 0) return Error::last("fchdir({})", fd);
  return {};
}

Result<UniqueFd> open_tree(int dirfd, const char* path, unsigned flags) {
  int fd = retry([&] { return ::open_tree(dirfd, path, flags | OPEN_TREE_CLOEXEC); });
  if (fd < 0) return Error::last("open_tree({}, \"{}\", {:#x})", dirfd, path, flags);
  return UniqueFd(fd);
}

Status move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path,
                  unsigned flags) {
  if (retry([&] { return ::move_mount(from_dirfd, from_path, to_dirfd, to_path, flags); }) < 0) {
    return Error::last("move_mount({}, \"{}\", {}, \"{}\", {:#x})", from_dirfd, from_path, to_dirfd,
                       to_path, flags);
  }
  return {};
}

Status move_mount_fd(int from, int to) {
  return move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

Status mount_setattr(int dirfd, const char* path, unsigned flags, const mount_attr& attr) {
  mount_attr a = attr;
  if (retry([&] { return ::mount_setattr(dirfd, path, flags, &a, sizeof a); }) < 0) {
    return Error::last("mount_setattr({}, \"{}\", {:#x}, set={:#x} clr={:#x} propagation={:#x})",
                       dirfd, path, flags, attr.attr_set, attr.attr_clr, attr.propagation);
  }
  return {};
}

Result<UniqueFd> fsopen(const char* fstype) {
  int fd = retry([&] { return ::fsopen(fstype, FSOPEN_CLOEXEC); });
  if (fd < 0) return Error::last("fsopen({})", fstype);
  return UniqueFd(fd);
}

Status fsconfig_set(int fsfd, const char* key, const char* value) {
  unsigned cmd = value == nullptr ? FSCONFIG_SET_FLAG : FSCONFIG_SET_STRING;
  if (retry([&] { return ::fsconfig(fsfd, cmd, key, value, 0); }) < 0) {
    if (value == nullptr) return fs_error(fsfd, Error::last("fsconfig(SET_FLAG, {})", key));
    return fs_error(fsfd, Error::last("fsconfig(SET_STRING, {}, {})", key, value));
  }
  return {};
}

Status fsconfig_create(int fsfd) {
  if (retry([&] { return ::fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0); }) < 0) {
    return fs_error(fsfd, Error::last("fsconfig(CMD_CREATE)"));
  }
  return {};
}

Result<UniqueFd> fsmount(int fsfd, unsigned attr_flags) {
  int fd = retry([&] { return ::fsmount(fsfd, FSMOUNT_CLOEXEC, attr_flags); });
  if (fd < 0) return fs_error(fsfd, Error::last("fsmount({:#x})", attr_flags));
  return UniqueFd(fd);
}

std::string fs_context_log(int fsfd) {
  std::string out;
  char buf[512];
  // Each read returns one message; ENODATA once the queue is empty.
  for (int i = 0; i < 8; ++i) {
    ssize_t n = ::read(fsfd, buf, sizeof buf - 1);
    if (n <= 0) break;
    while (n > 0 && buf[n - 1] == '\n') --n;
    if (!out.empty()) out += "; ";
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<UniqueFd> openat2(int dirfd, const char* path, uint64_t flags, uint64_t mode,
                         uint64_t resolve) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  long fd = retry([&] { return ::syscall(SYS_openat2, dirfd, path, &how, sizeof how); });
  if (fd < 0) {
    return Error::last("openat2({}, \"{}\", flags={:#o}, resolve={:#x})", dirfd, path, flags,
                       resolve);
  }
  return UniqueFd(static_cast<int>(fd));
}

Result<UniqueFd> openat(int dirfd, const char* path, int flags, mode_t mode) {
  int fd = retry([&] { return ::openat(dirfd, path, flags | O_CLOEXEC, mode); });
  if (fd < 0) return Error::last("openat({}, \"{}\", {:#o})", dirfd, path, flags);
  return UniqueFd(fd);
}

Status mkdirat(int dirfd, const char* name, mode_t mode) {
  if (retry([&] { return ::mkdirat(dirfd, name, mode); }) < 0) {
    return Error::last("mkdirat({}, \"{}\", {:#o})", dirfd, name, mode);
  }
  return {};
}

Status mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) {
  if (retry([&] { return ::mknodat(dirfd, name, mode, dev); }) < 0) {
    return Error::last("mknodat({}, \"{}\", {:#o}, {}:{})", dirfd, name, mode, major(dev),
                       minor(dev));
  }
  return {};
}

Status symlinkat(const char* target, int dirfd, const char* name) {
  if (retry([&] { return ::symlinkat(target, dirfd, name); }) < 0) {
    return Error::last("symlinkat(\"{}\", {}, \"{}\")", target, dirfd, name);
  }
  return {};
}

Status unlinkat(int dirfd, const char* name, int flags) {
  if (retry([&] { return ::unlinkat(dirfd, name, flags); }) < 0) {
    return Error::last("unlinkat({}, \"{}\", {:#x})", dirfd, name, flags);
  }
  return {};
}

Result<std::string> readlink_fd(int fd) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(fd, "", buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("readlinkat({}, \"\")", fd);
    }
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= 65536) return Error::sys(ENAMETOOLONG, "readlinkat({}, \"\")", fd);
    buf.resize(buf.size() * 2);
  }
}

Result<struct stat> fstat(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return Error::last("fstat({})", fd);
  return st;
}

Result<struct statfs> fstatfs(int fd) {
  struct statfs st {};
  if (retry([&] { return ::fstatfs(fd, &st); }) < 0) return Error::last("fstatfs({})", fd);
  return st;
}

Status fchown_fd(int fd, uid_t uid, gid_t gid) {
  if (retry([&] { return ::fchownat(fd, "", uid, gid, AT_EMPTY_PATH); }) < 0) {
    return Error::last("fchownat({}, \"\", {}, {}, AT_EMPTY_PATH)", fd, uid, gid);
  }
  return {};
}

Status fchmod_fd(int fd, mode_t mode) {
#ifndef SYS_fchmodat2
  constexpr long SYS_fchmodat2 = 452;  // Linux 6.6; not in glibc 2.36's headers
#endif
  if (retry([&] { return ::syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH); }) == 0) {
    return {};
  }
  if (errno != ENOSYS && errno != EINVAL) {
    return Error::last("fchmodat2({}, \"\", {:#o}, AT_EMPTY_PATH)", fd, mode);
  }
  std::string p = fd_path(fd);
  if (retry([&] { return ::chmod(p.c_str(), mode); }) < 0) {
    return Error::last("chmod({}, {:#o})", p, mode);
  }
  return {};
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

}  // namespace husk::sys
