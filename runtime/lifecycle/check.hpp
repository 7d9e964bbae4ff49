// `husk check`: everything wrong or suspicious in a bundle on this host, all
// at once, without creating anything (no state directory, cgroup, mount or
// process). The findings are create's own checks, each run on its own so
// that one failing does not hide the next: validation (every error, not the
// first), the plan stage (rootfs, namespaces, process, cgroup), plus what
// create passes over in silence (typo'd field names, syscalls libseccomp
// cannot resolve, capabilities newer than the kernel) and a lookup of
// process.args[0] inside the rootfs.
#pragma once

#include <string>

#include "base/result.hpp"
#include "lifecycle/lifecycle.hpp"
#include "spec/diagnostics.hpp"

namespace husk::lifecycle {

// Fails only when config.json cannot be read or is not a JSON object.
Result<spec::Diagnostics> check_bundle(const Context& ctx, const std::string& bundle);

}  // namespace husk::lifecycle
