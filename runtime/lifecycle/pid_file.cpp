#include "lifecycle/pid_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "sys/fd.hpp"

namespace husk::lifecycle {

Status write_pid_file(const std::string& path, pid_t pid) {
  std::string tmp = path + ".husk-tmp";
  sys::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return Error::last("open {}", tmp).wrap("--pid-file");
  std::string text = std::to_string(pid);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    Error e = Error::last("write {}", tmp).wrap("--pid-file");
    ::unlink(tmp.c_str());
    return e;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = Error::last("rename {} to {}", tmp, path).wrap("--pid-file");
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

}  // namespace husk::lifecycle
