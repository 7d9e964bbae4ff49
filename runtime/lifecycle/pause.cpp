#include "lifecycle/lifecycle.hpp"

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
  auto mgr = TRY(locked_cgroup(ctx, id, state::can_pause, "container not running"));
  TRY_CTX(mgr->freeze(), "pause container {}", id);
  return {};
}

Status resume(const Context &ctx, std::string_view id) {
  auto mgr = TRY(locked_cgroup(ctx, id, state::can_resume, "container not paused"));
  TRY_CTX(mgr->thaw(), "resume container {}", id);
  return {};
}

Status update(const Context &ctx, std::string_view id, const spec::Resources &r) {
  auto mgr = TRY(locked_cgroup(ctx, id, can_update, "container not running"));
  TRY_CTX(mgr->check(r), "update container {}", id);
  TRY_CTX(mgr->apply(r), "update container {}", id);
  return {};
}

}  // namespace husk::lifecycle
