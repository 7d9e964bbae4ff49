// The bridge from command-line options to lifecycle: warnings and debug lines
// of lower layers go to --log (or stderr) through cli::log_line.
#pragma once

#include "cli/cli.hpp"
#include "lifecycle/lifecycle.hpp"

namespace husk::cli {

lifecycle::Context make_context(const GlobalOptions& g);

}  // namespace husk::cli
