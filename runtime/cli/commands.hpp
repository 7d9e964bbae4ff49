// The whole command line in one table: the global options and every verb
// (each verb's Command lives in its own file, runtime/cli/<verb>.cpp). The
// parser, --help, the man pages and the shell completions all read it.
//
// Adding a verb: write runtime/cli/<verb>.cpp defining `const Command
// k<Verb>Command`, declare it in verbs.hpp and add it to commands() in
// commands.cpp. Adding a flag: one OptionSpec line in the verb's table (or in
// kGlobalOptions for a global flag) and the code that reads it.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "cli/cli.hpp"

namespace husk::cli {

// Every verb, in the order `husk --help` lists them.
std::span<const Command* const> commands();
const Command* find_command(std::string_view name);

// The options given before the verb (runc's global flags).
std::span<const OptionSpec> global_options();

// `husk --help`.
std::string main_help();

// What husk(8) says about the program as a whole.
extern const char* const kProgramSummary;
extern const char* const kProgramDescription;
extern const char* const kProgramExamples;

}  // namespace husk::cli
