// hooks.d files: parsing (every field and every way a file can be wrong),
// matching (oci-hooks(5) 1.0.0: all set conditions must hold), injection
// order, and the directory loader's precedence.
#include "hooks/hooks_d.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "spec/config_edit.hpp"
#include "spec/parse.hpp"
#include "test_util.hpp"

using husk::hooks::HookFile;
using husk::hooks::Kind;
using husk::hooks::parse_hooks_d;
using husk::test::TempDir;

namespace {

const std::string kMinimal = R"(
version: 1.0.0
hook:
  path: /usr/bin/gpu-hook
when:
  always: true
stages: [prestart]
)";

HookFile parse_ok(const std::string& yaml) {
  auto f = parse_hooks_d(yaml, "/etc/husk/hooks.d/10-test.yaml");
  INFO((f ? std::string() : f.error().message()));
  REQUIRE(f);
  return std::move(*f);
}

// The message of a parse that must fail; it always names the file.
std::string parse_error(const std::string& yaml) {
  auto f = parse_hooks_d(yaml, "/etc/husk/hooks.d/10-bad.yaml");
  REQUIRE_FALSE(f);
  std::string msg = f.error().message();
  CHECK(msg.find("hooks.d file /etc/husk/hooks.d/10-bad.yaml") != std::string::npos);
  return msg;
}

husk::spec::Config config(const std::string& extra = "") {
  auto c = husk::spec::parse_config(R"({"ociVersion":"1.2.0","process":{"args":["/bin/sh","-c"],)"
                                    R"("cwd":"/"},"root":{"path":"rootfs"})" +
                                    extra + "}");
  INFO((c ? std::string() : c.error().message()));
  REQUIRE(c);
  return std::move(*c);
}

bool match(const std::string& when_yaml, const husk::spec::Config& cfg) {
  HookFile f =
      parse_ok("version: 1.0.0\nhook: {path: /h}\nstages: [poststop]\nwhen:\n" + when_yaml);
  auto m = husk::hooks::matches(f.when, cfg);
  REQUIRE(m);
  return *m;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string file_with_arg(const std::string& arg) {
  return "version: 1.0.0\nhook: {path: /h, args: [h, " + arg +
         "]}\nwhen: {always: true}\nstages: [poststop]\n";
}

}  // namespace

TEST_CASE("hooks.d: a full file parses into the hook, conditions and stages", "[hooks_d]") {
  HookFile f = parse_ok(R"(
version: "1.0.0"
hook:
  path: /usr/bin/log-hook
  args: [log-hook, --verbose]
  env: [LEVEL=debug]
  timeout: 5
when:
  annotations:
    "^com\\.example\\.log$": "^(yes|on)$"
  commands: ["sh$", "^/usr/bin/python"]
  hasBindMounts: true
stages: [createRuntime, poststop, createRuntime]
)");
  CHECK(f.name == "/etc/husk/hooks.d/10-test.yaml");
  CHECK(f.hook.path == "/usr/bin/log-hook");
  CHECK(f.hook.args == std::vector<std::string>{"log-hook", "--verbose"});
  CHECK(f.hook.env == std::vector<std::string>{"LEVEL=debug"});
  CHECK(f.hook.timeout == 5);
  REQUIRE(f.when.annotations.size() == 1);
  CHECK(f.when.annotations[0].first.pattern() == "^com\\.example\\.log$");
  CHECK(f.when.commands.size() == 2);
  CHECK(f.when.has_bind_mounts == true);
  CHECK_FALSE(f.when.always);
  CHECK(f.stages == std::vector<Kind>{Kind::CreateRuntime, Kind::Poststop});
}

TEST_CASE("hooks.d: every stage name of the runtime spec is accepted", "[hooks_d]") {
  HookFile f = parse_ok(
      "version: 1.0.0\nhook: {path: /h}\nwhen: {always: true}\nstages: [prestart, "
      "createRuntime, createContainer, startContainer, poststart, poststop]\n");
  CHECK(f.stages.size() == 6);
}

