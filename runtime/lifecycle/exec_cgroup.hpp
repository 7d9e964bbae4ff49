// `exec --cgroup` (runc >= 1.1): the new process joins a sub-cgroup of the
// container's cgroup instead of the container's cgroup itself, per
// hierarchy. The twin of create's cgroup placement (cgroup_options,
// cgroup_parents.hpp): the container's cgroup is joined first, then these.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "state/container_state.hpp"

namespace husk::lifecycle {

// --cgroup values: "path" (every hierarchy; only alone) or
// "ctrl[,ctrl]:path". Returns controller -> path relative to the container's
// cgroup ("" = every hierarchy not named otherwise). Paths may not leave the
// container's cgroup.
Result<std::map<std::string, std::string>> parse_sub_cgroups(
    const std::vector<std::string>& values);

// The sub-cgroup directories the --cgroup `values` name in the container's
// cgroup, one per hierarchy that has one. Each must exist; a controller
// the container has no hierarchy for is an error.
Result<std::vector<std::string>> sub_cgroup_dirs(const state::ContainerState& st,
                                                 const std::vector<std::string>& values);

// Move `pid` into each of `dirs` (after it joined the container's cgroup).
Status join_sub_cgroups(const std::vector<std::string>& dirs, pid_t pid);

}  // namespace husk::lifecycle
