// `run`: create + start (+ wait), as runc's.
#pragma once

#include "base/result.hpp"
#include "lifecycle/create.hpp"

namespace husk::lifecycle {

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;
  bool no_subreaper = false;
};

// create + start, then (unless detach) wait in the foreground forwarding
// signals to the init; the exit code is the container's (128+N if killed by
// signal N). Without keep the container is deleted afterwards.
Result<int> run(const Context& ctx, const RunOptions& opts);

}  // namespace husk::lifecycle
