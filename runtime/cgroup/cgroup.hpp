// One interface over cgroup drivers. The implementation (v1 cgroupfs,
// v2 cgroupfs, systemd) is chosen once, in Manager::plan/load, from
// the host's mounts; callers never branch on the version.
//
// Typical create sequence:
//   auto res = cgroup::container_resources(cfg.linux ? &*cfg.linux : nullptr);
//   auto opts = TRY(cgroup::options_from_env({.cgroups_path = ..., .id = id}));
//   auto cg = TRY(cgroup::Manager::plan(opts, &res));     // no side effects
//   TRY(cg->create());                // created_parents() now exact (lifecycle/cgroup_parents)
//   TRY(cg->apply(res)); ... TRY(cg->add_pid(init_pid));
//   state.cgroup = cg->serialize();   // what create() made, in the container's record
// Rollback / delete: cg->kill_all(SIGKILL), wait, cg->destroy().
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "cgroup/resources.hpp"
#include "cgroup/stats.hpp"
#include "spec/config.hpp"

namespace husk::cgroup {

enum class Driver : unsigned char { V1, V2, None };

struct Options {
  // linux.cgroupsPath from config.json. Absolute: relative to each hierarchy's
  // root. Relative or empty: ALSO relative to the hierarchy root (never to the
  // caller's own cgroup); empty becomes "/husk/<id>". ".." components and
  // paths containing "process_api" are rejected.
  std::string cgroups_path;
  std::string id;
  // --systemd-cgroup: a systemd unit owns the cgroup; cgroups_path is then
  // "slice:prefix:name" (systemd_unit.hpp).
  bool systemd = false;
  bool rootless = false;
  // Where hierarchies are looked up (default /sys/fs/cgroup). With
  // force_driver V2 this is the cgroup2 mount itself (e.g. /sys/fs/cgroup/unified).
  std::string mount_root = "/sys/fs/cgroup";
  // Force a driver (tests / HUSK_CGROUP_DRIVER); otherwise detected by statfs.
  std::optional<Driver> force_driver;
};

// The one place that reads the environment: HUSK_CGROUP_DRIVER=v1|v2 sets
// force_driver, HUSK_CGROUP_ROOT=<absolute dir> sets mount_root.
// InvalidArgument for other values.
Result<Options> options_from_env(Options base);

class Manager {
 public:
  virtual ~Manager() = default;

  // Plan the cgroup (no side effects): resolve paths, detect the driver,
  // validate `resources` and check this host can apply them (a missing
  // controller/feature => ErrorKind::Unsupported naming the field).
  static Result<std::unique_ptr<Manager>> plan(const Options& opts,
                                               const spec::Resources* resources);
  // Re-open the cgroup of an existing container from ContainerState::cgroup.
  static Result<std::unique_ptr<Manager>> load(const std::string& serialized);

  [[nodiscard]] virtual Driver driver() const = 0;
  // Opaque string to store in ContainerState::cgroup, after create(): it
  // says which directories create() made, for destroy() after load().
  [[nodiscard]] virtual std::string serialize() const = 0;

  // The plan-time checks of plan(), for `update`: validate + Unsupported
  // detection, without writing anything.
  [[nodiscard]] virtual Status check(const spec::Resources& r) const = 0;
  // Every controller the resources need that this host's hierarchies lack,
  // one Unsupported error each (check() fails with the first); `husk check`.
  [[nodiscard]] virtual Result<std::vector<Error>> missing_controllers(
      const spec::Resources& r) const = 0;

  // Create the directories (mkdir -p under each hierarchy root). Records which
  // directories it created so destroy() removes only those. On failure,
  // removes what it created.
  virtual Status create() = 0;
  // Write limits. Empty r.devices leaves device access alone (update).
  virtual Status apply(const spec::Resources& r) = 0;
  virtual Status add_pid(pid_t pid) = 0;  // move a task in (every hierarchy)
  virtual Status freeze() = 0;            // returns once frozen
  virtual Status thaw() = 0;
  [[nodiscard]] virtual Result<bool> frozen() const = 0;
  [[nodiscard]] virtual Result<std::vector<pid_t>> pids() const = 0;  // every process, recursively
  // Usage counters of every controller the container's cgroup has (events --stats).
  [[nodiscard]] virtual Result<Stats> stats() const = 0;
  // Unsupported when there is no memory controller to watch.
  [[nodiscard]] virtual Result<std::unique_ptr<OomWatch>> watch_oom() const = 0;
  // Signal every process in the cgroup tree (freezing it meanwhile, so no
  // new process escapes). SIGKILL also thaws a paused container so it dies.
  virtual Status kill_all(int sig) = 0;
  // Remove the cgroup directories this container created (after its tasks
  // are gone), including sub-cgroups made inside it. Retries EBUSY briefly.
  // Parents it created go too once empty (see removed_parents).
  virtual Status destroy() = 0;
  // The container's cgroup directory in every hierarchy (absolute).
  [[nodiscard]] virtual std::vector<std::string> leaf_dirs() const = 0;
  // Directories above the leaves that create() made (absolute, deepest first):
  // parents that may be shared with later containers (lifecycle/cgroup_parents).
  [[nodiscard]] virtual std::vector<std::string> created_parents() const = 0;
  // The parents of created_parents() that the last destroy() removed, so
  // that the registry forgets them without trying them again.
  [[nodiscard]] virtual std::vector<std::string> removed_parents() const = 0;
  // Absolute path of the container's cgroup in the given controller hierarchy
  // (v2: unified path; controller ignored). Empty if not mounted.
  [[nodiscard]] virtual std::string path(const std::string& controller) const = 0;
};

}  // namespace husk::cgroup
