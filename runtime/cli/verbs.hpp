// The verbs of the husk binary. Each is defined in runtime/cli/<verb>.cpp and
// listed once in main.cpp's dispatch table. A verb parses its own options with
// cli::parse, calls into runtime/lifecycle, and prints an error once through
// cli::report (returning its exit code).
#pragma once

#include <span>
#include <string>

#include "cli/cli.hpp"

namespace husk::cli {

int cmd_create(const GlobalOptions& g, std::span<const std::string> args);
int cmd_start(const GlobalOptions& g, std::span<const std::string> args);
int cmd_run(const GlobalOptions& g, std::span<const std::string> args);
int cmd_exec(const GlobalOptions& g, std::span<const std::string> args);
int cmd_state(const GlobalOptions& g, std::span<const std::string> args);
int cmd_kill(const GlobalOptions& g, std::span<const std::string> args);
int cmd_delete(const GlobalOptions& g, std::span<const std::string> args);
int cmd_list(const GlobalOptions& g, std::span<const std::string> args);
int cmd_ps(const GlobalOptions& g, std::span<const std::string> args);
int cmd_pause(const GlobalOptions& g, std::span<const std::string> args);
int cmd_resume(const GlobalOptions& g, std::span<const std::string> args);
int cmd_update(const GlobalOptions& g, std::span<const std::string> args);
int cmd_events(const GlobalOptions& g, std::span<const std::string> args);
int cmd_features(const GlobalOptions& g, std::span<const std::string> args);
int cmd_spec(const GlobalOptions& g, std::span<const std::string> args);
int cmd_check(const GlobalOptions& g, std::span<const std::string> args);

}  // namespace husk::cli
