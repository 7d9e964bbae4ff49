// pidfds (pidfd_open(2), pidfd_send_signal(2)): a handle on one process that
// cannot be redirected to another by pid reuse. husk signals container
// processes only through Process, which first checks the start time recorded
// at create against /proc/<pid>/stat, then holds a pidfd so that the signal
// reaches that process or fails with ESRCH, never a stranger.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::sys {

// NotFound (ESRCH) when there is no such process.
Result<UniqueFd> pidfd_open(pid_t pid);
// NotFound (ESRCH) when the process has exited.
Status pidfd_send_signal(int pidfd, int sig);
// poll(2) the pidfd until the process exits (it becomes readable at exit,
// zombie or not). timeout_ms < 0 waits forever. true = exited.
Result<bool> pidfd_wait_exit(int pidfd, int timeout_ms);

class Process {
 public:
  // NotFound if pid is gone, a zombie, or now another process (start_time
  // differs; 0 = unknown, accept any).
  static Result<Process> open(pid_t pid, uint64_t start_time);

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int fd() const { return fd_.get(); }  // -1 without pidfd support

  Status signal(int sig);
  // true once the process has exited; false on timeout.
  Result<bool> wait_exit(int timeout_ms);

 private:
  Process(pid_t pid, uint64_t start_time, UniqueFd fd)
      : pid_(pid), start_time_(start_time), fd_(std::move(fd)) {}
  pid_t pid_;
  uint64_t start_time_;
  UniqueFd fd_;
};

}  // namespace husk::sys
