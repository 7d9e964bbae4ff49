// `create` (runtime.md "Operations", runc's command line): everything is
// planned and validated before the first side effect; from the state
// directory on, one rollback guard (kill init, destroy the
// cgroup, remove the state directory) undoes a failure at any later step.
// On success the init is blocked on exec.fifo, the state says "created",
// and husk exits: the init is reparented to the caller's subreaper.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "cgroup/cgroup.hpp"
#include "lifecycle/lifecycle.hpp"
#include "linux/protocol.hpp"
#include "spec/config.hpp"
#include "state/store.hpp"
#include "sys/fd.hpp"

namespace husk::lifecycle {

struct CreateOptions {
  std::string id;
  std::string bundle;  // empty: the current directory
  std::optional<std::string> pid_file;
  std::optional<std::string> console_socket;
  // --pidfd-socket: receives a pidfd of the init (SCM_RIGHTS) once it is set up.
  std::optional<std::string> pidfd_socket;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;  // fds 3 .. 3+N-1 (after any LISTEN_FDS ones)
  // `run` without --detach and without --console-socket: a connected socket
  // of run's own that receives the pty master when process.terminal is set
  // (ignored otherwise).
  int own_console = -1;
  // `run`: start follows at once, in this process. The init keeps its code
  // pages (trimming them only pays off while it waits), and create hands
  // over what start and delete would otherwise read back from the state
  // directory (CreatedInit::owned).
  bool start_follows = false;
};

// What create knows and `run` reuses instead of reading it back: the state
// directory (still locked: nothing can change between create and start),
// the record, the cgroup, and the hooks run after create.
struct OwnedContainer {
  state::ContainerDir dir;
  state::ContainerState st;
  std::unique_ptr<cgroup::Manager> cgroup;
  // Still connected to the init, which waits for Exec (no exec.fifo).
  linux_setup::protocol::ParentEnd channel;
  std::vector<spec::Hook> poststart;
  std::vector<spec::Hook> poststop;
};

// A created container whose init is husk's child (for `run`).
struct CreatedInit {
  pid_t pid = 0;
  sys::UniqueFd pidfd;
  bool terminal = false;                // process.terminal: a pty master went to the console socket
  std::optional<OwnedContainer> owned;  // with CreateOptions::start_follows
};

Result<CreatedInit> create(const Context& ctx, const CreateOptions& opts);

// The steps of create that only look, shared with `husk check`.
// The bundle directory (absolute, clean; "" is the current directory) and
// its config.json as read.
struct BundleText {
  std::string dir;
  std::string bytes;
};
Result<BundleText> read_bundle(const std::string& bundle);
// root.path: absolute, or relative to the bundle; a directory, symlinks
// resolved. Errors name root.path.
Result<std::string> resolve_rootfs(const std::string& bundle, const spec::Root& root);
// Valid configs husk does not implement (intelRdt, netDevices, ...), one
// Unsupported error each; create refuses the first.
std::vector<Error> unsupported_features(const spec::Config& cfg);

// Where create places the container's cgroup: linux.cgroupsPath, the id,
// the global options, the environment's overrides (cgroup::options_from_env).
// Also for delete after a create killed before it wrote its record.
Result<cgroup::Options> cgroup_options(const Context& ctx, const spec::Config& cfg,
                                       const std::string& id);

// `delete` of a container this process created (CreatedInit::owned) once
// its init is gone: cgroup, state directory, poststop hooks, as destroy()
// does, without reading the record and config back.
Status destroy_created(const Context& ctx, OwnedContainer& c);

}  // namespace husk::lifecycle
