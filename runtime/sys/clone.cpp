#include "sys/clone.hpp"

#include <linux/sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace husk::sys {

Result<Cloned> clone3_pidfd(uint64_t flags) {
  int pidfd = -1;
  clone_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  // With CLONE_PARENT the child's exit is reported to our parent with our own
  // exit signal; clone3 refuses any other (clone(2), EINVAL).
  args.exit_signal = (flags & CLONE_PARENT) != 0 ? 0 : SIGCHLD;
  // Raw syscall: glibc has no clone3 wrapper for the fork-like form (no stack
  // given, the child continues on a copy of ours).
  long ret = ::syscall(SYS_clone3, &args, sizeof args);
  if (ret < 0)
    return Error::last("clone3(flags={:#x})", static_cast<unsigned long long>(args.flags));
  if (ret == 0) return Cloned{};
  return Cloned{static_cast<pid_t>(ret), UniqueFd(pidfd)};
}

}  // namespace husk::sys
