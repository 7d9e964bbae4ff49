// The container's init: everything the cloned child does between clone3 and
// execve of process.args. It runs on plans the parent computed before the
// clone (the child has a copy of the parent's memory), talks to the parent
// only through protocol::InitEnd, and never returns: on failure it sends an
// Error message and _exit(1)s, so no destructor or rollback guard of the
// parent's frames ever runs in the child.
#pragma once

#include "linux/namespaces.hpp"
#include "linux/process.hpp"
#include "linux/protocol.hpp"
#include "linux/rootfs.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct InitPlan {
  const spec::Config* config = nullptr;  // hooks, hostname, domainname, console size
  const NamespacePlan* ns = nullptr;
  const RootfsPlan* rootfs = nullptr;
  ProcessPlan* process = nullptr;  // the child fills HOME (apply_process)
  // The HooksRequest/HooksDone round trip happens (any prestart,
  // createRuntime, createContainer or startContainer hook).
  bool hooks_round_trip = false;
  // O_PATH fd of exec.fifo, opened before the clone: after pivot_root the
  // state directory is out of reach, but /proc/self/fd/N still reopens it.
  int fifo_fd = -1;
  // fds 3 .. 3+preserve_fds-1 (LISTEN_FDS, then --preserve-fds) stay open
  // across execve; every other fd is close-on-exec.
  int preserve_fds = 0;
  // Connected --console-socket when process.terminal, else -1.
  int console_socket = -1;
  // Name of the new session keyring to join; null with --no-new-keyring.
  const char* session_keyring = nullptr;
  // Drop the init's copy of husk's code right before it blocks on exec.fifo
  // (memory.cpp): worth it for a `create` whose init may wait long; not for
  // `run`, which starts it at once and would only fault the pages back in.
  bool trim_memory = true;
  // `run`: after Ready, wait for Exec on the channel instead of blocking on
  // exec.fifo (protocol.hpp); fifo_fd is then -1.
  bool exec_on_channel = false;
};

// The child's main. Never returns.
[[noreturn]] void init_main(protocol::InitEnd& channel, const InitPlan& plan) noexcept;

}  // namespace husk::linux_setup
