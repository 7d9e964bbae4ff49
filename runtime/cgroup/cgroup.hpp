// One interface over cgroup drivers. The implementation (v1 cgroupfs,
// v2 cgroupfs, later systemd) is chosen once, in Manager::create/load, from
// the host's mounts; callers never branch on the version.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::cgroup {

enum class Driver : unsigned char { V1, V2, None };

struct Options {
  // linux.cgroupsPath from config.json. Absolute: relative to each hierarchy's
  // root. Relative or empty: ALSO relative to the hierarchy root (never to the
  // caller's own cgroup); empty becomes "/husk/<id>".
  std::string cgroups_path;
  std::string id;
  bool systemd = false;  // --systemd-cgroup: explicit Unsupported error for now
  bool rootless = false;
  // For tests: override where hierarchies are looked up (default /sys/fs/cgroup).
  std::string mount_root = "/sys/fs/cgroup";
  // Force a driver (tests / HUSK_CGROUP_DRIVER); otherwise detected.
  std::optional<Driver> force_driver;
};

class Manager {
 public:
  virtual ~Manager() = default;

  // Plan the cgroup (no side effects): resolve paths, check requested resources
  // are supported by this driver (unsupported => ErrorKind::Unsupported).
  static Result<std::unique_ptr<Manager>> plan(const Options& opts,
                                               const spec::Resources* resources);
  // Re-open the cgroup of an existing container from ContainerState::cgroup.
  static Result<std::unique_ptr<Manager>> load(const std::string& serialized);

  [[nodiscard]] virtual Driver driver() const = 0;
  // Opaque string to store in ContainerState::cgroup.
  [[nodiscard]] virtual std::string serialize() const = 0;

  // Create the directories (mkdir -p under the hierarchy root). Records which
  // directories it created so destroy() removes only those.
  virtual Status create() = 0;
  virtual Status apply(const spec::Resources& r) = 0;  // write limits
  virtual Status add_pid(pid_t pid) = 0;                // move a task in
  virtual Status freeze() = 0;
  virtual Status thaw() = 0;
  virtual Result<bool> frozen() const = 0;
  virtual Result<std::vector<pid_t>> pids() const = 0;  // every process, recursively
  virtual Status kill_all(int sig) = 0;
  // Remove the cgroup directories this container owns (after its tasks are gone).
  virtual Status destroy() = 0;
  // Absolute path of the container's cgroup in the given controller hierarchy
  // (v2: unified path; controller ignored). Empty if not mounted.
  [[nodiscard]] virtual std::string path(const std::string& controller) const = 0;
};

}  // namespace husk::cgroup
