// Shared pieces of the command line: global options (runc's, given before the
// verb), a small option parser that accepts runc/urfave spellings
// (--opt value, --opt=value, -opt value, -o value, combined bool flags),
// and error reporting that writes once to stderr and to --log.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace husk::cli {

enum class LogFormat : unsigned char { Text, Json };

struct GlobalOptions {
  std::string root;  // resolved: --root, else /run/husk (root) or $XDG_RUNTIME_DIR/husk
  std::optional<std::string> log;  // absolute path
  LogFormat log_format = LogFormat::Text;
  bool debug = false;
  bool systemd_cgroup = false;
  std::optional<bool> rootless;         // --rootless true|false|auto (nullopt = auto)
  std::vector<std::string> hooks_dirs;  // --hooks-dir, repeatable, absolute; empty = defaults
};

// One option of the command line. The same entry drives the parser, `--help`,
// the man pages and the shell completions (runtime/cli/docs.cpp), so a flag
// cannot be accepted without being documented, nor documented without being
// accepted. Write entries with bool_option / value_option / list_option.
struct OptionSpec {
  const char* long_name;  // "pid-file"
  char short_name;        // 'p' or 0
  bool takes_value;
  bool repeatable = false;  // -e A -e B
  // What the value is, shown as `--bundle DIR`. Completions offer directories
  // for "DIR", files for "FILE" and "PATH", and the words of a choice
  // "table|json".
  const char* value_name = nullptr;
  const char* help = nullptr;  // one line, lower case, no full stop
};

constexpr OptionSpec bool_option(const char* name, char short_name, const char* help) {
  return {name, short_name, false, false, nullptr, help};
}
constexpr OptionSpec value_option(const char* name, char short_name, const char* value_name,
                                  const char* help) {
  return {name, short_name, true, false, value_name, help};
}
// A value option that may be given more than once (-e A -e B): every value kept.
constexpr OptionSpec list_option(const char* name, char short_name, const char* value_name,
                                 const char* help) {
  return {name, short_name, true, true, value_name, help};
}

// Two option tables as one (run = create's options + its own).
template <std::size_t N, std::size_t M>
constexpr std::array<OptionSpec, N + M> join_options(const std::array<OptionSpec, N>& a,
                                                     const std::array<OptionSpec, M>& b) {
  std::array<OptionSpec, N + M> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = a[i];
  for (std::size_t i = 0; i < M; ++i) out[N + i] = b[i];
  return out;
}

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>>
      values;  // by long name; flags hold "true"/"false"
  std::vector<std::string> positional;
  bool help = false;  // --help / -h before the first positional (unless a spec defines it)

  // A bool option: false when absent, else the last value given.
  [[nodiscard]] bool flag(const std::string& name) const;
  // The last value given for an option, nullopt when absent.
  [[nodiscard]] std::optional<std::string> value(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> all(const std::string& name) const;
  [[nodiscard]] bool has(const std::string& name) const { return values.count(name) != 0; }
};

enum class ArgOrder : unsigned char {
  // Options may follow positionals (urfave/cli reorders them): kill ID --all.
  Interleaved,
  // The first positional ends option parsing; everything after it is
  // positional: `exec ID sh -c x`, `ps ID -ef` (runc's SkipArgReorder verbs).
  StopAtPositional,
};

// Parse the arguments after the verb. Unknown options are an InvalidArgument
// error naming the option ("flag provided but not defined: -x", runc's words).
// "--" ends option parsing. A lone "-" is a positional.
// Spellings: --name, -name, --name=v, -name=v, --name v, -n v, -nv, -abc
// (combined single-letter bools; the last letter may take a value).
// Bool options take a value only with '=' (--detach=false), as Go's flag
// package: true/false/1/0/t/f/TRUE/FALSE/True/False.
Result<ParsedArgs> parse(std::span<const std::string> args, std::span<const OptionSpec> specs,
                         ArgOrder order = ArgOrder::Interleaved);

// Check the positional count, in runc's words:
// `"state" requires exactly 1 argument(s)`, `... a minimum of 1 argument(s)`.
Status expect_exactly(const ParsedArgs& a, std::string_view verb, std::size_t n);
Status expect_at_least(const ParsedArgs& a, std::string_view verb, std::size_t n);
Status expect_at_most(const ParsedArgs& a, std::string_view verb, std::size_t n);
// "true"/"false" etc. as Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view s);

// Report an error once: the plain message on stderr (what podman shows and
// containerd greps), plus one line in --log-format to the --log file when
// given (what containerd and conmon parse). Returns the exit code to use (1).
int report(const GlobalOptions& g, const Error& e);
// Log a line at "warning"/"info"/"debug" to --log, or to stderr when there is
// no --log. "debug" lines are dropped unless --debug.
void log_line(const GlobalOptions& g, const char* level, const std::string& msg);
// The line report/log_line write, without the trailing newline (for tests).
std::string format_log_line(LogFormat f, std::string_view level, std::string_view msg,
                            std::string_view time_rfc3339);

// Write all of data to fd, retrying short writes and EINTR.
Status write_all(int fd, std::string_view data);

// Write all of s to stdout.
void print_out(std::string_view s);

// What a verb's first operand is, for the shell completions.
enum class Operand : unsigned char {
  None,         // list, spec, features
  NewId,        // create, run: a name the user makes up
  ContainerId,  // an existing container (completed from `husk list -q`)
};

// A verb: its command line and its documentation, in one place. Each verb
// defines one in runtime/cli/<verb>.cpp; commands.cpp lists them. Everything
// about a verb that --help, the man page and the completions show comes from
// here.
struct Command {
  const char* name;     // "kill"
  const char* summary;  // one line for `husk --help` and the man page's NAME
  const char* usage;    // after "husk ": "kill [command options] <container-id> [signal]"
  // Paragraphs separated by a blank line; what the verb does, in full.
  const char* description;
  // Lines: "# what it does" then the command(s); groups separated by a blank line.
  const char* examples;
  std::span<const OptionSpec> options = {};
  std::size_t min_args = 1;
  std::size_t max_args = 1;  // SIZE_MAX = no limit
  ArgOrder order = ArgOrder::Interleaved;
  Operand operand = Operand::ContainerId;
  // Runs the verb on its parsed arguments; returns the exit code (an error
  // reported through report()).
  int (*run)(const GlobalOptions& g, const ParsedArgs& a) = nullptr;
};

// Parse a verb's arguments with its table and check the operand count, then
// run it. --help prints the verb's help (exit 0); a parse error is reported (1).
int run_command(const GlobalOptions& g, const Command& c, std::span<const std::string> args);

// `husk VERB --help`: usage, summary, description and the options, from the table.
std::string command_help(const Command& c);

// The option column of --help: "--bundle DIR, -b DIR" style names, one line
// each with its help text; implicit --help last when add_help.
std::string options_help(std::span<const OptionSpec> specs, bool add_help);

}  // namespace husk::cli
