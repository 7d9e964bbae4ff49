// Parent cgroups husk created for a container (cgroupsPath /a/b/c makes /a/b
// too when it is missing) are shared by every later container below them, so
// the container that made one is often not the last to leave it. runc removes
// only a container's own directory and leaves such parents behind; husk
// records the parents it made in <root>/.cgroup-parents and, on delete, walks
// up from the container's directory removing recorded parents that are empty
// (rmdir(2) of a cgroup fails while it has children or tasks: a parent in use
// stays). A parent husk did not make is never in the record, never removed.
//
// The record is locked (flock) around cgroup creation in `create` and around
// destroy + prune in `delete`, so a parent is never removed between a
// concurrent create's mkdir of it and of its child.
#pragma once

#include <string>

#include "base/result.hpp"
#include "cgroup/cgroup.hpp"
#include "lifecycle/lifecycle.hpp"
#include "sys/fd.hpp"

namespace husk::lifecycle {

inline constexpr const char* kCgroupParentsFile = ".cgroup-parents";

class CgroupParents {
 public:
  // Open and exclusively lock <root>/.cgroup-parents (created if missing).
  // Do not hold it across clone: the lock belongs to the open file. Released
  // when destroyed, which removes the file if it lists nothing.
  static Result<CgroupParents> lock(const Context& ctx);
  CgroupParents(CgroupParents&&) = default;
  CgroupParents& operator=(CgroupParents&&) = delete;
  CgroupParents(const CgroupParents&) = delete;
  ~CgroupParents();

  // Add what mgr.create() made above the container's directories.
  Status remember(const cgroup::Manager& mgr);
  // After mgr.destroy(): remove the recorded, empty parents of its
  // directories, bottom up (those destroy() removed are only dropped from
  // the record). Failures are warnings.
  void prune(const Context& ctx, const cgroup::Manager& mgr);

 private:
  CgroupParents(sys::UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  sys::UniqueFd fd_;
  std::string path_;
};

}  // namespace husk::lifecycle
