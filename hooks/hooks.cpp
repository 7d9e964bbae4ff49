#include "hooks/hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <ctime>
#include <string_view>

#include "sys/fd.hpp"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace husk::hooks {

const char* name(Kind k) {
  switch (k) {
    case Kind::Prestart:
      return "prestart";
    case Kind::CreateRuntime:
      return "createRuntime";
    case Kind::CreateContainer:
      return "createContainer";
    case Kind::StartContainer:
      return "startContainer";
    case Kind::Poststart:
      return "poststart";
    case Kind::Poststop:
      return "poststop";
  }
  return "unknown";
}

namespace {

using sys::UniqueFd;

// Built before fork(): after fork the child may only call async-signal-safe
// functions (signal-safety(7)), so it must not allocate.
struct ExecArgs {
  const char* path;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecArgs make_exec_args(const spec::Hook& h) {
  ExecArgs a{h.path.c_str(), {}, {}};
  if (h.args.empty()) a.argv.push_back(const_cast<char*>(h.path.c_str()));
  for (const auto& s : h.args) a.argv.push_back(const_cast<char*>(s.c_str()));
  a.argv.push_back(nullptr);
  for (const auto& s : h.env) a.envp.push_back(const_cast<char*>(s.c_str()));
  a.envp.push_back(nullptr);
  return a;
}

[[noreturn]] void child_fail(int err_fd) {
  int e = errno;
  // Best effort: if this write fails the parent still sees exit status 127.
  [[maybe_unused]] ssize_t n = ::write(err_fd, &e, sizeof e);
  ::_exit(127);
}

// The hook starts like a fresh process: default dispositions, nothing blocked
// (the parent blocks SIGPIPE around the stdin write, and the mask survives
// fork and execve). Only 0-2 survive execve: the caller's fds should all be
// O_CLOEXEC already, close_range(2) makes sure of it.
[[noreturn]] void exec_child(const ExecArgs& a, int stdin_fd, int err_fd) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);  // EINVAL for KILL/STOP: fine
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (stdin_fd == STDIN_FILENO) {
    if (::fcntl(stdin_fd, F_SETFD, 0) < 0) child_fail(err_fd);
  } else if (::dup2(stdin_fd, STDIN_FILENO) < 0) {
    child_fail(err_fd);
  }
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(a.path, a.argv.data(), a.envp.data());
  child_fail(err_fd);
}

// A write to a pipe whose reader is gone raises SIGPIPE (pipe(7)); a hook may
// legitimately exit without reading its stdin. Block SIGPIPE for the duration,
// so the write fails with EPIPE instead, then discard a SIGPIPE we caused and
// restore the caller's mask: its disposition is never touched.
class SigpipeBlocked {
 public:
  SigpipeBlocked() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    ::sigprocmask(SIG_BLOCK, &s, &old_);
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  SigpipeBlocked(const SigpipeBlocked&) = delete;
  SigpipeBlocked& operator=(const SigpipeBlocked&) = delete;
  ~SigpipeBlocked() {
    if (!was_pending_) {
      sigset_t s;
      sigemptyset(&s);
      sigaddset(&s, SIGPIPE);
      timespec zero{};
      while (::sigtimedwait(&s, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::sigprocmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

// Owns a forked hook until it is reaped; on early return it is killed and
// reaped so that no hook outlives a failed run and no zombie is left.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);  // our unreaped child: its pid cannot have been reused
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // waitpid(2); the caller must not have SIGCHLD set to SIG_IGN (that
  // auto-reaps children and waitpid fails with ECHILD).
  // Once reaped (try_reap), the status it had.
  Result<int> reap() {
    while (!reaped() && !TRY(collect(0))) {
    }
    return status_;
  }

  // waitpid(WNOHANG): true once the child has ended and been reaped (its
  // status is then what reap() returns).
  Result<bool> try_reap() { return collect(WNOHANG); }

 private:
  [[nodiscard]] bool reaped() const { return pid_ <= 0 && status_ >= 0; }

  // One waitpid(pid, options): true when the child was reaped (EINTR and
  // "not yet" are false).
  Result<bool> collect(int options) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, options);
    if (r < 0 && errno != EINTR) {
      pid_ = -1;
      return Error::last("waitpid");
    }
    if (r <= 0) return false;
    pid_ = -1;
    status_ = status;
    return true;
  }

  pid_t pid_;
  int status_ = -1;
};

class Deadline {
 public:
  explicit Deadline(std::optional<int32_t> seconds) {
    if (!seconds) return;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    end_ms_ = to_ms(now) + static_cast<int64_t>(*seconds) * 1000;
  }
  // poll(2) timeout: -1 = forever; rounded up so that 0 means expired.
  [[nodiscard]] int remaining_ms() const {
    if (end_ms_ < 0) return -1;
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = end_ms_ - to_ms(now);
    return left <= 0 ? 0 : static_cast<int>(left);
  }

 private:
  static int64_t to_ms(const timespec& t) {
    return static_cast<int64_t>(t.tv_sec) * 1000 + (t.tv_nsec + 999'999) / 1'000'000;
  }
  int64_t end_ms_ = -1;
};

// Writes what the pipe accepts. The hook closing its stdin early (EPIPE) is
// not an error: the spec only promises the state is offered on stdin.
Status write_some(UniqueFd& in, std::string_view data, size_t& off) {
  ssize_t n = ::write(in.get(), data.data() + off, data.size() - off);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return {};
    if (errno == EPIPE) {
      in.reset();
      return {};
    }
    return Error::last("write state to hook stdin");
  }
  off += static_cast<size_t>(n);
  if (off == data.size()) in.reset();  // EOF for the hook
  return {};
}

// Without a pidfd, the child's end is found by waitpid(WNOHANG) this often.
constexpr int kReapPollMs = 5;

// Feeds the state to the hook while watching its end, so that a hook that
// never reads cannot block us past its timeout. true = exited, false =
// timeout. The end is seen on the pidfd, or, when there is none, by polling
// waitpid (the child is then reaped here).
Result<bool> feed_and_wait(int pidfd, Child& child, UniqueFd& in, std::string_view data,
                           const Deadline& dl) {
  size_t off = 0;
  if (data.empty()) in.reset();
  for (;;) {
    int wait_ms = dl.remaining_ms();
    if (pidfd < 0) {
      if (TRY(child.try_reap())) return true;
      if (wait_ms < 0 || wait_ms > kReapPollMs) wait_ms = kReapPollMs;
    }
    pollfd p[2] = {{in.get(), POLLOUT, 0}, {pidfd, POLLIN, 0}};
    int nfds = (in.valid() ? 1 : 0) + (pidfd >= 0 ? 1 : 0);
    pollfd* first = in.valid() ? &p[0] : &p[1];
    int rc = ::poll(first, static_cast<nfds_t>(nfds), wait_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Error::last("poll hook");
    }
    if (pidfd >= 0 && p[1].revents != 0) return true;
    if (rc == 0 && dl.remaining_ms() == 0) return false;
    if (in.valid() && p[0].revents != 0) TRY(write_some(in, data, off));
  }
}

// A pidfd of the hook, or an empty fd when the kernel has none (< 5.3) or a
// seccomp filter refuses it: startContainer hooks run under the container's
// filter, and profiles written before pidfds existed do not list
// pidfd_open.
Result<UniqueFd> open_pidfd(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) return UniqueFd(fd);
  if (errno == ENOSYS || errno == EPERM || errno == EACCES) return UniqueFd();
  return Error::last("pidfd_open {}", pid);
}

Status make_pipe(UniqueFd& r, UniqueFd& w, int flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | flags) < 0) return Error::last("pipe2");
  r.reset(fds[0]);
  w.reset(fds[1]);
  return {};
}

