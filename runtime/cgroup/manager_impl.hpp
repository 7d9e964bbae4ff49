// The cgroupfs drivers behind Manager. Internal to runtime/cgroup.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "cgroup/cgroup.hpp"
#include "cgroup/layout.hpp"
#include "sys/fd.hpp"

namespace husk::cgroup {

// What both cgroupfs drivers share: directory lifetime, membership, signals.
class FsManager : public Manager {
 public:
  explicit FsManager(Layout l) : l_(std::move(l)) {}

  // validate_resources, then the first of missing_controllers.
  [[nodiscard]] Status check(const spec::Resources& r) const final;

  [[nodiscard]] Driver driver() const override { return l_.driver; }
  [[nodiscard]] std::string serialize() const override { return serialize_layout(l_); }
  Status create() override;
  Status destroy() override;
  Status add_pid(pid_t pid) override;
  [[nodiscard]] Result<std::vector<pid_t>> pids() const override;
  Status kill_all(int sig) override;
  [[nodiscard]] std::string path(const std::string& controller) const override;
  [[nodiscard]] std::vector<std::string> leaf_dirs() const override;        // parents.cpp
  [[nodiscard]] std::vector<std::string> created_parents() const override;  // parents.cpp
  [[nodiscard]] std::vector<std::string> removed_parents() const override;  // parents.cpp

  [[nodiscard]] const Layout& layout() const { return l_; }

 protected:
  // Make h's directories (those missing of the cgroupsPath levels), counting
  // the ones made in h.created, and return the leaf opened.
  virtual Result<sys::UniqueFd> make_dirs(Hierarchy& h) = 0;
  // The hierarchy whose tree lists the container's processes.
  [[nodiscard]] virtual const Hierarchy& process_hierarchy() const = 0;
  [[nodiscard]] virtual bool can_freeze() const = 0;
  // Kill everything in one step if the kernel can (v2 cgroup.kill). false = cannot.
  virtual Result<bool> kill_all_at_once() { return false; }
  // After SIGKILL: thaw what thawing the leaf leaves frozen, so it can die.
  virtual Status thaw_subtree_for_kill() { return {}; }

  // The leaf directory of h (an element of l_.hierarchies), opened once and
  // then borrowed by every access: create() keeps what it made, a loaded
  // manager opens it on first use. Valid until destroy().
  [[nodiscard]] Result<int> open_leaf(const Hierarchy& h) const;
  // mkdir(2) of h's level `n` (1 = the first cgroupsPath component), making
  // missing levels above it first (mkdir fails with ENOENT then). Sets
  // h.created at the first level made. EEXIST is success.
  Status mkdir_level(Hierarchy& h, const std::vector<std::string>& comps, size_t n);
  // Write "+ctrl" to cgroup.subtree_control from the hierarchy root down to
  // the leaf's parent. Failures for `required` controllers are errors.
  [[nodiscard]] Status enable_controllers(const Hierarchy& h, const std::set<std::string>& wanted,
                                          const std::set<std::string>& required) const;
  // Available controllers of a cgroup2 hierarchy (its root's cgroup.controllers).
  [[nodiscard]] static Result<std::set<std::string>> available_controllers(const Hierarchy& h);

  Layout l_;

 private:
  // Parallel to l_.hierarchies; empty slots are opened on demand.
  mutable std::vector<sys::UniqueFd> leaf_fds_;
  std::vector<std::string> removed_parents_;
};

class V1Manager final : public FsManager {
 public:
  using FsManager::FsManager;
  [[nodiscard]] Result<std::vector<Error>> missing_controllers(
      const spec::Resources& r) const override;
  Status apply(const spec::Resources& r) override;
  Status freeze() override;
  Status thaw() override;
  [[nodiscard]] Result<bool> frozen() const override;
  [[nodiscard]] Result<Stats> stats() const override;  // stats_manager.cpp
  [[nodiscard]] Result<std::unique_ptr<OomWatch>> watch_oom() const override;

 protected:
  Result<sys::UniqueFd> make_dirs(Hierarchy& h) override;
  [[nodiscard]] const Hierarchy& process_hierarchy() const override;
  [[nodiscard]] bool can_freeze() const override { return l_.find("freezer") != nullptr; }

 private:
  // A new cpuset has no CPUs and no memory nodes: give the levels h lacks
  // them of its nearest ancestor that has them.
  Status inherit_cpuset(const Hierarchy& h, int leaf_fd) const;
  [[nodiscard]] Result<const Hierarchy*> hugetlb_fallback() const;
  Status apply_hugetlb(const std::vector<spec::HugepageLimit>& limits);
  Status set_freezer_state(const char* state);
  Status thaw_subtree_for_kill() override;
};

class V2Manager final : public FsManager {
 public:
  using FsManager::FsManager;
  [[nodiscard]] Result<std::vector<Error>> missing_controllers(
      const spec::Resources& r) const override;
  Status apply(const spec::Resources& r) override;
  Status freeze() override;
  Status thaw() override;
  [[nodiscard]] Result<bool> frozen() const override;
  [[nodiscard]] Result<Stats> stats() const override;  // stats_manager.cpp
  [[nodiscard]] Result<std::unique_ptr<OomWatch>> watch_oom() const override;

 protected:
  Result<sys::UniqueFd> make_dirs(Hierarchy& h) override;
  [[nodiscard]] const Hierarchy& process_hierarchy() const override { return l_.hierarchies.at(0); }
  [[nodiscard]] bool can_freeze() const override;
  Result<bool> kill_all_at_once() override;

 private:
  // Called for each directory from the hierarchy root (depth 0, parent_fd -1)
  // down to the leaf, right after it exists.
  Status prepare_level(int fd, size_t depth);
  Status set_frozen(bool frozen);
};

// The cgroupfs driver for l.driver (V1 or V2).
std::unique_ptr<FsManager> make_fs_manager(Layout l);

// rootless.cpp: the caller's delegated cgroups when it may write them all,
// else none at all, which only a config without limits accepts.
Result<std::unique_ptr<Manager>> plan_rootless(Layout l, const spec::Resources* resources);
// Unsupported naming the first field of r that only a cgroup could enforce.
Status require_no_limits(const spec::Resources& r, std::string_view why);

// The device rules apply() writes: none for a rootless caller's delegated
// cgroup, which refuses rules a user namespace would not enforce anyway.
Result<std::vector<DeviceRule>> device_rules(const Layout& l, const spec::Resources& r);
// The systemd driver (manager_systemd.cpp): plan for --systemd-cgroup, and
// load from a record whose layout names its unit.
Result<std::unique_ptr<Manager>> plan_systemd(const Options& opts,
                                              const spec::Resources* resources);
std::unique_ptr<Manager> load_systemd(Layout l);

// Sleep for the n-th poll of a wait loop: 1, 2, 4 ... capped at 20 ms.
void backoff_sleep(int attempt);

}  // namespace husk::cgroup
