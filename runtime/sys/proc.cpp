#include "sys/proc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <string>

#include "sys/fd.hpp"

namespace husk::sys {

namespace {

// Split off the next space-separated token.
std::string_view next_field(std::string_view& rest) {
  size_t b = rest.find_first_not_of(' ');
  if (b == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(b);
  size_t e = rest.find_first_of(" \n");
  std::string_view f = rest.substr(0, e);
  rest.remove_prefix(e == std::string_view::npos ? rest.size() : e);
  return f;
}

template <typename T>
bool to_number(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<ProcStat> parse_proc_stat(std::string_view content) {
  size_t close = content.rfind(')');
  if (close == std::string_view::npos || content.find('(') > close) {
    return Error::arg("malformed /proc stat: no \"(comm)\"");
  }
  std::string_view rest = content.substr(close + 1);
  ProcStat ps;
  // rest starts at field 3; field 22 is the 20th token.
  for (int field = 3; field <= 22; ++field) {
    std::string_view f = next_field(rest);
    if (f.empty()) return Error::arg("malformed /proc stat: only {} fields", field - 1);
    bool ok = true;
    if (field == 3) {
      ok = f.size() == 1;
      ps.state = f[0];
    } else if (field == 4) {
      ok = to_number(f, ps.ppid);
    } else if (field == 22) {
      ok = to_number(f, ps.start_time);
    }
    if (!ok) return Error::arg("malformed /proc stat: field {} is \"{}\"", field, f);
  }
  return ps;
}

Result<ProcStat> read_proc_stat(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  // A pid that is gone (the init of every stopped container `list` looks at)
  // is told by kill(pid, 0) without a path lookup: procfs caches no negative
  // dentries, so opening /proc/<gone>/stat allocates one and drops it again.
  // EPERM (someone else's process) means it exists.
  if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
    return Error(ErrorKind::NotFound, ESRCH, fmt::format("open {}", path));
  }
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ESRCH) {
      return Error(ErrorKind::NotFound, ESRCH, fmt::format("open {}", path));
    }
    return Error::last("open {}", path);
  }
  // One read(2) returns the whole (small) stat line atomically.
  char buf[4096];
  ssize_t n;
  do {
    n = ::read(fd.get(), buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    // The process exited between open and read.
    if (errno == ESRCH) return Error(ErrorKind::NotFound, ESRCH, fmt::format("read {}", path));
    return Error::last("read {}", path);
  }
  return TRY_CTX(parse_proc_stat(std::string_view(buf, static_cast<size_t>(n))), "{}", path);
}

Result<std::optional<ProcStat>> find_process(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return std::optional<ProcStat>();
  auto ps = read_proc_stat(pid);
  if (!ps) {
    if (ps.error().kind() == ErrorKind::NotFound) return std::optional<ProcStat>();
    return std::move(ps).error();
  }
  if (ps->zombie_or_dead() || (start_time != 0 && ps->start_time != start_time)) {
    return std::optional<ProcStat>();
  }
  return std::optional<ProcStat>(*ps);
}

}  // namespace husk::sys
