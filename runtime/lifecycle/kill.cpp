#include <csignal>

#include "lifecycle/lifecycle.hpp"
#include "lifecycle/phase_timer.hpp"
#include "sys/pidfd.hpp"

namespace husk::lifecycle {

namespace {

Error not_running() { return Error::make(ErrorKind::BadState, "container not running"); }

// kill --all: every process in the cgroup. A stopped container may still have
// processes there when it did not own its pid namespace.
Status kill_all(const Context &ctx, const Observed &o, int sig) {
  auto mgr = TRY(load_cgroup(o.st));
  if (!mgr) {
    if (o.status == state::Status::Stopped) return {};
    ctx.warn(fmt::format("container {} has no cgroup; kill --all signals only its init", o.st.id));
    auto proc = TRY(sys::Process::open(o.st.pid, o.st.pid_start_time));
    return proc.signal(sig);
  }
  if (o.status == state::Status::Stopped) {
    auto pids = mgr->pids();
    if (!pids || pids->empty()) return {};  // cgroup already gone or empty
  }
  TRY_CTX(mgr->kill_all(sig), "kill --all container {}", o.st.id);
  // A v1 frozen task cannot act on SIGKILL until thawed.
  if (o.status == state::Status::Paused && sig == SIGKILL) TRY(mgr->thaw());
  return {};
}

}  // namespace

Status kill(const Context &ctx, std::string_view id, int sig, bool all) {
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(id));
  PhaseTimer<Verb::Kill> t(ctx);
  auto o = TRY(observe(dir));
  t.mark("observe");
  if (all) {
    TRY(kill_all(ctx, o, sig));
    t.mark("signal");
    return {};
  }
  if (!state::can_kill(o.status)) return not_running();
  auto proc = sys::Process::open(o.st.pid, o.st.pid_start_time);
  if (!proc) {
    if (proc.error().kind() == ErrorKind::NotFound) return not_running();
    return std::move(proc).error();
  }
  auto sent = proc->signal(sig);
  if (!sent) {
    if (sent.error().kind() == ErrorKind::NotFound) return not_running();
    return std::move(sent).error();
  }
  t.mark("signal");
  if (o.status == state::Status::Paused && sig == SIGKILL) {
    auto mgr = TRY(load_cgroup(o.st));
    if (mgr) TRY(mgr->thaw());
  }
  return {};
}

}  // namespace husk::lifecycle
