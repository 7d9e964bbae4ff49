#include <csignal>
#include <ctime>

#include "hooks/hooks.hpp"
#include "lifecycle/cgroup_parents.hpp"
#include "lifecycle/create.hpp"
#include "lifecycle/lifecycle.hpp"
#include "lifecycle/phase_timer.hpp"
#include "spec/config.hpp"
#include "spec/parse.hpp"
#include "spec/state_json.hpp"
#include "sys/pidfd.hpp"

namespace husk::lifecycle {

namespace {

// How long delete waits for SIGKILLed processes to be gone.
constexpr int kKillWaitMs = 10000;

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  ::nanosleep(&ts, nullptr);
}

// SIGKILL every process left in the cgroup (a container sharing the host's
// pid namespace keeps them after init dies) and wait until it is empty.
Status empty_cgroup(cgroup::Manager &mgr, const std::string &id) {
  for (int waited = 0;; waited += 20) {
    auto listed = mgr.pids();
    if (!listed) {
      if (listed.error().err() == ENOENT) return {};  // never created, or already removed
      return std::move(listed).error().wrap("container {}", id);
    }
    const auto &pids = *listed;
    if (pids.empty()) return {};
    if (waited >= kKillWaitMs) {
      return Error::make(ErrorKind::Sys, "container {}: {} processes still alive after SIGKILL", id,
                         pids.size());
    }
    if (waited % 1000 == 0) TRY_CTX(mgr.kill_all(SIGKILL), "kill container {}", id);
    sleep_ms(20);
  }
}

Status kill_init(const Observed &o, cgroup::Manager *mgr) {
  auto proc = sys::Process::open(o.st.pid, o.st.pid_start_time);
  if (!proc) {
    if (proc.error().kind() == ErrorKind::NotFound) return {};
    return std::move(proc).error();
  }
  auto sent = proc->signal(SIGKILL);
  if (!sent && sent.error().kind() != ErrorKind::NotFound) return std::move(sent).error();
  // A pid namespace's init is not reaped before every other process of the
  // namespace has exited (zap_pid_ns_processes), and a frozen process never
  // acts on SIGKILL: the whole container when it is paused, or a v1
  // sub-cgroup it froze itself. So the rest of the cgroup is killed (and
  // thawed) with it, not only after it.
  if (mgr != nullptr) TRY(mgr->kill_all(SIGKILL));
  if (!TRY(proc->wait_exit(kKillWaitMs))) {
    return Error::make(ErrorKind::Sys, "container {}: init (pid {}) still alive after SIGKILL",
                       o.st.id, o.st.pid);
  }
  return {};
}

// runtime.md: poststop failures are logged; the remaining hooks still run.
void run_poststop(const Context &ctx, const std::vector<spec::Hook> &hooks,
                  state::ContainerState st) {
  if (hooks.empty()) return;
  st.pid = 0;
  std::string json = spec::hook_state_json(st, "stopped");
  for (const auto &e : hooks::run_all(hooks::Kind::Poststop, hooks, json)) ctx.warn(e.message());
}

// The poststop hooks of the saved config; none when it is missing (a create
// that died early), a warning when it cannot be read.
std::vector<spec::Hook> saved_poststop(const Context &ctx, const state::ContainerDir &dir) {
  auto hooks = saved_hooks(dir, "poststop", &spec::Hooks::poststop);
  if (!hooks) {
    if (hooks.error().err() != ENOENT) {
      ctx.warn(fmt::format("poststop hooks not run: {}", hooks.error().message()));
    }
    return {};
  }
  return std::move(*hooks);
}

// Everything after the processes are gone. The record is removed only once
// the cgroup is, so a failed delete can be retried.
Status clean_up(const Context &ctx, state::ContainerDir &dir, const state::ContainerState &st,
                cgroup::Manager *mgr, const std::vector<spec::Hook> &poststop) {
  PhaseTimer<Verb::Delete> t(ctx);
  if (mgr != nullptr) {
    TRY(empty_cgroup(*mgr, st.id));
    auto parents = TRY(CgroupParents::lock(ctx));
    TRY_CTX(mgr->destroy(), "destroy cgroup of container {}", st.id);
    parents.prune(ctx, *mgr);
  }
  t.mark("cgroup");
  TRY(dir.remove());
  t.mark("remove");
  run_poststop(ctx, poststop, st);
  return {};
}

// A create killed between making its cgroups and writing its record
// (create.cpp, persist_record) left them unnamed: found again from the
// saved config.json as that create planned them and removed, their parents
// as the registry says (cgroup_parents). Without a record nothing says a
// leaf is that create's: it may be another container's, sharing the
// cgroupsPath, or the create may have died before making any. So nothing is
// killed and nothing removed recursively: an rmdir(2) of the leaf itself,
// which a cgroup with processes (EBUSY) or sub-cgroups (ENOTEMPTY) refuses.
// The dead create's own init leaves within milliseconds (it reads
// end-of-file from it), so EBUSY is retried for up to a second. A
// config.json that does not parse was never past create's first steps.
Status remove_unrecorded_cgroups(const Context &ctx, const state::ContainerDir &dir,
                                 const std::string &id) {
  auto bytes = dir.read_config();
  if (!bytes) return bytes.error().err() == ENOENT ? Status() : std::move(bytes).error();
  auto cfg = spec::parse_config(*bytes);
  if (!cfg) return {};
  // A placement that cannot be planned (an option create would have refused
  // too) was never made: the directory still goes.
  auto co = cgroup_options(ctx, *cfg, id);
  if (!co) return {};
  auto mgr = cgroup::Manager::plan(*co, nullptr);
  if (!mgr) return {};
  auto parents = TRY(CgroupParents::lock(ctx));
  std::vector<std::string> busy = (*mgr)->leaf_dirs();
  for (int waited = 0; !busy.empty(); waited += 20) {
    std::vector<std::string> still;
    for (const auto &leaf : busy) {
      if (::rmdir(leaf.c_str()) == 0 || errno == ENOENT || errno == ENOTEMPTY) continue;
      if (errno != EBUSY) return Error::last("rmdir {}", leaf).wrap("container {}", id);
      still.push_back(leaf);
    }
    busy = std::move(still);
    if (!busy.empty() && waited >= 1000) {
      ctx.warn(fmt::format("container {}: cgroup {} still has processes: left in place", id,
                           busy.front()));
      break;
    }
    if (!busy.empty()) sleep_ms(20);
  }
  parents.prune(ctx, **mgr);
  return {};
}

// The directory has no config.json (the lock): a create killed right after
// its mkdir left it empty, a concurrent delete removed it, or it is damaged
// (a crash of the file system, hands). No create can be at work in a
// directory that has files but no config.json: create makes it first.
Status remove_unlockable(const Context &ctx, state::ContainerDir &dir, bool force,
                         Error not_found) {
  if (TRY(dir.remove_if_empty()) || TRY(dir.removed())) {
    if (force) return {};
    return not_found;
  }
  if (!force) {
    auto st = dir.read_state();  // a record that does not parse names itself
    if (!st && st.error().kind() != ErrorKind::NotFound) return std::move(st).error();
    return Error::make(ErrorKind::BadState,
                       "state directory {} has no {}; delete --force removes it", dir.path(),
                       state::kConfigFile);
  }
  ctx.warn(fmt::format("delete --force: state directory {} has no {}: removing it", dir.path(),
                       state::kConfigFile));
  return dir.remove();
}

}  // namespace

