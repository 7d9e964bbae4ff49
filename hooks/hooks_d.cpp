#include "hooks/hooks_d.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <exception>

namespace husk::hooks {

namespace {

// glibc's regcomp expands repetition by copying the repeated subtree: `x+`
// becomes `xx*`, `x{n,m}` m copies of x. Stacked or nested repetitions
// multiply, so a 60-byte pattern like `c+++...+` asks for 2^50 nodes and
// regcomp allocates until the process dies (found by fuzz_hooks_d). Loops
// nested in loops cost time instead: the epsilon closures regcomp computes
// grow with each level (`.*` under nine `+`: 0.1 s; ten: 0.9 s; twelve, 40 s
// under ASan). This walks the ERE once and bounds both; real hook patterns
// are far inside (an anchored name, a `.*`, a `{1,253}`).
constexpr size_t kMaxReNodes = 4096;
constexpr unsigned kMaxReLoopDepth = 4;

size_t times(size_t a, size_t b) {
  return (b != 0 && a > kMaxReNodes / b) ? kMaxReNodes + 1 : a * b;
}

// A piece of the pattern: the nodes glibc builds for it, and how deeply
// unbounded repetitions (`*`, `+`, `{n,}`) nest inside it.
struct Piece {
  size_t nodes = 0;
  unsigned loops = 0;
};

// A repetition operator at p[i]: the copies it makes of its atom, whether it
// loops, and i moved past it; nullopt when p[i] is `{` that does not start
// an interval `{n}`, `{n,}` or `{n,m}` (glibc reads it as a literal or
// refuses the pattern).
struct Repeat {
  size_t copies;
  bool loops;
};
std::optional<Repeat> repetition(std::string_view p, size_t& i) {
  char c = p[i];
  if (c != '{') {
    ++i;
    return Repeat{c == '+' ? size_t{2} : size_t{1}, c != '?'};
  }
  size_t j = i + 1;
  auto number = [&](size_t& out) {
    size_t start = j;
    out = 0;
    while (j < p.size() && p[j] >= '0' && p[j] <= '9')
      out = std::min<size_t>(out * 10 + (p[j++] - '0'), 1U << 20);
    return j > start;
  };
  size_t lo = 0;
  size_t hi = 0;
  bool open = false;
  if (!number(lo)) return std::nullopt;
  hi = lo;
  if (j < p.size() && p[j] == ',') {
    ++j;
    open = !number(hi);
    if (open) hi = lo + 1;  // {n,}: n copies and a star
  }
  if (j >= p.size() || p[j] != '}') return std::nullopt;
  i = j + 1;
  return Repeat{std::max<size_t>({lo, hi, 1}), open};
}

// The end of a bracket expression starting at p[i] ('['): `]` first (after
// an optional `^`) is a member, and [:class:], [=e=], [.c.] hold brackets.
size_t bracket_end(std::string_view p, size_t i) {
  size_t j = i + 1;
  if (j < p.size() && p[j] == '^') ++j;
  if (j < p.size() && p[j] == ']') ++j;
  while (j < p.size() && p[j] != ']') {
    if (p[j] == '[' && j + 1 < p.size() &&
        (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.')) {
      size_t close = p.find(std::string{p[j + 1], ']'}, j + 2);
      j = close == std::string_view::npos ? p.size() : close + 2;
    } else {
      ++j;
    }
  }
  return std::min(j + 1, p.size());
}

void add(Piece& group, const Piece& part) {
  group.nodes = std::min(group.nodes + part.nodes, kMaxReNodes + 1);
  group.loops = std::max(group.loops, part.loops);
}

// Checks the pattern's size and loop depth, and refuses back-references:
// `\1` is a glibc extension to ERE (POSIX has none), and matching one is
// exponential in the subject, which a container's author controls.
Result<void> bounded(std::string_view p) {
  std::vector<Piece> groups{Piece{}};  // each open group, so far
  std::optional<Piece> last;           // the atom a repetition applies to
  for (size_t i = 0; i < p.size() && groups.front().nodes <= kMaxReNodes;) {
    char c = p[i];
    Piece atom{1, 0};
    if (c == '*' || c == '?' || c == '+' || c == '{') {
      std::optional<Repeat> r = repetition(p, i);
      if (r && last) {
        // The atom is already counted in its group: add the other copies.
        Piece grown{times(last->nodes, r->copies), last->loops + (r->loops ? 1U : 0U)};
        add(groups.back(), Piece{grown.nodes - last->nodes, grown.loops});
        last = grown;
        continue;
      }
      if (!r) ++i;
    } else if (c == '\\' && i + 1 < p.size()) {
      if (p[i + 1] >= '1' && p[i + 1] <= '9')
        return Error::spec("back-reference \\{} is not part of POSIX extended regular expressions",
                           p[i + 1]);
      i += 2;
    } else if (c == '[') {
      i = bracket_end(p, i);
    } else if (c == '(') {
      groups.emplace_back();
      last.reset();
      ++i;
      continue;
    } else if (c == ')' && groups.size() > 1) {
      atom = groups.back();
      atom.nodes += 1;
      groups.pop_back();
      ++i;
    } else if (c == '|' || c == '^' || c == '$') {
      add(groups.back(), atom);
      last.reset();
      ++i;
      continue;
    } else {
      ++i;
    }
    add(groups.back(), atom);
    last = atom;
  }
  Piece all;
  for (const Piece& g : groups) add(all, g);
  if (all.nodes > kMaxReNodes)
    return Error::spec("too complex: its repetitions expand to more than {} nodes", kMaxReNodes);
  if (all.loops > kMaxReLoopDepth)
    return Error::spec("too complex: repetitions (*, +, {{n,}}) nested more than {} deep",
                       kMaxReLoopDepth);
  return {};
}

}  // namespace

Result<Regex> Regex::compile(const std::string& pattern) {
  // regcomp(3) reads a C string: a NUL would silently cut the pattern short.
  if (pattern.find('\0') != std::string::npos) {
    return Error::spec("regular expression {:?} holds a NUL byte", pattern);
  }
  TRY_CTX(bounded(pattern), "regular expression {:?}", pattern);
  auto compiled = std::make_unique<regex_t>();
  int rc = ::regcomp(compiled.get(), pattern.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    // No regfree: after a failed regcomp POSIX leaves it undefined.
    std::array<char, 256> why{};
    ::regerror(rc, compiled.get(), why.data(), why.size());
    return Error::spec("invalid POSIX extended regular expression {:?}: {}", pattern, why.data());
  }
  std::shared_ptr<regex_t> re(compiled.release(), [](regex_t* r) {
    ::regfree(r);
    delete r;  // NOLINT(cppcoreguidelines-owning-memory): from make_unique above
  });
  Regex out;
  out.re_ = std::move(re);
  out.pattern_ = pattern;
  return out;
}

Result<bool> Regex::search(std::string_view s) const {
  if (s.size() > static_cast<size_t>(INT_MAX)) return Error::spec("subject too long to match");
  // REG_STARTEND (a BSD and glibc extension): the subject is [0, size), so
  // a NUL inside an annotation value is a character, not its end.
  regmatch_t range{0, static_cast<regoff_t>(s.size())};
  int rc = ::regexec(re_.get(), s.data(), 1, &range, REG_STARTEND);
  if (rc == 0) return true;
  if (rc == REG_NOMATCH) return false;
  return Error::make(ErrorKind::Sys, "match {:?}: regexec failed ({})", pattern_, rc);
}

namespace {

using YAML::Node;

// A field is absent when missing or null (`key:` or `key: ~`), as a JSON
// null is for config.json.
bool present(const Node& n) { return n.IsDefined() && !n.IsNull(); }

Result<std::string> scalar(const Node& n, std::string_view field) {
  if (!n.IsScalar()) return Error::spec("{}: must be a string", field);
  return n.Scalar();
}

Result<std::vector<std::string>> scalars(const Node& n, std::string_view field) {
  if (!n.IsSequence()) return Error::spec("{}: must be a list of strings", field);
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) {
    out.push_back(TRY(scalar(n[i], fmt::format("{}[{}]", field, i))));
  }
  return out;
}

Result<bool> boolean(const Node& n, std::string_view field) {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
    return Error::spec("{}: must be true or false", field);
  }
  return b;
}

Result<spec::Hook> parse_hook(const Node& n) {
  if (!present(n) || !n.IsMap())
    return Error::spec("hook: required, a mapping with at least `path`");
  spec::Hook h;
  if (!present(n["path"])) return Error::spec("hook.path: required");
  h.path = TRY(scalar(n["path"], "hook.path"));
  if (h.path.empty() || h.path[0] != '/') {
    return Error::spec("hook.path: must be an absolute path, got {:?}", h.path);
  }
  if (present(n["args"])) h.args = TRY(scalars(n["args"], "hook.args"));
  if (present(n["env"])) h.env = TRY(scalars(n["env"], "hook.env"));
  if (present(n["timeout"])) {
    int32_t t = 0;
    const Node& tn = n["timeout"];
    if (!tn.IsScalar() || !YAML::convert<int32_t>::decode(tn, t) || t <= 0) {
      return Error::spec("hook.timeout: must be a whole number of seconds > 0");
    }
    h.timeout = t;
  }
  return h;
}

Result<std::vector<std::pair<Regex, Regex>>> parse_annotations(const Node& n) {
  if (!n.IsMap()) return Error::spec("when.annotations: must be a mapping of regex: regex");
  std::vector<std::pair<Regex, Regex>> out;
  for (const auto& kv : n) {
    std::string key = TRY(scalar(kv.first, "when.annotations key"));
    std::string field = fmt::format("when.annotations[{:?}]", key);
    Regex k = TRY_CTX(Regex::compile(key), "{} (key)", field);
    std::string value = TRY(scalar(kv.second, field));
    Regex v = TRY_CTX(Regex::compile(value), "{}", field);
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

Result<When> parse_when(const Node& n) {
  if (!present(n) || !n.IsMap()) return Error::spec("when: required, a mapping of conditions");
  When w;
  if (present(n["always"])) w.always = TRY(boolean(n["always"], "when.always"));
  if (present(n["hasBindMounts"])) {
    w.has_bind_mounts = TRY(boolean(n["hasBindMounts"], "when.hasBindMounts"));
  }
  if (present(n["annotations"])) w.annotations = TRY(parse_annotations(n["annotations"]));
  if (present(n["commands"])) {
    auto cmds = TRY(scalars(n["commands"], "when.commands"));
    for (size_t i = 0; i < cmds.size(); ++i) {
      w.commands.push_back(TRY_CTX(Regex::compile(cmds[i]), "when.commands[{}]", i));
    }
  }
  // oci-hooks(5): at least one condition must be specified.
  if (!w.always && !w.has_bind_mounts && w.annotations.empty() && w.commands.empty()) {
    return Error::spec("when: sets no condition (always, annotations, commands, hasBindMounts)");
  }
  return w;
}

constexpr std::array kAllKinds{Kind::Prestart,       Kind::CreateRuntime, Kind::CreateContainer,
                               Kind::StartContainer, Kind::Poststart,     Kind::Poststop};

Result<std::vector<Kind>> parse_stages(const Node& n) {
  if (!present(n)) return Error::spec("stages: required");
  auto names = TRY(scalars(n, "stages"));
  if (names.empty()) return Error::spec("stages: must list at least one stage");
  std::vector<Kind> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto* k = std::find_if(kAllKinds.begin(), kAllKinds.end(),
                                 [&](Kind c) { return names[i] == name(c); });
    if (k == kAllKinds.end()) {
      return Error::spec(
          "stages[{}]: unknown stage {:?} (prestart, createRuntime, createContainer, "
          "startContainer, poststart, poststop)",
          i, names[i]);
    }
    if (std::find(out.begin(), out.end(), *k) == out.end()) out.push_back(*k);
  }
  return out;
}

Result<HookFile> parse_root(const Node& root) {
  if (!root.IsMap()) return Error::spec("not a YAML mapping (version, hook, when, stages)");
  if (!present(root["version"])) return Error::spec("version: required (\"1.0.0\")");
  std::string version = TRY(scalar(root["version"], "version"));
  if (version != "1.0.0") {
    return Error::spec("version: unsupported {:?} (husk reads \"1.0.0\")", version);
  }
  HookFile f;
  f.hook = TRY(parse_hook(root["hook"]));
  f.when = TRY(parse_when(root["when"]));
  f.stages = TRY(parse_stages(root["stages"]));
  return f;
}

bool has_bind_mount(const spec::Config& cfg) {
  return std::any_of(cfg.mounts.begin(), cfg.mounts.end(), [](const spec::Mount& m) {
    if (m.type == "bind") return true;
    return std::any_of(m.options.begin(), m.options.end(),
                       [](const std::string& o) { return o == "bind" || o == "rbind"; });
  });
}

Result<bool> any_annotation(const std::pair<Regex, Regex>& want, const spec::Config& cfg) {
  for (const auto& [k, v] : cfg.annotations) {
    if (TRY(want.first.search(k)) && TRY(want.second.search(v))) return true;
  }
  return false;
}

Result<bool> any_command(const std::vector<Regex>& cmds, const spec::Config& cfg) {
  if (!cfg.process || cfg.process->args.empty()) return false;
  for (const auto& re : cmds) {
    if (TRY(re.search(cfg.process->args[0]))) return true;
  }
  return false;
}

std::vector<spec::Hook>& stage_list(spec::Hooks& h, Kind k) {
  switch (k) {
    case Kind::Prestart:
      return h.prestart;
    case Kind::CreateRuntime:
      return h.create_runtime;
    case Kind::CreateContainer:
      return h.create_container;
    case Kind::StartContainer:
      return h.start_container;
    case Kind::Poststart:
      return h.poststart;
    case Kind::Poststop:
      break;
  }
  return h.poststop;
}

// yaml-cpp reports by exceptions (syntax, nesting too deep): none leaves here.
Result<HookFile> parse_guarded(std::string_view yaml) {
  try {
    return parse_root(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return Error::spec("YAML: {}", e.msg);
    return Error::spec("YAML line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg);
  } catch (const std::exception& e) {  // std::bad_alloc and the like
    return Error::spec("{}", e.what());
  }
}

}  // namespace

Result<HookFile> parse_hooks_d(std::string_view yaml, std::string_view name) {
  auto out = parse_guarded(yaml);
  if (!out) return std::move(out).error().wrap("hooks.d file {}", name);
  out->name = std::string(name);
  return out;
}

Result<bool> matches(const When& w, const spec::Config& cfg) {
  if (w.always && !*w.always) return false;
  if (w.has_bind_mounts && !(*w.has_bind_mounts && has_bind_mount(cfg))) return false;
  for (const auto& a : w.annotations) {
    if (!TRY(any_annotation(a, cfg))) return false;
  }
  if (!w.commands.empty() && !TRY(any_command(w.commands, cfg))) return false;
  return true;
}

Result<bool> inject(std::span<const HookFile> files, spec::Config& cfg) {
  bool added = false;
  for (const auto& f : files) {
    if (!TRY_CTX(matches(f.when, cfg), "hooks.d file {}", f.name)) continue;
    if (!cfg.hooks) cfg.hooks.emplace();
    for (Kind k : f.stages) stage_list(*cfg.hooks, k).push_back(f.hook);
    added = true;
  }
  return added;
}

}  // namespace husk::hooks
