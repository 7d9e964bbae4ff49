// The identity and limits of a container process (init or exec): user and
// groups, rlimits, capabilities (all five sets, explicitly), no_new_privs,
// umask, oomScoreAdj, and the seccomp filter (compiled in the parent, loaded
// last). Planned in the parent; applied in the child right before execve.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::linux_setup {

struct ProcessPlan;  // defined in process.cpp

struct ProcessPlanDeleter {
  void operator()(ProcessPlan* p) const;
};
using ProcessPlanPtr = std::unique_ptr<ProcessPlan, ProcessPlanDeleter>;

// Validate process.* and linux.seccomp; compile the seccomp filter to BPF here
// (in the parent) so the child only calls prctl/seccomp. `seccomp` may be null.
Result<ProcessPlanPtr> plan_process(const spec::Process& proc, const spec::Seccomp* seccomp);

// In the child, in the container's namespaces, after pivot_root. Order:
// oomScoreAdj, rlimits, umask, groups/gid/uid (keeping capabilities across the
// uid change), the five capability sets, no_new_privs, chdir(cwd) and the
// check that cwd is inside the root. Does NOT load seccomp or exec.
Status apply_process(const ProcessPlan& plan);

// Last steps: load the seccomp filter (if any) and execve the program
// (args[0] looked up in the PATH of process.env, as execvp). Returns only on
// failure, with runc's wording ("exec: \"x\": executable file not found in $PATH").
Status exec_process(const ProcessPlan& plan);

}  // namespace husk::linux_setup
