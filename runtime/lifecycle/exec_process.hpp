// The process `exec` runs in its CLI form: config.json's "process" with
// runc's command-line overrides (runc's getProcess), the twin of create's
// process from the bundle. Pure; errors name the flag.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
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

}  // namespace husk::lifecycle
