// Shared pieces of the command line: global options (runc's, given before the
// verb), a small option parser that accepts runc/urfave spellings
// (--opt value, --opt=value, -opt value, -o value, combined bool flags),
// and error reporting that writes once to stderr and to --log.
#pragma once

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

struct OptionSpec {
  const char* long_name;  // "pid-file"
  char short_name;        // 'p' or 0
  bool takes_value;
  bool repeatable = false;  // -e A -e B
};

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

// Print a verb's usage to stdout ("Usage: husk <usage>" and its options). Returns 0.
int print_usage(std::string_view usage, std::span<const OptionSpec> specs);

// Write all of s to stdout.
void print_out(std::string_view s);

// A verb's command line: name, usage line, options, positional count.
struct VerbSpec {
  const char* name;   // "state"
  const char* usage;  // "state <container-id>"
  std::span<const OptionSpec> options;
  std::size_t min_args = 1;
  std::size_t max_args = 1;  // SIZE_MAX = no limit
  ArgOrder order = ArgOrder::Interleaved;
};
// Parse and check a verb's arguments. nullopt means the verb is done and
// must return *exit_code: usage printed for --help (0), or an error reported (1).
std::optional<ParsedArgs> parse_verb(const GlobalOptions& g, std::span<const std::string> args,
                                     const VerbSpec& v, int* exit_code);

// One function per verb, one file per verb: runtime/cli/<verb>.cpp (see verbs.hpp).
using VerbFn = int (*)(const GlobalOptions& g, std::span<const std::string> args);

}  // namespace husk::cli
