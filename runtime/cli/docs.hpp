// The man pages and shell completions, written from the command table
// (commands.hpp) by the hidden `husk __gen-docs DIR`, which the build runs
// after linking husk: nothing about a flag is written twice.
#pragma once

#include <string>

#include "base/result.hpp"
#include "cli/cli.hpp"

namespace husk::cli {

// husk(8): the program, its commands and global options (roff, man(7) macros).
std::string main_man_page();
// husk-VERB(8): NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXAMPLES, SEE ALSO.
std::string man_page(const Command& c);

// Completion scripts: verbs, each verb's flags and flag values, and the ids
// of existing containers (`husk list -q`, with the --root given).
std::string bash_completion();
std::string zsh_completion();
std::string fish_completion();

// DIR/man8/husk.8, DIR/man8/husk-VERB.8, DIR/completions/{husk.bash,_husk,husk.fish}.
Status write_docs(const std::string& dir);

}  // namespace husk::cli
