#include "linux/child.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>

// <linux/close_range.h> may predate it; the value is kernel ABI (5.11).
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace husk::linux_setup {

void reset_signals() {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) (void)::sigaction(s, &dfl, nullptr);
  }
}

Status fix_stdio_owner(uid_t uid) {
  struct stat null {};
  bool have_null = ::stat("/dev/null", &null) == 0;
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_uid == uid) continue;
    if (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null.st_rdev) continue;
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) != 0 && errno != EINVAL && errno != EPERM &&
        errno != EROFS) {
      return Error::last("fchown(stdio fd {}, {})", fd, uid);
    }
  }
  return {};
}

Status seal_fds(int preserve, std::initializer_list<int> keep_list) {
  for (int fd = 3; fd < 3 + preserve; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
      return Error::last("preserved fd {} (--preserve-fds)", fd);
    }
  }
  std::array<int, 4> keep{-1, -1, -1, -1};
  if (keep_list.size() > keep.size()) return Error::make(ErrorKind::Protocol, "seal_fds: too many");
  std::copy(keep_list.begin(), keep_list.end(), keep.begin());
  std::sort(keep.begin(), keep.end());
  const int first = 3 + preserve;
  int from = first;
  for (int k : keep) {
    if (k < from) continue;
    if (k > from && ::syscall(SYS_close_range, from, k - 1, 0) != 0) {
      return Error::last("close_range({}, {})", from, k - 1);
    }
    from = k + 1;
  }
  if (::syscall(SYS_close_range, from, ~0U, 0) != 0) {
    return Error::last("close_range({}, ~0)", from);
  }
  if (::syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    return Error::last("close_range({}, ~0, CLOSE_RANGE_CLOEXEC)", first);
  }
  return {};
}

}  // namespace husk::linux_setup
