#include "sys/file.hpp"

#include <unistd.h>

#include <cerrno>

#include "sys/fd.hpp"

namespace husk::sys {

Result<std::string> read_all(int fd, std::string_view name, ReadAll how) {
  std::string out;
  size_t used = 0;
  for (;;) {
    // Grown in place: most files here are a few hundred bytes, mountinfo
    // and a seccomp profile some tens of KiB.
    if (out.size() - used < 1024) out.resize(out.size() < 4096 ? 4096 : out.size() * 2);
    size_t room = out.size() - used;
    ssize_t n = how.from_start ? ::pread(fd, out.data() + used, room, static_cast<off_t>(used))
                               : ::read(fd, out.data() + used, room);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("read {}", name);
    used += static_cast<size_t>(n);
    if (n == 0 || (how.short_read_is_end && static_cast<size_t>(n) < room)) break;
  }
  out.resize(used);
  return out;
}

Result<std::string> read_file(int dirfd, const char* path, int flags, std::string_view name,
                              ReadAll how) {
  if (name.empty()) name = path;
  int raw = 0;
  do {
    raw = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC | flags);
  } while (raw < 0 && errno == EINTR);
  if (raw < 0) return Error::last("open {}", name);
  UniqueFd fd(raw);
  return read_all(fd.get(), name, how);
}

Status write_once(int fd, std::string_view name, std::string_view data) {
  ssize_t n = 0;
  do {
    n = ::write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::last("write {}", name);
  if (static_cast<size_t>(n) != data.size()) return Error::sys(EIO, "write {}: short write", name);
  return {};
}

}  // namespace husk::sys
