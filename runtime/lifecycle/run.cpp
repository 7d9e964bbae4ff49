#include "lifecycle/run.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <optional>

#include "lifecycle/foreground.hpp"
#include "lifecycle/phase_timer.hpp"
#include "lifecycle/start.hpp"
#include "sys/pidfd.hpp"

namespace husk::lifecycle {

namespace {

// The init is our child: if it is still there after a failure, do not leave
// it behind (delete kills it; this reaps it).
void reap_init(const CreatedInit& init) {
  (void)sys::pidfd_send_signal(init.pidfd.get(), SIGKILL);
  int st = 0;
  while (::waitpid(init.pid, &st, 0) < 0 && errno == EINTR) {
  }
}

Result<int> start_and_wait(const Context& ctx, const RunOptions& opts, CreatedInit& init,
                           int console) {
  if (opts.detach) {
    TRY(start_created(init, 0));
    return 0;
  }
  std::optional<TerminalRelay> tty;
  if (init.terminal && console >= 0) tty.emplace(TRY(receive_master(console)));
  sys::UniqueFd sigfd = TRY(take_signals());
  PhaseTimer<Verb::Run> t(ctx);
  // In the foreground husk stays the process to supervise: MAINPID is ours (runc's too).
  TRY(start_created(init, ::getpid()));
  t.mark("start");
  int code =
      TRY(wait_forwarding(Waited{init.pid, init.pidfd.get()}, sigfd.get(), tty ? &*tty : nullptr));
  t.mark("wait");
  tty.reset();  // the caller's terminal back to how it was
  if (!opts.keep) {
    TRY(destroy_created(ctx, *init.owned));
    t.mark("delete");
  }
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
  co.start_follows = true;
  CreatedInit init = TRY(create(ctx, co));
  console_theirs.reset();
  auto r = start_and_wait(ctx, opts, init, console_ours.get());
  if (!r && !opts.keep) {
    // The init first, so that nothing of the container is left to kill.
    reap_init(init);
    if (auto s = destroy_created(ctx, *init.owned); !s) ctx.warn(s.error().message());
  }
  return r;
}

}  // namespace husk::lifecycle
