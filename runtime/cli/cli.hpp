// Shared pieces of the command line: global options (runc's, given before the
// verb), a small option parser that accepts runc/urfave spellings
// (--opt value, --opt=value, -opt value, -o value, combined bool flags),
// and error reporting that writes once to stderr and to --log.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace husk::cli {

enum class LogFormat : unsigned char { Text, Json };

struct GlobalOptions {
  std::string root;  // resolved: --root, else /run/husk (root) or $XDG_RUNTIME_DIR/husk
  std::optional<std::string> log;
  LogFormat log_format = LogFormat::Text;
  bool debug = false;
  bool systemd_cgroup = false;
  std::optional<bool> rootless;  // --rootless true|false|auto (nullopt = auto)
};

struct OptionSpec {
  const char* long_name;  // "pid-file"
  char short_name;        // 'p' or 0
  bool takes_value;
  bool repeatable = false;  // -e A -e B
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> values;  // by long name; flags hold "true"/"false"
  std::vector<std::string> positional;

  [[nodiscard]] bool flag(const std::string& name) const;
  [[nodiscard]] std::optional<std::string> value(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> all(const std::string& name) const;
};

// Parse the arguments after the verb. Unknown options are an InvalidArgument
// error naming the option ("flag provided but not defined: -x", runc's words).
// "--" ends option parsing. Options may follow positionals, as urfave allows.
Result<ParsedArgs> parse(std::span<const std::string> args, std::span<const OptionSpec> specs);

// Report an error once: stderr (text) and the --log file (json or text),
// in runc's shape. Returns the exit code to use (1).
int report(const GlobalOptions& g, const Error& e);
// Log a warning/info/debug line to --log (and stderr for warnings when no --log).
void log_line(const GlobalOptions& g, const char* level, const std::string& msg);

// One function per verb, one file per verb: runtime/cli/<verb>.cpp.
using VerbFn = int (*)(const GlobalOptions& g, std::span<const std::string> args);

}  // namespace husk::cli
