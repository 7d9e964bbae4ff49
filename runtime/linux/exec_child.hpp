// The process of `exec`: what the cloned child does between clone3 and
// execve, the twin of init.hpp for `create`. It runs on a plan the parent
// made (the child has a copy of the parent's memory), with raw syscalls and
// no allocation on its success path (only while building an Error), talks to
// the parent only through the channel, and never returns.
//
// The parent has already placed it in the pid namespace of the container's
// init (PidNsForChildren: a pid namespace is entered only at clone) and in
// its cgroup when it sends Start. The child then joins the init's other
// namespaces in one setns(pidfd, flags) call (setns(2), "pidfd" form, Linux
// 5.8: the kernel installs the user namespace first, so the other joins are
// checked against the capabilities it grants), chroots to the init's root,
// applies the process plan, answers Ready and execs. Its end of the channel
// is close-on-exec: end-of-file after Ready tells the parent execve happened.
#pragma once

#include <optional>

#include "linux/process.hpp"
#include "linux/protocol.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct ExecChildPlan {
  ProcessPlan* process = nullptr;  // the child fills HOME (apply_process)
  int init_pidfd = -1;
  int ns_flags = 0;         // CLONE_NEW* the child joins (never CLONE_NEWPID: done by the parent)
  int root_fd = -1;         // O_PATH /proc/<init>/root, opened through the host's /proc
  int console_socket = -1;  // connected when process.terminal, else -1
  std::optional<spec::ConsoleSize> console_size;
  int preserve_fds = 0;           // fds 3 .. 3+N-1 cross execve
  const char* keyring = nullptr;  // session keyring name: the container id
};

// The child's main. Never returns: on failure it sends an Error message and
// _exit(255)s.
[[noreturn]] void exec_child_main(protocol::Channel& channel, const ExecChildPlan& plan) noexcept;

}  // namespace husk::linux_setup
