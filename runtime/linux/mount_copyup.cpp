// tmpcopyup (config.md "Linux mount options", MAY): the new tmpfs starts
// with a copy of the directory it covers. The source is in the hostile
// rootfs, so nothing is followed: every entry is opened O_NOFOLLOW relative to
// its directory fd and symlinks are copied as symlinks. The destination is
// the still-detached tmpfs, which no other process can reach, so its names
// can be used without races.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "linux/mount.hpp"
#include "sys/mount_api.hpp"

namespace husk::linux_setup {

namespace {

constexpr int kMaxDepth = 128;

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

Status copy_meta(int dir, const char* name, const struct stat& st) {
  if (::fchownat(dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != EINVAL) {
    return Error::last("fchownat {}", name);
  }
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dir, name, st.st_mode & 07777, 0) != 0) {
    return Error::last("fchmodat {}", name);
  }
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW) != 0)
    return Error::last("utimensat {}", name);
  return {};
}

Status copy_data(int in, int out) {
  for (;;) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n == 0) return {};
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS) return Error::last("copy_file_range");
    break;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n == 0) return {};
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::last("read");
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return Error::last("write");
      off += w;
    }
  }
}

Status copy_tree(int src, int dst, int depth);

Status copy_entry(int src, int dst, const char* name, const struct stat& st, int depth) {
  if (S_ISDIR(st.st_mode)) {
    TRY(sys::mkdirat(dst, name, 0700));
    auto in = TRY(sys::openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    auto out = TRY(sys::openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    TRY(copy_tree(in.get(), out.get(), depth + 1));
  } else if (S_ISREG(st.st_mode)) {
    // O_NONBLOCK: a file swapped for a fifo meanwhile must not hang the init.
    auto in = TRY(sys::openat(src, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK));
    auto out = TRY(sys::openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
    TRY_CTX(copy_data(in.get(), out.get()), "copy {}", name);
  } else if (S_ISLNK(st.st_mode)) {
    auto fd = TRY(sys::openat(src, name, O_PATH | O_NOFOLLOW));
    std::string target = TRY(sys::readlink_fd(fd.get()));
    TRY(sys::symlinkat(target.c_str(), dst, name));
  } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    auto r = sys::mknodat(dst, name, st.st_mode & (S_IFMT | 07777), st.st_rdev);
    // A user namespace may not create device nodes (mknod(2) EPERM): they
    // would not open there anyway.
    if (!r && r.error().err() == EPERM && !S_ISFIFO(st.st_mode)) return {};
    if (!r) return r;
  } else {
    return {};  // sockets are bound by a process, not copyable
  }
  return copy_meta(dst, name, st);
}

Status copy_tree(int src, int dst, int depth) {
  if (depth > kMaxDepth) return Error::sys(ELOOP, "directories nested deeper than {}", kMaxDepth);
  int dup = ::openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return Error::last("open directory");
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(dup));
  if (!d) {
    ::close(dup);
    return Error::last("fdopendir");
  }
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st {};
    if (::fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile
      return Error::last("fstatat {}", e->d_name);
    }
    TRY_CTX(copy_entry(src, dst, e->d_name, st, depth), "{}", e->d_name);
  }
  return {};
}

}  // namespace

Status copy_up(int from, int to) {
  auto src = TRY(sys::openat(from, ".", O_RDONLY | O_DIRECTORY));
  auto dst = TRY(sys::openat(to, ".", O_RDONLY | O_DIRECTORY));
  TRY(copy_tree(src.get(), dst.get(), 0));
  // The tmpfs root takes the covered directory's owner and mode, as if the
  // directory itself had been copied.
  struct stat st = TRY(sys::fstat(src.get()));
  // EINVAL: an owner the user namespace does not map (shown as the overflow
  // id) cannot be given away; the tmpfs root keeps the creator's.
  auto r = sys::fchown_fd(dst.get(), st.st_uid, st.st_gid);
  if (!r && r.error().err() != EINVAL) return r;
  return sys::fchmod_fd(dst.get(), st.st_mode & 07777);
}

}  // namespace husk::linux_setup
