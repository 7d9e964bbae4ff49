// The verbs of the husk binary. Each is defined in runtime/cli/<verb>.cpp as a
// Command (its options, documentation and handler) and listed once in
// commands.cpp. A verb's handler gets its parsed arguments, calls into
// runtime/lifecycle, and prints an error once through cli::report (returning
// its exit code).
#pragma once

#include "cli/cli.hpp"

namespace husk::cli {

extern const Command kCreateCommand;
extern const Command kStartCommand;
extern const Command kRunCommand;
extern const Command kExecCommand;
extern const Command kStateCommand;
extern const Command kKillCommand;
extern const Command kDeleteCommand;
extern const Command kListCommand;
extern const Command kPsCommand;
extern const Command kPauseCommand;
extern const Command kResumeCommand;
extern const Command kUpdateCommand;
extern const Command kEventsCommand;
extern const Command kFeaturesCommand;
extern const Command kSpecCommand;
extern const Command kCheckCommand;

}  // namespace husk::cli
