#include "lifecycle/run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

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

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// `run` in the foreground with process.terminal: husk holds the pty master
// and relays it to its own stdio, with its terminal (if any) in raw mode so
// that keys reach the container untouched, and its size following SIGWINCH.
class TerminalRelay {
 public:
  explicit TerminalRelay(sys::UniqueFd master) : master_(std::move(master)) {
    (void)::fcntl(master_.get(), F_SETFL, O_NONBLOCK);
    termios t{};
    if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &t) == 0) {
      saved_ = t;
      ::cfmakeraw(&t);
      (void)::tcsetattr(STDIN_FILENO, TCSANOW, &t);
    }
    resize();
  }
  TerminalRelay(const TerminalRelay&) = delete;
  TerminalRelay& operator=(const TerminalRelay&) = delete;
  ~TerminalRelay() {
    if (saved_) (void)::tcsetattr(STDIN_FILENO, TCSANOW, &*saved_);
  }

  void resize() {
    winsize ws{};
    if (::isatty(STDIN_FILENO) && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
      (void)::ioctl(master_.get(), TIOCSWINSZ, &ws);
    }
  }
  [[nodiscard]] int master() const { return master_.get(); }
  [[nodiscard]] int input() const { return stdin_open_ ? STDIN_FILENO : -1; }

  void copy_input() {
    char buf[4096];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    // At EOF the container keeps its terminal; there is just no more input.
    if (n <= 0 || !write_all(master_.get(), buf, static_cast<size_t>(n))) stdin_open_ = false;
  }
  // false once the pty has nothing more to give (EIO: every slave fd closed).
  bool copy_output() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(master_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) return false;
      (void)write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
    }
  }

 private:
  sys::UniqueFd master_;
  std::optional<termios> saved_;
  bool stdin_open_ = true;
};

void forward(int sigfd, const CreatedInit& init, TerminalRelay* tty) {
  signalfd_siginfo si{};
  while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) continue;
    if (si.ssi_signo == SIGWINCH && tty != nullptr) {
      tty->resize();
      continue;
    }
    (void)sys::pidfd_send_signal(init.pidfd.get(), static_cast<int>(si.ssi_signo));
  }
}

Result<int> wait_forwarding(const CreatedInit& init, int sigfd, TerminalRelay* tty) {
  int status = 0;
  for (;;) {
    pollfd fds[4] = {{sigfd, POLLIN, 0},
                     {init.pidfd.get(), POLLIN, 0},
                     {tty != nullptr ? tty->master() : -1, POLLIN, 0},
                     {tty != nullptr ? tty->input() : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::last("poll");
    }
    if ((fds[0].revents & POLLIN) != 0) forward(sigfd, init, tty);
    if (fds[3].revents != 0) tty->copy_input();
    if (fds[2].revents != 0 && !tty->copy_output()) tty = nullptr;
    if (reap(init.pid, status)) {
      if (tty != nullptr) (void)tty->copy_output();  // what the container wrote last
      return exit_code(status);
    }
  }
}

// The pty master the init sent (before Ready) to run's own console socket.
Result<sys::UniqueFd> receive_master(int sock) {
  char name[4096];
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control;
  mh.msg_controllen = sizeof control;
  if (::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) < 0) {
    return Error::last("receive the container's pty master");
  }
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) {
    return Error::make(ErrorKind::Protocol, "console socket: no pty master received");
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return sys::UniqueFd(fd);
}

// The init is our child: if it is still there after a failure, do not leave
// it behind (delete kills it; this reaps it).
void reap_init(const CreatedInit& init) {
  (void)sys::pidfd_send_signal(init.pidfd.get(), SIGKILL);
  int st = 0;
  while (::waitpid(init.pid, &st, 0) < 0 && errno == EINTR) {
  }
}

Result<int> start_and_wait(const Context& ctx, const RunOptions& opts, const CreatedInit& init,
                           int console) {
  const std::string& id = opts.create.id;
  if (opts.detach) {
    TRY(start(ctx, id));
    return 0;
  }
  std::optional<TerminalRelay> tty;
  if (init.terminal && console >= 0) tty.emplace(TRY(receive_master(console)));
  sys::UniqueFd sigfd = TRY(take_signals());
  TRY(start(ctx, id));
  int code = TRY(wait_forwarding(init, sigfd.get(), tty ? &*tty : nullptr));
  tty.reset();  // the caller's terminal back to how it was
  if (!opts.keep) TRY(destroy(ctx, id, true));
  return code;
}

}  // namespace

Result<int> run(const Context& ctx, const RunOptions& opts) {
  CreateOptions co = opts.create;
  // Orphans of the container (its processes outside a pid namespace of its
  // own) are reparented to us rather than to the system's init, so we can
  // reap them (prctl(2) PR_SET_CHILD_SUBREAPER).
  if (!opts.detach && !opts.no_subreaper && ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return Error::last("prctl(PR_SET_CHILD_SUBREAPER)");
  }
  sys::UniqueFd console_ours, console_theirs;
  if (!opts.detach && !co.console_socket) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return Error::last("socketpair for the console");
    }
    console_ours.reset(sv[0]);
    console_theirs.reset(sv[1]);
    co.own_console = sv[1];
  }
  CreatedInit init = TRY(create(ctx, co));
  console_theirs.reset();
  auto r = start_and_wait(ctx, opts, init, console_ours.get());
  if (!r && !opts.keep) {
    (void)destroy(ctx, co.id, true);
    reap_init(init);
  }
  return r;
}

}  // namespace husk::lifecycle
