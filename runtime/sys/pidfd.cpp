#include "sys/pidfd.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>

#include "sys/proc.hpp"

namespace husk::sys {

namespace {

Error gone(pid_t pid, const char* op) {
  return Error(ErrorKind::NotFound, ESRCH, fmt::format("{} {}", op, pid));
}

int64_t now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace

Result<UniqueFd> pidfd_open(pid_t pid) {
  // pidfd_open(2): pidfds are always close-on-exec.
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) {
    if (errno == ESRCH) return gone(pid, "pidfd_open");
    return Error::last("pidfd_open {}", pid);
  }
  return UniqueFd(static_cast<int>(fd));
}

Status pidfd_send_signal(int pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) < 0) {
    if (errno == ESRCH) {
      return Error(ErrorKind::NotFound, ESRCH, fmt::format("pidfd_send_signal {}", sig));
    }
    return Error::last("pidfd_send_signal fd {} signal {}", pidfd, sig);
  }
  return {};
}

Result<bool> pidfd_wait_exit(int pidfd, int timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  for (;;) {
    pollfd p{pidfd, POLLIN, 0};
    int left = deadline < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, deadline - now_ms()));
    int n = ::poll(&p, 1, left);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return Error::last("poll pidfd {}", pidfd);
  }
}

Result<Process> Process::open(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return gone(pid, "open process");
  UniqueFd fd;
  auto pfd = pidfd_open(pid);
  if (pfd) {
    fd = std::move(*pfd);
  } else if (pfd.error().err() != ENOSYS) {
    return std::move(pfd).error();
  }
  // Checked after pidfd_open: if the pid was reused before we opened it, the
  // start time differs now; if it is reused after, our pidfd still refers to
  // the original (dead) process.
  auto live = TRY(find_process(pid, start_time));
  if (!live) return gone(pid, "open process");
  return Process(pid, start_time, std::move(fd));
}

Status Process::signal(int sig) {
  if (fd_) {
    TRY_CTX(pidfd_send_signal(fd_.get(), sig), "signal pid {}", pid_);
    return {};
  }
  // No pidfd support: re-check the start time right before kill(2); the
  // window left is the one pidfds exist to close.
  auto live = TRY(find_process(pid_, start_time_));
  if (!live) return gone(pid_, "kill");
  if (::kill(pid_, sig) < 0) {
    if (errno == ESRCH) return gone(pid_, "kill");
    return Error::last("kill pid {} signal {}", pid_, sig);
  }
  return {};
}

Result<bool> Process::wait_exit(int timeout_ms) {
  if (fd_) return pidfd_wait_exit(fd_.get(), timeout_ms);
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    auto live = TRY(find_process(pid_, start_time_));
    if (!live) return true;
    if (timeout_ms >= 0 && now_ms() >= deadline) return false;
    ::usleep(10000);
  }
}

}  // namespace husk::sys
