// --pid-file, as supervisors read it (conmon with atoi, containerd's shim with
// strconv.Atoi): the bare number, no newline.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.hpp"

namespace husk::lifecycle {

// Written to "<path>.husk-tmp" and renamed over `path`, so a reader never
// sees it half-written.
Status write_pid_file(const std::string& path, pid_t pid);

}  // namespace husk::lifecycle