// kMinimal with `from` replaced by `to` (to "" removes it).
std::string edited(const std::string& from, const std::string& to) {
  std::string s = kMinimal;
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

TEST_CASE("hooks.d: bad files name the field at fault", "[hooks_d]") {
  const std::string path = "  path: /usr/bin/gpu-hook\n";
  const std::string always = "  always: true\n";
  struct Case {
    std::string yaml;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"version: 1.0.0\nhook: [unclosed\n", "YAML line"},
      {"", "not a YAML mapping"},
      {"- a\n- b\n", "not a YAML mapping"},
      {edited("version: 1.0.0\n", ""), "version: required"},
      {edited("1.0.0", "0.1.0"), "version: unsupported"},
      {edited("1.0.0", "[1]"), "version: must be a string"},
      {edited(path, "  args: [a]\n"), "hook.path: required"},
      {edited("/usr/bin/gpu-hook", "bin/gpu-hook"),
       "hook.path: must be an absolute path, got \"bin/gpu-hook\""},
      {edited("/usr/bin/gpu-hook", "{a: b}"), "hook.path: must be a string"},
      {edited(path, path + "  args: x\n"), "hook.args: must be a list of strings"},
      {edited(path, path + "  env: [[A]]\n"), "hook.env[0]: must be a string"},
      {edited(path, path + "  timeout: 0\n"), "hook.timeout: must be a whole number"},
      {edited(path, path + "  timeout: -3\n"), "hook.timeout: must be a whole number"},
      {edited(path, path + "  timeout: 1.5\n"), "hook.timeout: must be a whole number"},
      {edited(path, path + "  timeout: soon\n"), "hook.timeout: must be a whole number"},
      {edited(path, path + "  timeout: 99999999999\n"), "hook.timeout: must be a whole number"},
      {edited(always, "  always: maybe\n"), "when.always: must be true or false"},
      {edited(always, "  hasBindMounts: [1]\n"), "when.hasBindMounts: must be true or false"},
      {edited(always, "  other: 1\n"), "when: sets no condition"},
      {edited("when:\n" + always, ""), "when: required"},
      {edited(always, "  annotations: [a]\n"), "when.annotations: must be a mapping"},
      {edited(always, "  annotations: {\"a(\": x}\n"),
       "when.annotations[\"a(\"] (key): invalid POSIX extended regular expression \"a(\""},
      {edited(always, "  annotations: {a: \"[z-a]\"}\n"),
       "when.annotations[\"a\"]: invalid POSIX extended"},
      {edited(always, "  commands: [sh, \"*?(\"]\n"),
       "when.commands[1]: invalid POSIX extended regular expression"},
      {edited("[prestart]", "[prestart, preboot]"), "stages[1]: unknown stage \"preboot\""},
      {edited("[prestart]", "[]"), "stages: must list"},
      {edited("[prestart]", "prestart"), "stages: must be a list of strings"},
      {edited("stages: [prestart]\n", ""), "stages: required"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    CHECK_THAT(parse_error(c.yaml), Catch::Contains(c.expect));
  }
}

TEST_CASE("hooks.d: parsing never throws, whatever the bytes", "[hooks_d]") {
  std::string deep(100000, '[');
  CHECK_FALSE(parse_hooks_d(deep, "deep.yaml"));
  CHECK_FALSE(parse_hooks_d(std::string("\0\xff\xfe:\t\x01", 6), "junk.yaml"));
  CHECK_FALSE(parse_hooks_d("&a [*a]", "alias.yaml"));
}

TEST_CASE("hooks.d: all conditions that are set must hold", "[hooks_d]") {
  auto plain = config(R"(,"annotations":{"com.example.gpu":"all","other":"x"})");
  auto bound = config(R"(,"mounts":[{"destination":"/d","source":"/s","options":["rbind"]}])");
  CHECK(match("  always: true\n", plain));
  // always: false and hasBindMounts: false are conditions that never hold.
  CHECK_FALSE(match("  always: false\n", plain));
  CHECK_FALSE(match("  hasBindMounts: false\n", bound));
  CHECK(match("  hasBindMounts: true\n", bound));
  CHECK_FALSE(match("  hasBindMounts: true\n", plain));
  CHECK(match("  annotations: {'gpu$': '^all$'}\n", plain));
  CHECK(match("  annotations: {'^com\\.example\\.': 'l'}\n", plain));  // unanchored search
  CHECK_FALSE(match("  annotations: {'gpu$': '^none$'}\n", plain));
  // Key and value must match the same annotation.
  CHECK_FALSE(match("  annotations: {'^other$': '^all$'}\n", plain));
  CHECK(match("  annotations: {'gpu': 'all', '^other$': 'x'}\n", plain));
  CHECK_FALSE(match("  annotations: {'gpu': 'all', '^missing$': ''}\n", plain));
  CHECK(match("  commands: ['^/usr/bin/python', '/sh$']\n", plain));
  CHECK_FALSE(match("  commands: ['^sh$']\n", plain));  // args[0] is /bin/sh
  CHECK_FALSE(match("  commands: ['-c']\n", plain));    // only args[0] counts
  // AND, not OR: a matching command does not make up for a missing mount.
  CHECK_FALSE(match("  commands: ['sh']\n  hasBindMounts: true\n", plain));
  CHECK(match("  commands: ['sh']\n  hasBindMounts: true\n  always: true\n", bound));
  CHECK_FALSE(match("  always: true\n  annotations: {'x': 'y'}\n", plain));
}

TEST_CASE("hooks.d: a bind mount is a bind type or a bind/rbind option", "[hooks_d]") {
  CHECK(match("  hasBindMounts: true\n",
              config(R"(,"mounts":[{"destination":"/d","type":"bind","source":"/s"}])")));
  CHECK(match("  hasBindMounts: true\n",
              config(R"(,"mounts":[{"destination":"/d","source":"/s","options":["ro","bind"]}])")));
  CHECK_FALSE(
      match("  hasBindMounts: true\n",
            config(R"(,"mounts":[{"destination":"/proc","type":"proc","source":"proc"}])")));
}

TEST_CASE("hooks.d: ERE syntax, not RE2's", "[hooks_d]") {
  auto cfg = config(R"(,"annotations":{"n":"42"})");
  CHECK(match("  annotations: {n: '^[0-9]+$'}\n", cfg));
  CHECK(match("  annotations: {n: '^[[:digit:]]{2}$'}\n", cfg));
  // \d is RE2 (Go) shorthand; in ERE it is an escaped 'd', which never matches "42".
  CHECK_FALSE(match("  annotations: {n: '^\\d+$'}\n", cfg));
}

TEST_CASE("hooks.d: patterns whose repetitions explode or that back-reference are refused",
          "[hooks_d]") {
  using husk::hooks::Regex;
  // glibc copies a repeated subtree once per copy: stacked and nested
  // repetitions multiply (this one, found by fuzzing, exhausted memory).
  auto stacked = Regex::compile("^c" + std::string(53, '+') + "om\\.example\\.log$");
  REQUIRE_FALSE(stacked);
  CHECK_THAT(stacked.error().message(), Catch::Matchers::Contains("too complex"));
  CHECK_FALSE(Regex::compile("((a{100}){100}){100}"));
  CHECK_FALSE(Regex::compile("(x{4000}|y)+"));
  // Loops inside loops make regcomp's closures slow long before its memory
  // runs out: twelve levels under 2048 nodes took over 10 s (fuzzing again).
  auto deep = Regex::compile(".*+++++++++++a-smi$");
  REQUIRE_FALSE(deep);
  CHECK_THAT(deep.error().message(), Catch::Matchers::Contains("nested more than 4 deep"));
  CHECK_FALSE(Regex::compile("(((((a*)*)*)*)*)"));
  CHECK(Regex::compile("((((a*)*)*)*)"));
  // \1 is glibc's extension, exponential to match against a value the
  // container's author writes.
  auto backref = Regex::compile("(a*)*\\1");
  REQUIRE_FALSE(backref);
  CHECK_THAT(backref.error().message(), Catch::Matchers::Contains("back-reference"));
  // What real hook files write stays accepted, braces and brackets included.
  for (const char* ok : {"^com\\.example\\.gpu$", ".*fluid-dynamics.*", "^[0-9]{1,5}$", "[]{}+*]+",
                         "^[[:alpha:]]{2,}$", "^(yes|true|1)$", "a{1000}", "x{,3}",
                         "^/usr/bin/(nvidia-smi|bash)$"}) {
    CAPTURE(ok);
    CHECK(Regex::compile(ok));
  }
}

TEST_CASE("hooks.d: matching copes with long and NUL-holding values", "[hooks_d]") {
  std::string big(1 << 20, 'a');
  auto cfg = config(R"(,"annotations":{"big":")" + big + R"(b"})");
  CHECK(match("  annotations: {big: '(a|b)*b$'}\n", cfg));
  // config.json refuses NUL in annotations; the matcher still reads past one.
  auto re = husk::hooks::Regex::compile("y$");
  REQUIRE(re);
  CHECK(re->search(std::string("x\0y", 3)).value_or(false));
  CHECK_FALSE(re->search(std::string("y\0x", 3)).value_or(true));
  CHECK_FALSE(husk::hooks::Regex::compile(std::string("a\0b", 3)));
}

TEST_CASE("hooks.d: inject appends matching hooks after the config's, in file order", "[hooks_d]") {
  auto cfg = config(R"(,"hooks":{"poststop":[{"path":"/own"}]},"annotations":{"a":"1"})");
  std::vector<HookFile> files;
  files.push_back(
      parse_ok("version: 1.0.0\nhook: {path: /first}\nwhen: {always: true}\nstages: [poststop, "
               "createContainer]\n"));
  files.push_back(parse_ok(
      "version: 1.0.0\nhook: {path: /never}\nwhen: {annotations: {a: '2'}}\nstages: [poststop]\n"));
  files.push_back(
      parse_ok("version: 1.0.0\nhook: {path: /second}\nwhen: {annotations: {a: '1'}}\nstages: "
               "[poststop]\n"));
  auto added = husk::hooks::inject(files, cfg);
  REQUIRE(added);
  CHECK(*added);
  REQUIRE(cfg.hooks);
  std::vector<std::string> paths;
  for (const auto& h : cfg.hooks->poststop) paths.push_back(h.path);
  CHECK(paths == std::vector<std::string>{"/own", "/first", "/second"});
  REQUIRE(cfg.hooks->create_container.size() == 1);
  CHECK(cfg.hooks->prestart.empty());

  auto none = config();
  auto nothing = husk::hooks::inject(std::span(files).subspan(1, 1), none);
  REQUIRE(nothing);
  CHECK_FALSE(*nothing);
  CHECK_FALSE(none.hooks);
}

TEST_CASE("hooks.d: the saved config lists the injected hooks and keeps the rest", "[hooks_d]") {
  std::string json =
      R"({"ociVersion":"1.2.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"r"},)"
      R"("hooks":{"poststop":[{"path":"/own"}]},"x-unknown":{"keep":[1,2]}})";
  auto cfg = husk::spec::parse_config(json);
  REQUIRE(cfg);
  cfg->hooks->poststop.push_back({"/added", {"added", "1"}, {"A=b"}, 7});
  cfg->hooks->poststart.push_back({"/ps", {}, {}, {}});
  auto text = husk::spec::with_hooks(json, *cfg->hooks);
  REQUIRE(text);
  CHECK_THAT(*text, Catch::Contains(R"("x-unknown":{"keep":[1,2]})"));
  auto back = husk::spec::parse_config(*text);
  REQUIRE(back);
  REQUIRE(back->hooks);
  REQUIRE(back->hooks->poststop.size() == 2);
  CHECK(back->hooks->poststop[1].path == "/added");
  CHECK(back->hooks->poststop[1].args == std::vector<std::string>{"added", "1"});
  CHECK(back->hooks->poststop[1].env == std::vector<std::string>{"A=b"});
  CHECK(back->hooks->poststop[1].timeout == 7);
  CHECK(back->hooks->poststart.size() == 1);
  CHECK(back->process->args == std::vector<std::string>{"sh"});
}

