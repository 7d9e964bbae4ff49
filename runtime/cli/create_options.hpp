// The options create and run share (runc's spelling), and their conversion
// to lifecycle::CreateOptions.
#pragma once

#include <array>

#include "cli/cli.hpp"
#include "lifecycle/create.hpp"

namespace husk::cli {

inline constexpr std::array kCreateOptions{
    value_option("bundle", 'b', "DIR",
                 "the bundle: the directory holding config.json (default: the current directory)"),
    value_option("console-socket", 0, "PATH",
                 "unix socket to send the container's terminal master to (needs "
                 "process.terminal)"),
    value_option("pid-file", 0, "FILE", "write the container process's pid to FILE"),
    bool_option("no-pivot", 0,
                "enter the root filesystem by moving it over / and chroot instead of "
                "pivot_root (for a root on an initramfs; the host's root stays beneath)"),
    bool_option("no-new-keyring", 0,
                "keep the caller's session keyring instead of making a new one for the "
                "container"),
    value_option("preserve-fds", 0, "N",
                 "pass N more open file descriptors, from fd 3 on, to the container process"),
    value_option("pidfd-socket", 0, "PATH",
                 "unix socket to send a pidfd of the container process to"),
};

// From parsed arguments whose first positional is the container id.
Result<lifecycle::CreateOptions> create_options(const ParsedArgs& a);

}  // namespace husk::cli
