// Findings about a config gathered without stopping at the first one, for
// `husk check` (every problem at once) and for create (which still fails on
// the first error, with the same message as when it stopped there).
//
// A finding names its JSON path apart from its text. husk's InvalidSpec
// errors spell "PATH: text" (spec/json_read.hpp), so an Error recorded here
// is split at the first ": " outside a quoted map key; the Error itself is
// kept too, so the first one can be returned unchanged.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace husk::spec {

enum class Severity : unsigned char { Warning, Error };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string path;        // "linux.resources.memory.limit"; "" for the whole document
  std::string message;     // the text after the path
  std::string suggestion;  // "hostname" for a typo'd "hostnme"; "" when none
};

class Diagnostics {
 public:
  // Records s's error, if any; returns whether s was a success.
  bool take(const Status& s);
  void error(const Error& e);
  // path + message as given: for findings that are no Error of their own.
  void add(Severity sev, std::string path, std::string message, std::string suggestion = {});
  // A warning spelled "PATH: text", as validate() has always written them.
  void warning(std::string_view line);

  [[nodiscard]] bool has_errors() const { return first_error_.has_value(); }
  // The first error recorded, exactly as it was returned.
  [[nodiscard]] const std::optional<Error>& first_error() const { return first_error_; }
  [[nodiscard]] const std::vector<Diagnostic>& items() const { return items_; }
  // True when an error is recorded at `path` or at a path containing it
  // (a type error at "process" hides what validation says of process.args).
  [[nodiscard]] bool has_error_at_or_above(std::string_view path) const;
  // "PATH: message" of each warning, in order (create logs these).
  [[nodiscard]] std::vector<std::string> warning_lines() const;

 private:
  // Appends d unless the same finding is there already (two checks that
  // share a rule, e.g. validation and the cgroup plan, say it once).
  void push(Diagnostic d);

  std::vector<Diagnostic> items_;
  std::optional<Error> first_error_;
};

// One line of `husk check`'s text output:
// `error: linux.resources.memory.limit: must be ...`, with
// `; did you mean "hostname"?` after a suggestion.
std::string diagnostic_line(const Diagnostic& d);
// `husk check --format json`: {"findings": [{"severity", "path", "message",
// "suggestion"?}, ...]}, severity "error" or "warning".
std::string diagnostics_json(const Diagnostics& d);

// Splits "PATH: text" at the first ": " not inside a ["quoted key"].
// A line with no such separator is all text, with an empty path.
std::pair<std::string, std::string> split_path_message(std::string_view line);

// Levenshtein distance, capped: returns cap + 1 as soon as it is exceeded.
size_t edit_distance(std::string_view a, std::string_view b, size_t cap);

// The candidate `word` is most likely a typo of: within edit distance 2 (1
// for words of up to 4 letters) and not equal to it, ignoring case
// ("Hostname" -> "hostname"); the closest, the first among equals. nullopt
// when none is that close.
std::optional<std::string_view> near_miss(std::string_view word,
                                          std::span<const std::string_view> candidates);

}  // namespace husk::spec
