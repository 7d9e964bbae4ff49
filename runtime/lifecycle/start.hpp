// `start` (runtime.md "Operations").
#pragma once

#include <string_view>

#include "base/result.hpp"
#include "lifecycle/lifecycle.hpp"

namespace husk::lifecycle {

// Created -> running: open exec.fifo while watching the init's pidfd, so a
// dead init is an error rather than a hang; then poststart hooks (a failure
// kills the container and is an error, runtime-spec v1.3.0).
Status start(const Context& ctx, std::string_view id);

}  // namespace husk::lifecycle
