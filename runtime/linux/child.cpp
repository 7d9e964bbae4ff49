#include "linux/child.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

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

Status setup_stdio(uid_t uid, bool reopen_null) {
  // The null device is recognised by its number, not by comparing with the
  // container's /dev/null, which is whatever the rootfs made it.
  const dev_t null_dev = makedev(1, 3);
  sys::UniqueFd null_fd;
  bool no_null = false;  // the container has no usable /dev/null
  for (int fd = 0; fd <= 2; ++fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) continue;
    if (S_ISCHR(st.st_mode) && st.st_rdev == null_dev) {
      // Shared with everyone: never chowned. Replaced by the container's own
      // /dev/null, opened read-write once and checked to be the null device.
      if (!reopen_null || no_null) continue;
      if (!null_fd) {
        null_fd = sys::UniqueFd(::open("/dev/null", O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
        struct stat nb {};
        if (!null_fd || ::fstat(null_fd.get(), &nb) != 0 || !S_ISCHR(nb.st_mode) ||
            nb.st_rdev != null_dev) {
          no_null = true;  // keep the caller's fds
          continue;
        }
      }
      if (::dup3(null_fd.get(), fd, 0) < 0) {
        return Error::last("reopen stdio fd {} on /dev/null", fd);
      }
      continue;
    }
    if (st.st_uid == uid) continue;
    if (::fchown(fd, uid, static_cast<gid_t>(-1)) != 0 && errno != EINVAL && errno != EPERM &&
        errno != EROFS) {
      return Error::last("fchown(stdio fd {}, {})", fd, uid);
    }
  }
  return {};
}

Status seal_fds(int preserve, std::array<int, 4> keep) {
  for (int fd = 3; fd < 3 + preserve; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
      return Error::last("preserved fd {} (--preserve-fds)", fd);
    }
  }
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

namespace {

// "/dev/pts/<n>" without allocating.
void pts_name(unsigned n, char (&out)[32]) {
  char digits[16];
  int len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  std::memcpy(out, "/dev/pts/", 9);
  for (int i = 0; i < len; ++i) out[9 + i] = digits[len - 1 - i];
  out[9 + len] = '\0';
}

}  // namespace

Status open_pty(Pty& pty, const std::optional<spec::ConsoleSize>& size) {
  pty.master = sys::UniqueFd(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) return Error::last("open /dev/ptmx");
  int unlock = 0;
  unsigned n = 0;
  if (::ioctl(pty.master.get(), TIOCSPTLCK, &unlock) != 0) return Error::last("ioctl(TIOCSPTLCK)");
  if (::ioctl(pty.master.get(), TIOCGPTN, &n) != 0) return Error::last("ioctl(TIOCGPTN)");
  pts_name(n, pty.name);
  pty.slave = sys::UniqueFd(::ioctl(pty.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.slave) return Error::last("ioctl(TIOCGPTPEER)");
  if (size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(pty.slave.get(), TIOCSWINSZ, &ws) != 0) {
      return Error::last("ioctl(TIOCSWINSZ)").wrap("process.consoleSize");
    }
  }
  return {};
}

Status pty_as_stdio(int slave) {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(slave, fd) < 0) return Error::last("dup2(pty, {})", fd);
  }
  if (::ioctl(0, TIOCSCTTY, 0) != 0) return Error::last("ioctl(TIOCSCTTY)");
  return {};
}

}  // namespace husk::linux_setup
