// The options create and run share (runc's spelling), and their conversion
// to lifecycle::CreateOptions.
#pragma once

#include <span>

#include "cli/cli.hpp"
#include "lifecycle/create.hpp"

namespace husk::cli {

// --bundle/-b, --console-socket, --pid-file, --no-pivot, --no-new-keyring,
// --preserve-fds.
std::span<const OptionSpec> create_option_specs();
// From parsed arguments whose first positional is the container id.
Result<lifecycle::CreateOptions> create_options(const ParsedArgs& a);

}  // namespace husk::cli