TEST_CASE("hooks.d: default directories, /etc after /usr/share", "[hooks_d]") {
  CHECK(husk::hooks::default_hooks_dirs() ==
        std::vector<std::string>{"/usr/share/husk/hooks.d", "/etc/husk/hooks.d"});
}

TEST_CASE("hooks.d: later directories replace files of the same name", "[hooks_d]") {
  TempDir low, high;
  write(low / "10-same.yaml", file_with_arg("low"));
  write(low / "20-low-only.yaml", file_with_arg("low"));
  write(high / "10-same.yaml", file_with_arg("high"));
  write(high / "05-high-only.yaml", file_with_arg("high"));
  write(high / "notes.txt", "not yaml");
  write(high / ".30-hidden.yaml", "garbage: [");
  std::vector<std::string> dirs{low.path.string(), high.path.string()};
  auto files = husk::hooks::load_hooks_d(dirs, false);
  INFO((files ? std::string() : files.error().message()));
  REQUIRE(files);
  REQUIRE(files->size() == 3);
  CHECK((*files)[0].name == high / "05-high-only.yaml");
  CHECK((*files)[1].name == high / "10-same.yaml");
  CHECK((*files)[1].hook.args.back() == "high");
  CHECK((*files)[2].name == low / "20-low-only.yaml");
}

