#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <utility>

#include "lifecycle/lifecycle.hpp"
#include "linux/paths.hpp"
#include "spec/parse.hpp"
#include "spec/state_json.hpp"
#include "sys/proc.hpp"

namespace husk::lifecycle {

Result<state::StateStore> open_store(const Context &ctx) {
  return state::StateStore::open(ctx.root);
}

std::string seccomp_cache_dir() {
  if (::geteuid() == 0) return "/var/cache/husk/seccomp";
  const char *xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/husk/seccomp";
  const char *home = std::getenv("HOME");
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.cache/husk/seccomp";
  return {};
}

Result<std::string> absolute_path(const std::string &p) {
  if (!p.empty() && p[0] == '/') return linux_setup::clean_path(p);
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return Error::last("getcwd");
  return linux_setup::clean_path(std::string(cwd) + "/" + p);
}

Result<std::unique_ptr<cgroup::Manager>> load_cgroup(const state::ContainerState &st) {
  if (st.cgroup.empty()) return std::unique_ptr<cgroup::Manager>();
  return TRY_CTX(cgroup::Manager::load(st.cgroup), "cgroup of container {}", st.id);
}

Result<std::vector<spec::Hook>> saved_hooks(const state::ContainerDir &dir, std::string_view key,
                                            std::vector<spec::Hook> spec::Hooks::*which) {
  return saved_hooks(TRY(dir.read_config()), key, which);
}

Result<std::vector<spec::Hook>> saved_hooks(const std::string &config, std::string_view key,
                                            std::vector<spec::Hook> spec::Hooks::*which) {
  if (config.find(key) == std::string::npos) return std::vector<spec::Hook>{};
  auto cfg = TRY_CTX(spec::parse_config(config), "saved config");
  if (!cfg.hooks) return std::vector<spec::Hook>{};
  return std::move(*cfg.hooks.*which);
}

Result<Observed> observe(const state::ContainerDir &dir) {
  Observed o{TRY(dir.read_state()), {}, state::Status::Stopped};
  if (o.st.pid > 0) {
    auto ps = sys::read_proc_stat(o.st.pid);
    if (ps) {
      o.live.proc_start_time = ps->start_time;
      o.live.proc_is_zombie = ps->zombie_or_dead();
    } else if (ps.error().kind() != ErrorKind::NotFound) {
      return std::move(ps).error();
    }
  }
  // Only a live init can be paused; a dead one's cgroup may be gone already.
  // A create still at work has a live init (it fails when its init dies),
  // and maybe no cgroup yet. Nor does a dead init's exec.fifo matter: the
  // container is stopped (list skips the stat for each of them).
  bool alive = state::init_alive(o.st, o.live);
  if (alive) o.live.fifo_exists = TRY(dir.fifo_exists());
  if (alive) o.live.create_in_progress = TRY(dir.create_in_progress());
  if (alive && !o.live.create_in_progress) {
    auto mgr = TRY(load_cgroup(o.st));
    auto frozen = mgr ? mgr->frozen() : Result<bool>(false);
    // A delete at work may kill the init and remove the cgroup right after
    // the check above: its files are then gone (ENOENT), or, opened just
    // before the rmdir, answer ENODEV (kernfs, a removed node). Not frozen:
    // the status is what it was an instant ago, and the next look sees the
    // container stopped or gone.
    int err = frozen ? 0 : frozen.error().err();
    if (!frozen && frozen.error().kind() != ErrorKind::NotFound && err != ENOENT && err != ENODEV) {
      return std::move(frozen).error().wrap("container {}", o.st.id);
    }
    o.live.frozen = frozen.value_or(false);
  }
  o.status = state::derive_status(o.st, o.live);
  return o;
}

Result<std::string> state_json(const Context &ctx, std::string_view id) {
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(id));
  auto o = TRY(observe(dir));
  if (o.status == state::Status::Stopped) o.st.pid = 0;
  return spec::oci_state_json(o.st, state::to_string(o.status));
}

}  // namespace husk::lifecycle
