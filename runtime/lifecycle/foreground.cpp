#include "lifecycle/foreground.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "sys/pidfd.hpp"
#include "sys/unix_socket.hpp"

namespace husk::lifecycle {

namespace {

int exit_code(int status) {
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

// Reap every child that has exited: as a subreaper we inherit the
// container's orphans (when it shares our pid namespace), and they must not
// stay zombies. Returns true once `pid` itself was reaped.
bool reap(pid_t pid, int& status) {
  bool done = false;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(-1, &st, WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return done;
    if (r == pid) {
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

void forward(int sigfd, const Waited& p, TerminalRelay* tty) {
  signalfd_siginfo si{};
  while (::read(sigfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    if (si.ssi_signo == SIGCHLD) continue;
    if (si.ssi_signo == SIGWINCH && tty != nullptr) {
      tty->resize();
      continue;
    }
    (void)sys::pidfd_send_signal(p.pidfd, static_cast<int>(si.ssi_signo));
  }
}

}  // namespace

Result<sys::UniqueFd> take_signals() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&set, s);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::last("sigprocmask");
  sys::UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return Error::last("signalfd");
  return fd;
}

Result<sys::UniqueFd> receive_master(int sock) {
  return TRY_CTX(sys::recv_fd(sock, MSG_DONTWAIT), "console socket: receive the pty master");
}

std::optional<spec::ConsoleSize> own_terminal_size() {
  winsize ws{};
  if (::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) {
    return std::nullopt;
  }
  return spec::ConsoleSize{.height = ws.ws_row, .width = ws.ws_col};
}

TerminalRelay::TerminalRelay(sys::UniqueFd master) : master_(std::move(master)) {
  (void)::fcntl(master_.get(), F_SETFL, O_NONBLOCK);
  termios t{};
  if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &t) == 0) {
    saved_ = t;
    ::cfmakeraw(&t);
    (void)::tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
  resize();
}

TerminalRelay::~TerminalRelay() {
  if (saved_) (void)::tcsetattr(STDIN_FILENO, TCSANOW, &*saved_);
}

void TerminalRelay::resize() {
  if (auto size = own_terminal_size()) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    (void)::ioctl(master_.get(), TIOCSWINSZ, &ws);
  }
}

void TerminalRelay::copy_input() {
  char buf[4096];
  ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  // At EOF the container keeps its terminal; there is just no more input.
  if (n <= 0 || !write_all(master_.get(), buf, static_cast<size_t>(n))) stdin_open_ = false;
}

bool TerminalRelay::copy_output() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    (void)write_all(STDOUT_FILENO, buf, static_cast<size_t>(n));
  }
}

Result<int> wait_forwarding(const Waited& p, int sigfd, TerminalRelay* tty) {
  int status = 0;
  for (;;) {
    pollfd fds[4] = {{sigfd, POLLIN, 0},
                     {p.pidfd, POLLIN, 0},
                     {tty != nullptr ? tty->master() : -1, POLLIN, 0},
                     {tty != nullptr ? tty->input() : -1, POLLIN, 0}};
    if (::poll(fds, 4, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::last("poll");
    }
    if ((fds[0].revents & POLLIN) != 0) forward(sigfd, p, tty);
    if (fds[3].revents != 0) tty->copy_input();
    if (fds[2].revents != 0 && !tty->copy_output()) tty = nullptr;
    if (reap(p.pid, status)) {
      if (tty != nullptr) (void)tty->copy_output();  // what the process wrote last
      return exit_code(status);
    }
  }
}

}  // namespace husk::lifecycle
