#include "lifecycle/lifecycle.hpp"
#include "lifecycle/phase_timer.hpp"
#include "spec/validate.hpp"

namespace husk::lifecycle {

namespace {

// pause, resume and update change the cgroup of a live container.
Result<std::unique_ptr<cgroup::Manager>> locked_cgroup(const Context &ctx, std::string_view id,
                                                       bool (*allowed)(state::Status),
                                                       const char *refusal) {
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(id));
  TRY(dir.lock());
  auto o = TRY(observe(dir));
  if (!allowed(o.status)) return Error::make(ErrorKind::BadState, "{}", refusal);
  auto mgr = TRY(load_cgroup(o.st));
  if (!mgr) {
    return Error::make(ErrorKind::Unsupported, "container {} has no cgroup to act on", id);
  }
  return mgr;
}

bool can_update(state::Status s) {
  return s == state::Status::Created || s == state::Status::Running || s == state::Status::Paused;
}

}  // namespace

Status pause(const Context &ctx, std::string_view id) {
  PhaseTimer<Verb::Pause> t(ctx);
  auto mgr = TRY(locked_cgroup(ctx, id, state::can_pause, "container not running"));
  t.mark("lock");
  TRY_CTX(mgr->freeze(), "pause container {}", id);
  t.mark("freeze");
  return {};
}

Status resume(const Context &ctx, std::string_view id) {
  PhaseTimer<Verb::Resume> t(ctx);
  auto mgr = TRY(locked_cgroup(ctx, id, state::can_resume, "container not paused"));
  t.mark("lock");
  TRY_CTX(mgr->thaw(), "resume container {}", id);
  t.mark("thaw");
  return {};
}

Status update(const Context &ctx, std::string_view id, const spec::Resources &r) {
  // The checks create makes on linux.resources, before anything is written:
  // the cgroup writers apply field by field, so a bad value found by the
  // kernel half-way would leave the earlier fields changed.
  std::vector<std::string> warnings;
  TRY(spec::validate_resources(r, "", &warnings));
  for (const auto &w : warnings) ctx.warn(w);
  // Device rules are the container's from create (its config's plus the
  // defaults every container needs) and stay so, as under runc, which reads
  // no `devices` from update's input: applied raw, a `--resources` file's
  // deny-all would replace them without the defaults (/dev/null denied), and
  // an allow-all would open what the config denied.
  spec::Resources applied = r;
  applied.devices.clear();
  PhaseTimer<Verb::Update> t(ctx);
  auto mgr = TRY(locked_cgroup(ctx, id, can_update, "container not running"));
  t.mark("lock");
  TRY_CTX(mgr->check(applied), "update container {}", id);
  TRY_CTX(mgr->apply(applied), "update container {}", id);
  t.mark("apply");
  return {};
}

}  // namespace husk::lifecycle
