#include "lifecycle/start.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "hooks/hooks.hpp"
#include "lifecycle/notify.hpp"
#include "lifecycle/phase_timer.hpp"
#include "linux/process.hpp"
#include "spec/state_json.hpp"
#include "sys/pidfd.hpp"

namespace husk::lifecycle {

namespace {

// runc's wording for each status start refuses.
Status check_startable(state::Status s) {
  switch (s) {
    case state::Status::Created:
      return {};
    case state::Status::Running:
      return Error::make(ErrorKind::BadState, "cannot start an already running container");
    case state::Status::Stopped:
      return Error::make(ErrorKind::BadState, "cannot start a container that has stopped");
    default:
      return Error::make(ErrorKind::BadState, "cannot start a container in the {} state",
                         state::to_string(s));
  }
}

// A container created without process (create.cpp) cannot start, and the
// attempt leaves it created. The saved config.json was valid at create, so a
// config without the key anywhere has no process; a "process" string
// elsewhere (an annotation) lets the init report the same error instead.
Status check_has_process(const std::string& config) {
  if (config.find("\"process\"") != std::string::npos) return {};
  return Error::make(ErrorKind::BadState, "{}", linux_setup::kNoProcessToStart);
}

Error init_gone() {
  return Error::make(ErrorKind::BadState, "cannot start a container that has stopped")
      .wrap("container init exited before start");
}

// Read exec.fifo to end-of-file while watching the init's pidfd. The init
// writes one byte once we opened the fifo, then keeps its end open until
// execve closes it (close-on-exec): EOF after the byte means the container's
// program is running; text after the byte is the init's error.
Result<std::string> read_fifo(int fifo, int pidfd) {
  std::string got;
  int watch = pidfd;  // poll(2) ignores a negative fd
  for (;;) {
    pollfd fds[2] = {{fifo, POLLIN, 0}, {watch, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return Error::last("poll exec.fifo");
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[4096];
      ssize_t r = ::read(fifo, buf, sizeof buf);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r < 0) return Error::last("read exec.fifo");
      if (r == 0) return got;  // every writer closed: execve happened (or init died)
      got.append(buf, static_cast<size_t>(r));
      watch = -1;  // from now on the fifo's EOF tells the end
      continue;
    }
    // The init died before opening the fifo (nothing can open it after).
    if ((fds[1].revents & POLLIN) != 0) return init_gone();
  }
}

Status open_and_wait(state::ContainerDir& dir, int init_pidfd, PhaseTimer<Verb::Start>& t) {
  // O_NONBLOCK: an open for reading does not wait for a writer (fifo(7)); the
  // init, blocked in its open for writing, proceeds once this one exists.
  auto fifo = TRY(dir.open_fifo(O_RDONLY | O_NONBLOCK));
  // The name goes now, while the init may still be waiting: it reopens the
  // fifo through its own fd, never by name. Unlinked only after the program
  // ran, a start killed in between left the name: the container looked
  // "created" while it ran, and the next start waited forever on a fifo no
  // one would write (a FIFO never written since this open reports no
  // POLLHUP). Now "running" (status.hpp) from here on, or "stopped" if the
  // init dies.
  TRY(dir.unlink_fifo());
  t.mark("release");
  std::string got = TRY(read_fifo(fifo.get(), init_pidfd));
  if (got.empty()) return init_gone();
  if (got.size() > 1) return Error::make(ErrorKind::Sys, "{}", got.substr(1));
  return {};
}

// runtime-spec v1.3.0: a failing poststart hook stops the container.
Status run_poststart_hooks(const std::vector<spec::Hook>& hooks, const state::ContainerState& st,
                           int init_pidfd) {
  if (hooks.empty()) return {};
  Status s = hooks::run(hooks::Kind::Poststart, hooks, spec::hook_state_json(st, "running"));
  if (!s) {
    (void)sys::pidfd_send_signal(init_pidfd, SIGKILL);
    return std::move(s).error();
  }
  return {};
}

Status run_poststart(const std::string& config, const state::ContainerState& st,
                     sys::Process& init) {
  auto hooks = TRY(saved_hooks(config, "poststart", &spec::Hooks::poststart));
  return run_poststart_hooks(hooks, st, init.fd());
}

// Everything start does under the container's lock; returns the init.
Result<sys::Process> start_locked(const Context& ctx, std::string_view id,
                                  std::optional<NotifyProxy>& notify, PhaseTimer<Verb::Start>& t) {
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(id));
  TRY(dir.lock());
  Observed o = TRY(observe(dir));
  TRY(check_startable(o.status));
  // Read once: both the process check and the poststart hooks need it.
  std::string config = TRY(dir.read_config());
  TRY(check_has_process(config));
  t.mark("lock");
  auto init = sys::Process::open(o.st.pid, o.st.pid_start_time);
  if (!init) {
    if (init.error().kind() == ErrorKind::NotFound) return init_gone();
    return std::move(init).error();
  }
  // Bound before the container's program runs, so no notification is lost.
  notify = TRY(NotifyProxy::open(dir));
  // No new record: "running" is derived from the fifo being gone (status.hpp).
  TRY(open_and_wait(dir, init->fd(), t));
  t.mark("exec");
  TRY(run_poststart(config, o.st, *init));
  return std::move(*init);
}

}  // namespace

Status start(const Context& ctx, std::string_view id, pid_t notify_mainpid) {
  std::optional<NotifyProxy> notify;
  PhaseTimer<Verb::Start> t(ctx);
  auto init = TRY(start_locked(ctx, id, notify, t));
  // Waiting for READY without the lock: delete/kill stay possible meanwhile.
  if (notify) TRY(notify->wait_ready(init.fd(), notify_mainpid > 0 ? notify_mainpid : init.pid()));
  return {};
}

Status start_created(CreatedInit& init, pid_t notify_mainpid) {
  OwnedContainer& c = *init.owned;
  std::optional<NotifyProxy> notify = TRY(NotifyProxy::open(c.dir));
  TRY(c.channel.send_exec());
  if (auto s = c.channel.await_execing(); !s) {
    // No Execing and no Error: the init died before it was started.
    if (s.error().kind() == ErrorKind::Protocol && s.error().err() == 0) return init_gone();
    return s;
  }
  TRY(c.channel.await_exec_done());
  TRY(run_poststart_hooks(c.poststart, c.st, init.pidfd.get()));
  c.dir.unlock();
  if (notify)
    TRY(notify->wait_ready(init.pidfd.get(), notify_mainpid > 0 ? notify_mainpid : init.pid));
  return {};
}

}  // namespace husk::lifecycle
