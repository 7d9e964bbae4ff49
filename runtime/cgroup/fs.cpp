#include "cgroup/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace husk::cgroup::fs {

namespace {

Error open_error(int err, const std::string& what) {
  if (err == ENOENT) return Error(ErrorKind::NotFound, err, fmt::format("open {}", what));
  return Error::sys(err, "open {}", what);
}

}  // namespace

Result<sys::UniqueFd> open_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return open_error(errno, path);
  return sys::UniqueFd(fd);
}

Result<sys::UniqueFd> open_dir_at(int dirfd, const std::string& name) {
  int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return open_error(errno, name);
  return sys::UniqueFd(fd);
}

bool exists_at(int dirfd, const std::string& name) {
  struct stat st {};
  return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Status write_at(int dirfd, const std::string& name, std::string_view data) {
  int raw;
  do {
    raw = ::openat(dirfd, name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return open_error(errno, name);
  sys::UniqueFd fd(raw);
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::last("write \"{}\" to {}", data, name);
  if (static_cast<size_t>(n) != data.size()) {
    return Error::sys(EIO, "write \"{}\" to {}: short write ({} bytes)", data, name, n);
  }
  return {};
}

Status write_field(int dirfd, const std::string& name, std::string_view data,
                   std::string_view field) {
  auto r = write_at(dirfd, name, std::string(data) + "\n");
  if (r) return {};
  if (r.error().kind() == ErrorKind::NotFound) {
    return Error::make(ErrorKind::Unsupported, "{}: {} is not available in this cgroup", field,
                       name);
  }
  return std::move(r).error().wrap("{}", field);
}

Result<std::string> read_at(int dirfd, const std::string& name) {
  int raw;
  do {
    raw = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return open_error(errno, name);
  sys::UniqueFd fd(raw);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("read {}", name);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

Result<std::vector<std::string>> entries(int dirfd, EntryKind kind) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return Error::last("open directory");
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int e = errno;
    ::close(dup);
    return Error::sys(e, "fdopendir");
  }
  std::vector<std::string> out;
  errno = 0;
  // cgroupfs and kernfs fill d_type, so no stat is needed.
  while (struct dirent* de = ::readdir(d)) {
    std::string_view n = de->d_name;
    if (n == "." || n == "..") continue;
    if ((de->d_type == DT_DIR) == (kind == EntryKind::Dirs)) out.emplace_back(n);
  }
  int e = errno;
  ::closedir(d);
  if (e != 0) return Error::sys(e, "readdir");
  return out;
}

Result<std::vector<std::string>> subdirs(int dirfd) { return entries(dirfd, EntryKind::Dirs); }

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t b = s.find_first_not_of(" \t\n", i);
    if (b == std::string_view::npos) break;
    size_t e = s.find_first_of(" \t\n", b);
    if (e == std::string_view::npos) e = s.size();
    out.emplace_back(s.substr(b, e - b));
    i = e;
  }
  return out;
}

}  // namespace husk::cgroup::fs