TEST_CASE("hooks.d: missing directories, bad files", "[hooks_d]") {
  TempDir d;
  std::vector<std::string> missing{d / "nope"};
  auto ok = husk::hooks::load_hooks_d(missing, true);
  REQUIRE(ok);
  CHECK(ok->empty());
  auto err = husk::hooks::load_hooks_d(missing, false);
  REQUIRE_FALSE(err);
  CHECK_THAT(err.error().message(), Catch::Contains(d / "nope"));

  write(d / "50-bad.yaml", "version: 1.0.0\nhook: {path: rel}\nwhen: {always: true}\n");
  std::vector<std::string> dirs{d.path.string()};
  auto bad = husk::hooks::load_hooks_d(dirs, true);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(),
             Catch::Contains("hooks.d file " + (d / "50-bad.yaml") + ": hook.path"));
}

TEST_CASE("hooks.d: a podman JSON hook file is read as it is", "[hooks_d]") {
  HookFile f = parse_ok(R"({
  "version": "1.0.0",
  "hook": {"path": "/usr/bin/oci-hook", "args": ["oci-hook", "prestart"], "timeout": 10},
  "when": {"annotations": {"^com\\.example\\.department$": ".*fluid-dynamics.*"}},
  "stages": ["prestart", "poststop"]
})");
  CHECK(f.hook.args == std::vector<std::string>{"oci-hook", "prestart"});
  CHECK(f.when.annotations.at(0).first.pattern() == "^com\\.example\\.department$");
  CHECK(f.stages == std::vector<Kind>{Kind::Prestart, Kind::Poststop});
  CHECK(match("  annotations: {'^com\\.example\\.department$': '.*fluid-dynamics.*'}\n",
              config(R"(,"annotations":{"com.example.department":"cfd-fluid-dynamics-2"})")));
}
