// The container lifecycle verbs husk's CLI maps onto (runtime.md
// "Operations"). One file per verb; each opens the StateStore, derives the
// status from the record plus live facts, checks it against the can_* table,
// then acts. create/start/run/exec live in their own files (helper "init").
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "cgroup/cgroup.hpp"
#include "spec/config.hpp"
#include "state/container_state.hpp"
#include "state/status.hpp"
#include "state/store.hpp"

namespace husk::lifecycle {

// What a verb needs from the global options, without depending on the CLI.
struct Context {
  std::string root;  // state directory root, absolute
  bool systemd_cgroup = false;
  std::optional<bool> rootless;  // nullopt = auto
  // --hooks-dir, lowest precedence first; empty = hooks::default_hooks_dirs().
  std::vector<std::string> hooks_dirs;
  // Sink for warnings/debug lines ("warning", "debug", ...); may be empty.
  std::function<void(const char* level, const std::string& msg)> log;
  bool debug_enabled = false;  // whether debug lines reach the log at all

  void warn(const std::string& msg) const {
    if (log) log("warning", msg);
  }
  void debug(const std::string& msg) const {
    if (log) log("debug", msg);
  }
};

Result<state::StateStore> open_store(const Context& ctx);

// Where compiled seccomp filters are cached: /var/cache/husk/seccomp for
// root, $XDG_CACHE_HOME/husk/seccomp (or ~/.cache/...) otherwise; empty when
// there is nowhere to put them (no cache then). Not in the state root, which
// holds containers only and is empty once the last one is deleted; the
// entries are keyed and checked by their full canonical form, so every root
// may share them.
std::string seccomp_cache_dir();

// A path from the command line (--bundle, --pid-file, sockets, --process)
// made absolute against the cwd and cleaned lexically, as Go's filepath.Abs
// does for runc: later steps may change directory, and messages show it.
Result<std::string> absolute_path(const std::string& p);

// A record together with what is live and the status derived from both.
struct Observed {
  state::ContainerState st;
  state::LiveFacts live;
  state::Status status = state::Status::Stopped;
};

// Read state.json and gather the live facts (/proc stat of init, exec.fifo,
// freezer state of the cgroup, whether a create still holds the lock).
Result<Observed> observe(const state::ContainerDir& dir);

// The cgroup of a container, or nullptr when it has none (empty record).
Result<std::unique_ptr<cgroup::Manager>> load_cgroup(const state::ContainerState& st);

// hooks.<which> of the container's saved config.json (`key` is its JSON
// name). The config is parsed only when its text holds the key at all: most
// configs have no hooks.
Result<std::vector<spec::Hook>> saved_hooks(const state::ContainerDir& dir, std::string_view key,
                                            std::vector<spec::Hook> spec::Hooks::*which);
// The same, from the saved config.json's text already read.
Result<std::vector<spec::Hook>> saved_hooks(const std::string& config, std::string_view key,
                                            std::vector<spec::Hook> spec::Hooks::*which);

// The runtime.md state of one container as JSON (`husk state ID`).
// A stopped container reports pid 0.
Result<std::string> state_json(const Context& ctx, std::string_view id);

struct ListEntry {
  state::ContainerState st;  // owner filled with the user name owning the state dir
  state::Status status = state::Status::Stopped;
};
// Every container with a readable record, sorted by id. Unreadable records
// are skipped with a warning.
Result<std::vector<ListEntry>> list(const Context& ctx);

// Signal init (all = every process in the container's cgroup). Created,
// running, paused; otherwise "container not running".
Status kill(const Context& ctx, std::string_view id, int sig, bool all);

// `delete`: stopped or created (init is killed) containers; others need
// force, which SIGKILLs and waits. Destroys the cgroup, removes the state
// directory, then runs poststop hooks from the saved config (failures warn).
// A missing container is an error unless force.
Status destroy(const Context& ctx, std::string_view id, bool force);

Status pause(const Context& ctx, std::string_view id);
Status resume(const Context& ctx, std::string_view id);

// Host pids of every process in the container's cgroup (empty when stopped).
Result<std::vector<pid_t>> pids(const Context& ctx, std::string_view id);
// `ps` table: run ps(1) with ps_args (default -ef) and keep the header plus
// the lines whose PID column is one of the container's pids.
Result<std::string> ps_table(const Context& ctx, std::string_view id,
                             const std::vector<std::string>& ps_args);

// Apply new cgroup limits to a created, running or paused container.
Status update(const Context& ctx, std::string_view id, const spec::Resources& r);

}  // namespace husk::lifecycle
