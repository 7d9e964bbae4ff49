// `exec` (runc's command line): run one more process in a live container.
//
// The new process is the container's config.json "process" with the
// command-line overrides (runc's CLI form), or a whole OCI "process" object
// from a file (--process, what conmon and containerd's shim send). It enters
// every namespace of the container's init, the init's root, the container's
// cgroup, and gets the container's seccomp filter, capabilities, rlimits and
// user, exactly as the init's process did (ProcessPlan, is_exec).
//
// Mechanics: husk points its pid_for_children at the init's pid namespace
// (setns(2) on a pidfd), clone3s the child there (a pid namespace holds only
// processes created inside it), moves it into the cgroup, then the child
// joins the remaining namespaces in one setns(pidfd, flags) call (the kernel
// enters the user namespace first, so the others are joined with the
// capabilities it grants), chroots to the init's root, applies the plan and
// execs. Setup errors come back over a SEQPACKET socketpair; the socket is
// close-on-exec, so its end-of-file after Ready means execve happened.
//
// Beside create's twins: the process (exec_process.hpp), --cgroup
// (exec_cgroup.hpp), the child (linux/exec_child.hpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "lifecycle/exec_process.hpp"
#include "lifecycle/lifecycle.hpp"

namespace husk::lifecycle {

struct ExecOptions {
  std::string id;
  std::optional<std::string> process_file;  // --process; else `overrides`
  ExecOverrides overrides;
  bool detach = false;
  std::optional<std::string> pid_file;
  std::optional<std::string> console_socket;
  std::optional<std::string> pidfd_socket;
  int preserve_fds = 0;
  std::vector<std::string> cgroups;  // --cgroup values
  bool ignore_paused = false;
};

// Created and running containers (paused ones with ignore_paused; the new
// process then stays frozen until `resume`). Returns husk's exit code:
// detached 0 once the program was exec'd; in the foreground the process's
// exit status (128+N for signal N), with signals forwarded and, for a
// terminal without --console-socket, the pty relayed to husk's stdio.
Result<int> exec(const Context& ctx, const ExecOptions& opts);

}  // namespace husk::lifecycle
