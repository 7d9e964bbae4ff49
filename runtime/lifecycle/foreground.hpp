// Waiting for a container process in the foreground (`run`, `exec` without
// --detach): signals husk receives are forwarded to it, and with a terminal
// the pty master is relayed to husk's own stdio.
#pragma once

#include <sys/types.h>
#include <termios.h>

#include <optional>

#include "base/result.hpp"
#include "spec/config.hpp"
#include "sys/fd.hpp"

namespace husk::lifecycle {

// Every signal husk may receive is taken through a signalfd (no handler, no
// thread), so none interrupts a syscall half-way and each can be forwarded.
// Faults stay unblocked. The blocked mask is inherited by children: a child
// that will exec a container program must reset it.
Result<sys::UniqueFd> take_signals();

// The pty master that a container process sent (before it reported Ready) to
// a console socket of husk's own: runc's message, pty name + SCM_RIGHTS fd.
Result<sys::UniqueFd> receive_master(int sock);

// The size of the terminal husk runs on (its stdin), when it has one that
// is sized. `exec -t` gives it to the child that opens the pty; the relay
// below copies it to the pty it holds.
std::optional<spec::ConsoleSize> own_terminal_size();

// husk holds the pty master and relays it to its own stdio, with its
// terminal (if any) in raw mode so that keys reach the container untouched,
// and its size following SIGWINCH. The terminal is restored on destruction.
class TerminalRelay {
 public:
  explicit TerminalRelay(sys::UniqueFd master);
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;
  ~TerminalRelay();

  void resize();
  [[nodiscard]] int master() const { return master_.get(); }
  [[nodiscard]] int input() const { return stdin_open_ ? 0 : -1; }
  void copy_input();
  // false once the pty has nothing more to give (EIO: every slave fd closed).
  bool copy_output();

 private:
  sys::UniqueFd master_;
  std::optional<termios> saved_;
  bool stdin_open_ = true;
};

// The process to wait for: our child.
struct Waited {
  pid_t pid = 0;
  int pidfd = -1;
};

// Wait for `p` to exit, forwarding every signal read from sigfd (except
// SIGCHLD, and SIGWINCH when relaying a terminal, which resizes the pty) and
// relaying `tty` if given. Every exited child is reaped on the way (as a
// subreaper husk inherits orphans). Returns the exit code: the status, or
// 128+N when killed by signal N.
Result<int> wait_forwarding(const Waited& p, int sigfd, TerminalRelay* tty);

}  // namespace husk::lifecycle
