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
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "lifecycle/lifecycle.hpp"
#include "spec/config.hpp"

namespace husk::lifecycle {

// The CLI form's changes to config.json's process (runc's getProcess).
struct ExecOverrides {
  std::vector<std::string> args;        // required, non-empty
  std::optional<std::string> cwd;       // --cwd
  std::vector<std::string> env;         // --env/-e, appended (later entries win)
  std::optional<std::string> user;      // --user/-u "uid[:gid]"
  std::vector<std::string> extra_gids;  // --additional-gids/-g, appended
  std::vector<std::string> caps;     // --cap/-c: added to bounding, effective, permitted, ambient
  bool tty = false;                  // --tty/-t (config's terminal is ignored, as runc)
  std::optional<bool> no_new_privs;  // --no-new-privs
  std::optional<std::string> apparmor;       // --apparmor
  std::optional<std::string> process_label;  // --process-label
};

// config.json's process with the overrides applied. Errors name the flag.
Result<spec::Process> merge_exec_process(spec::Process base, const ExecOverrides& o);

// Environment with later duplicates of a name replacing earlier ones, in the
// position of the first (what runc's os.Setenv-based merge produces).
std::vector<std::string> dedupe_env(const std::vector<std::string>& env);

// --cgroup values: "path" (every hierarchy; only alone) or
// "ctrl[,ctrl]:path". Returns controller -> path relative to the container's
// cgroup ("" = every hierarchy not named otherwise). Paths may not leave the
// container's cgroup.
Result<std::map<std::string, std::string>> parse_sub_cgroups(
    const std::vector<std::string>& values);

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
