// Admin-level hooks: hooks.d files in YAML, with the fields and matching
// rules of podman's oci-hooks(5) 1.0.0 schema. A file says which hook to add
// (an OCI hook entry), when (conditions on the container's config) and at
// which stages. Matching hooks are appended to the config's own hooks, so
// they run like them, after them, in file-name order. docs/hooks.md has the
// format for users.
#pragma once

#include <regex.h>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "hooks/hooks.hpp"
#include "spec/config.hpp"

namespace husk::hooks {

// A POSIX extended regular expression (regcomp(3), REG_EXTENDED), as
// oci-hooks(5) specifies, found anywhere in the subject (unanchored, like the
// Go MatchString podman calls). glibc's matcher is chosen over std::regex:
// libstdc++'s recurses once per subject character and overflows the stack
// on a long annotation value, which a container's author controls.
class Regex {
 public:
  // InvalidSpec naming the pattern and regerror(3)'s reason.
  static Result<Regex> compile(const std::string& pattern);
  // Whether the pattern occurs in s (which may hold NUL bytes).
  [[nodiscard]] Result<bool> search(std::string_view s) const;
  [[nodiscard]] const std::string& pattern() const { return pattern_; }

 private:
  std::shared_ptr<regex_t> re_;  // shared: a compiled regex_t cannot be copied
  std::string pattern_;
};

// `when`: every condition that is set must hold (oci-hooks(5) 1.0.0: "If all
// of the conditions set in when match").
struct When {
  std::optional<bool> always;  // holds only when true
  // Each pair must match (key and value) one annotation of the config.
  std::vector<std::pair<Regex, Regex>> annotations;
  std::vector<Regex> commands;          // one must match process.args[0]
  std::optional<bool> has_bind_mounts;  // holds only when true and a bind mount exists
};

struct HookFile {
  std::string name;  // as given to parse_hooks_d (the loader passes the path)
  spec::Hook hook;
  When when;
  std::vector<Kind> stages;  // in file order, no repeats
};

// One hooks.d file's text -> HookFile, or an InvalidSpec error naming the
// file and the field ("hooks.d file NAME: hook.path: ..."). Pure: no I/O,
// no exception escapes (yaml-cpp's are caught); a fuzzing entry point.
Result<HookFile> parse_hooks_d(std::string_view yaml, std::string_view name);

// Whether the file's conditions hold for this config.
Result<bool> matches(const When& w, const spec::Config& cfg);

// Append the hook of every matching file, in the given order, to the
// config's hooks at the file's stages. Returns whether anything was added.
Result<bool> inject(std::span<const HookFile> files, spec::Config& cfg);

// The directories read without --hooks-dir, lowest precedence first: a file
// in /etc/husk/hooks.d replaces one of the same name in /usr/share.
std::vector<std::string> default_hooks_dirs();

// Read every *.yaml file (dot files skipped) of dirs, the later directories
// replacing the earlier ones' files of the same name, and parse them all,
// sorted by file name (byte order). A missing directory is skipped when
// missing_ok (the defaults), else an error (a mistyped --hooks-dir).
Result<std::vector<HookFile>> load_hooks_d(std::span<const std::string> dirs, bool missing_ok);

}  // namespace husk::hooks