// errno sent by a child whose execve failed; 0 if execve succeeded.
int exec_errno(const UniqueFd& err_r) {
  int e = 0;
  ssize_t n;
  do {
    n = ::read(err_r.get(), &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof e) ? e : 0;
}

Status check_status(int status, int exec_err) {
  if (exec_err != 0) return Error::sys(exec_err, "exec");
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) return {};
    return Error::make(ErrorKind::Sys, "exited with status {}", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status))
    return Error::make(ErrorKind::Sys, "killed by signal {}", WTERMSIG(status));
  return Error::make(ErrorKind::Sys, "ended with wait status {:#x}", status);
}

Status run_one(const spec::Hook& h, std::string_view state) {
  ExecArgs args = make_exec_args(h);
  UniqueFd in_r, in_w, err_r, err_w;
  TRY(make_pipe(in_r, in_w, 0));
  TRY(make_pipe(err_r, err_w, 0));
  SigpipeBlocked no_sigpipe;
  pid_t pid = ::fork();
  if (pid < 0) return Error::last("fork");
  if (pid == 0) exec_child(args, in_r.get(), err_w.get());
  Child child(pid);
  in_r.reset();
  err_w.reset();
  UniqueFd pidfd = TRY(open_pidfd(pid));
  if (::fcntl(in_w.get(), F_SETFL, O_NONBLOCK) < 0) return Error::last("fcntl O_NONBLOCK");
  bool exited = TRY(feed_and_wait(pidfd.get(), child, in_w, state, Deadline(h.timeout)));
  if (!exited) {
    ::kill(child.pid(), SIGKILL);
    TRY(child.reap());
    return Error::make(ErrorKind::Sys, "timed out after {}s", h.timeout.value_or(0));
  }
  int status = TRY(child.reap());
  return check_status(status, exec_errno(err_r));
}

}  // namespace

Status run(Kind kind, const std::vector<spec::Hook>& hooks, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    TRY_CTX(run_one(hooks[i], state_json), "{} hook #{} ({})", name(kind), i, hooks[i].path);
  }
  return {};
}

std::vector<Error> run_all(Kind kind, const std::vector<spec::Hook>& hooks,
                           const std::string& state_json) {
  std::vector<Error> errors;
  for (size_t i = 0; i < hooks.size(); ++i) {
    auto st = run_one(hooks[i], state_json);
    if (!st)
      errors.push_back(
          std::move(st).error().wrap("{} hook #{} ({})", name(kind), i, hooks[i].path));
  }
  return errors;
}

}  // namespace husk::hooks
