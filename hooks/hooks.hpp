// OCI hooks (config.md "POSIX-platform Hooks"): each hook is executed with the
// container state JSON on its stdin, in listed order, with an optional timeout.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::hooks {

enum class Kind : unsigned char {
  Prestart,
  CreateRuntime,
  CreateContainer,
  StartContainer,
  Poststart,
  Poststop
};

const char* name(Kind k);

// Run the hooks of one kind in order. Stops at the first failure and returns
// an error naming the hook kind, index and path (non-zero exit, signal,
// timeout, exec failure). The caller decides whether that is fatal
// (poststop only warns). Fork+exec from the calling process; it must be
// usable from the container's init (createContainer/startContainer) as well,
// so it uses no threads.
Status run(Kind kind, const std::vector<spec::Hook>& hooks, const std::string& state_json);

// Run every hook even when some fail, for poststop: a failure there is only
// a warning and the remaining hooks still run (config.md "poststop").
// Returns one error per failed hook, worded as run()'s, for the caller to
// print as warnings.
std::vector<Error> run_all(Kind kind, const std::vector<spec::Hook>& hooks,
                           const std::string& state_json);

}  // namespace husk::hooks
