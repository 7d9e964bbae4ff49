#include "linux/exec_child.hpp"

#include <linux/keyctl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "linux/child.hpp"
#include "sys/unix_socket.hpp"

namespace husk::linux_setup {

namespace {

// A pty from the container's own devpts (we are in its mount namespace and
// root): the master goes to the console socket in runc's wire format, the
// slave becomes stdio and the controlling terminal of our new session.
Status setup_console(const ExecChildPlan& p) {
  Pty pty;
  TRY(open_pty(pty, p.console_size));
  TRY_CTX(sys::send_fd(p.console_socket, pty.name, pty.master.get()),
          "send the pty master to the console socket");
  return pty_as_stdio(pty.slave.get());
}

Status enter_container(const ExecChildPlan& p) {
  // One setns(2) on the init's pidfd enters every namespace at once; the
  // kernel installs the user namespace first, so the other joins are checked
  // against the capabilities it grants (setns(2), "pidfd" form, Linux 5.8).
  if (p.ns_flags != 0 && ::setns(p.init_pidfd, p.ns_flags) != 0) {
    return Error::last("setns into the namespaces of the container's init (flags {:#x})",
                       static_cast<unsigned>(p.ns_flags));
  }
  // setns(CLONE_NEWNS) put us at the root of the mount namespace's root
  // mount; the init's root is the one to use (a no_pivot container is
  // chrooted below it). The fd was opened through the host's /proc.
  if (::fchdir(p.root_fd) != 0) return Error::last("fchdir to the root of the container's init");
  if (::chroot(".") != 0) return Error::last("chroot to the root of the container's init");
  ::close(p.root_fd);
  ::close(p.init_pidfd);
  return {};
}

Status setup(protocol::Channel& ch, const ExecChildPlan& p) {
  reset_signals();
  auto start = TRY(ch.recv());
  if (start.type() != protocol::MsgType::Start) {
    return Error::make(ErrorKind::Protocol, "exec: expected Start, got {}",
                       protocol::name(start.type()));
  }
  TRY(enter_container(p));
  // Its own session, as the init: for a controlling terminal, and so that
  // the caller's job control signals do not reach it directly.
  if (::setsid() < 0) return Error::last("setsid");
  if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, p.keyring) < 0 && errno != ENOSYS) {
    return Error::last("keyctl(KEYCTL_JOIN_SESSION_KEYRING, {:?})", p.keyring);
  }
  if (p.console_socket >= 0) TRY_CTX(setup_console(p), "process.terminal");
  TRY(fix_stdio_owner(p.process->uid));
  p.process->seccomp_listener = [&ch](int fd) {
    int fds[] = {fd};
    return ch.send(protocol::MsgType::SeccompListener, 0, 0, {}, fds);
  };
  TRY(apply_process(*p.process, {p.preserve_fds, {ch.fd(), -1, -1, -1}}));
  TRY(load_notifying_seccomp(*p.process));
  return ch.send(protocol::MsgType::Ready);
}

}  // namespace

[[noreturn]] void exec_child_main(protocol::Channel& ch, const ExecChildPlan& p) noexcept {
  Status s = setup(ch, p);
  if (s) s = exec_process(*p.process);  // returns only on failure
  (void)protocol::send_error(ch, s.error());
  ::_exit(255);
}

}  // namespace husk::linux_setup
