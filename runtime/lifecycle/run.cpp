#include "lifecycle/run.hpp"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "lifecycle/start.hpp"
#include "sys/pidfd.hpp"

namespace husk::lifecycle {

namespace {

// Every signal husk may receive is taken through a signalfd (no handler, no
// thread), so none interrupts a syscall half-way and each can be forwarded.
// Faults stay unblocked: a blocked SIGSEGV raised by the kernel kills anyway.
Result<sys::UniqueFd> take_signals() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::last("sigprocmask");
  sys::UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error::last("signalfd");
  return fd;
}

int exit_code(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// Reap every child that has exited: as a subreaper we inherit the
// container's orphans (when it shares our pid namespace), and they must not
// stay zombies. Returns true once the init itself was reaped.
bool reap(pid_t init, int& status) {
  bool done = false;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(-1, &st, WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return done;
    if (r == init) {
      status = st;
      done = true;
    }
  }
}

void forward(int sigfd, const CreatedInit& init) {
  signalfd_siginfo si{};
  while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) continue;
    (void)sys::pidfd_send_signal(init.pidfd.get(), static_cast<int>(si.ssi_signo));
  }
}

Result<int> wait_forwarding(const CreatedInit& init, int sigfd) {
  int status = 0;
  for (;;) {
    pollfd fds[2] = {{sigfd, POLLIN, 0}, {init.pidfd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::last("poll");
    }
    if ((fds[0].revents & POLLIN) != 0) forward(sigfd, init);
    if (reap(init.pid, status)) return exit_code(status);
  }
}

// The init is our child: if it is still there after a failure, do not leave
// it behind (delete kills it; this reaps it).
void reap_init(const CreatedInit& init) {
  (void)sys::pidfd_send_signal(init.pidfd.get(), SIGKILL);
  int st = 0;
  while (::waitpid(init.pid, &st, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<int> run(const Context& ctx, const RunOptions& opts) {
  CreateOptions co = opts.create;
  co.foreground = !opts.detach;
  // Orphans of the container (its processes outside a pid namespace of its
  // own) are reparented to us rather than to the system's init, so we can
  // reap them (prctl(2) PR_SET_CHILD_SUBREAPER).
  if (!opts.detach && !opts.no_subreaper && ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Error::last("prctl(PR_SET_CHILD_SUBREAPER)");
  }
  CreatedInit init = TRY(create(ctx, co));
  sys::UniqueFd sigfd;
  if (!opts.detach) sigfd = TRY(take_signals());
  if (Status s = start(ctx, co.id); !s) {
    if (!opts.keep) {
      (void)destroy(ctx, co.id, true);
      reap_init(init);
    }
    return std::move(s).error();
  }
  if (opts.detach) return 0;
  int code = TRY(wait_forwarding(init, sigfd.get()));
  if (!opts.keep) TRY(destroy(ctx, co.id, true));
  return code;
}

}  // namespace husk::lifecycle