Status destroy(const Context &ctx, std::string_view id, bool force) {
  auto store = TRY(open_store(ctx));
  auto opened = store.open_container(id);
  if (!opened) {
    if (force && opened.error().kind() == ErrorKind::NotFound) return {};
    return std::move(opened).error();
  }
  auto &dir = *opened;
  PhaseTimer<Verb::Delete> t(ctx);
  auto locked = dir.lock();
  if (!locked) {
    if (locked.error().kind() != ErrorKind::NotFound) return std::move(locked).error();
    return remove_unlockable(ctx, dir, force, std::move(locked).error());
  }
  auto o = observe(dir);
  if (!o && o.error().kind() == ErrorKind::NotFound) {
    // create died before its record: the directory, config.json, exec.fifo
    // and maybe its cgroups exist (state/store.hpp, lifecycle/create.cpp).
    TRY(remove_unrecorded_cgroups(ctx, dir, std::string(id)));
    TRY(dir.remove());
    if (force) return {};
    return state::not_exist_error(id);
  }
  if (!o && force && o.error().kind() == ErrorKind::InvalidSpec) {
    // The record exists but does not parse. husk replaces records by rename
    // and does not fsync them (state/store.cpp), so only a power loss on a
    // disk-backed root can leave one truncated, and no process or cgroup of
    // it survived the reboot. --force removes what is left.
    ctx.warn(fmt::format("delete --force: {}: removing the container's state without it",
                         o.error().message()));
    return dir.remove();
  }
  if (!o) return std::move(o).error();
  if (!force && !state::can_delete(o->status)) {
    return Error::make(ErrorKind::BadState, "cannot delete container {} that is not stopped: {}",
                       id, state::to_string(o->status));
  }
  auto mgr = TRY(load_cgroup(o->st));
  t.mark("lock");
  if (o->status != state::Status::Stopped) TRY_CTX(kill_init(*o, mgr.get()), "delete");
  t.mark("kill");
  return clean_up(ctx, dir, o->st, mgr.get(), saved_poststop(ctx, dir));
}

Status destroy_created(const Context &ctx, OwnedContainer &c) {
  // The lock again (start released it): a `delete --force` from elsewhere
  // may have won meanwhile.
  if (auto locked = c.dir.locked() ? Status() : c.dir.lock(); !locked) {
    if (locked.error().kind() == ErrorKind::NotFound) return {};
    return std::move(locked).error();
  }
  return clean_up(ctx, c.dir, c.st, c.cgroup.get(), c.poststop);
}

}  // namespace husk::lifecycle
