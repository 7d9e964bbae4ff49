// `start` (runtime.md "Operations").
#pragma once

#include <sys/types.h>

#include <string_view>

#include "base/result.hpp"
#include "lifecycle/create.hpp"
#include "lifecycle/lifecycle.hpp"

namespace husk::lifecycle {

// Created -> running: open exec.fifo while watching the init's pidfd, so a
// dead init is an error rather than a hang; then poststart hooks (a failure
// kills the container and is an error, runtime-spec v1.3.0). With
// NOTIFY_SOCKET set (see notify.hpp), then wait for the container's READY and
// forward it with MAINPID=notify_mainpid (0: the init's pid).
Status start(const Context& ctx, std::string_view id, pid_t notify_mainpid = 0);

// The same for the container this process just created (`run`): the state
// directory is still locked since create, so its record, config and init
// need not be read back; the lock is released once the program runs.
Status start_created(CreatedInit& init, pid_t notify_mainpid);

}  // namespace husk::lifecycle
