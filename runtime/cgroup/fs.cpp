#include "cgroup/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sys/file.hpp"

namespace husk::cgroup::fs {

namespace {

Error open_error(int err, const std::string& what) {
  if (err == ENOENT) return Error(ErrorKind::NotFound, err, fmt::format("open {}", what));
  return Error::sys(err, "open {}", what);
}

Result<sys::UniqueFd> open_for_reading(int dirfd, const std::string& name) {
  int raw;
  do {
    raw = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return open_error(errno, name);
  return sys::UniqueFd(raw);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
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

Result<sys::UniqueFd> open_control(int dirfd, const std::string& name) {
  int raw;
  do {
    raw = ::openat(dirfd, name.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return open_error(errno, name);
  return sys::UniqueFd(raw);
}

Status write_fd(int fd, const std::string& name, std::string_view data) {
  ssize_t n;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::last("write \"{}\" to {}", data, name);
  if (static_cast<size_t>(n) != data.size()) {
    return Error::sys(EIO, "write \"{}\" to {}: short write ({} bytes)", data, name, n);
  }
  return {};
}

Status write_at(int dirfd, const std::string& name, std::string_view data) {
  auto fd = TRY(open_control(dirfd, name));
  return write_fd(fd.get(), name, data);
}

Status field_status(Status st, const std::string& name, std::string_view field) {
  if (st) return {};
  if (st.error().kind() == ErrorKind::NotFound) {
    return Error::make(ErrorKind::Unsupported, "{}: {} is not available in this cgroup", field,
                       name);
  }
  return std::move(st).error().wrap("{}", field);
}

Status write_field(int dirfd, const std::string& name, std::string_view data,
                   std::string_view field) {
  return field_status(write_at(dirfd, name, std::string(data) + "\n"), name, field);
}

Result<std::string> read_at(int dirfd, const std::string& name) {
  sys::UniqueFd fd = TRY(open_for_reading(dirfd, name));
  return trimmed(TRY(sys::read_all(fd.get(), name)));
}

Result<std::string> read_word(const std::string& path) {
  sys::UniqueFd fd = TRY(open_for_reading(AT_FDCWD, path));
  char buf[64];
  ssize_t n = 0;
  do {
    n = ::read(fd.get(), buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::last("read {}", path);
  if (static_cast<size_t>(n) == sizeof buf) return Error::sys(EFBIG, "read {}: not one word", path);
  return trimmed(std::string(buf, static_cast<size_t>(n)));
}

Result<std::vector<std::string>> entries(int dirfd, EntryKind kind) {
  // getdents64(2) on dirfd itself: no second descriptor (opendir would need
  // one, plus fstat and fcntl calls); only its position is reset first.
  if (::lseek(dirfd, 0, SEEK_SET) < 0) return Error::last("rewind directory");
  std::vector<std::string> out;
  alignas(struct dirent64) char buf[8192];
  for (;;) {
    ssize_t n = ::getdents64(dirfd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("getdents64");
    if (n == 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* de = reinterpret_cast<const struct dirent64*>(buf + at);
      at += de->d_reclen;
      std::string_view name = de->d_name;
      if (name == "." || name == "..") continue;
      // cgroupfs and kernfs fill d_type, so no stat is needed.
      if ((de->d_type == DT_DIR) == (kind == EntryKind::Dirs)) out.emplace_back(name);
    }
  }
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
