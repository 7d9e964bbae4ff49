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

TEST_CASE("hooks.d: bad files name the field at fault", "[hooks_d]") {
  CHECK_THAT(parse_error("version: 1.0.0\nhook: [unclosed\n"), Catch::Contains("YAML line"));
  CHECK_THAT(parse_error(""), Catch::Contains("not a YAML mapping"));
  CHECK_THAT(parse_error("- a\n- b\n"), Catch::Contains("not a YAML mapping"));
  auto without = [](const std::string& what) {
    std::string s = kMinimal;
    auto at = s.find(what);
    REQUIRE(at != std::string::npos);
    return s.erase(at, what.size());
  };
  auto with = [](const std::string& from, const std::string& to) {
    std::string s = kMinimal;
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  CHECK_THAT(parse_error(without("version: 1.0.0\n")), Catch::Contains("version: required"));
  CHECK_THAT(parse_error(with("1.0.0", "0.1.0")), Catch::Contains("version: unsupported"));
  CHECK_THAT(parse_error(with("1.0.0", "[1]")), Catch::Contains("version: must be a string"));
  CHECK_THAT(parse_error(with("  path: /usr/bin/gpu-hook\n", "  args: [a]\n")),
             Catch::Contains("hook.path: required"));
  CHECK_THAT(parse_error(with("/usr/bin/gpu-hook", "bin/gpu-hook")),
             Catch::Contains("hook.path: must be an absolute path, got \"bin/gpu-hook\""));
  CHECK_THAT(parse_error(with("/usr/bin/gpu-hook", "{a: b}")),
             Catch::Contains("hook.path: must be a string"));
  CHECK_THAT(parse_error(with("/usr/bin/gpu-hook\n", "/h\n  args: x\n")),
             Catch::Contains("hook.args: must be a list of strings"));
  CHECK_THAT(parse_error(with("/usr/bin/gpu-hook\n", "/h\n  env: [[A]]\n")),
             Catch::Contains("hook.env[0]: must be a string"));
  for (const char* t : {"0", "-3", "1.5", "soon", "99999999999"}) {
    CHECK_THAT(parse_error(with("/usr/bin/gpu-hook\n", fmt::format("/h\n  timeout: {}\n", t))),
               Catch::Contains("hook.timeout: must be a whole number of seconds > 0"));
  }
  CHECK_THAT(parse_error(with("  always: true\n", "  always: maybe\n")),
             Catch::Contains("when.always: must be true or false"));
  CHECK_THAT(parse_error(with("  always: true\n", "  hasBindMounts: [1]\n")),
             Catch::Contains("when.hasBindMounts: must be true or false"));
  CHECK_THAT(parse_error(with("  always: true\n", "  other: 1\n")),
             Catch::Contains("when: sets no condition"));
  CHECK_THAT(parse_error(without("when:\n  always: true\n")), Catch::Contains("when: required"));
  CHECK_THAT(parse_error(with("  always: true\n", "  annotations: [a]\n")),
             Catch::Contains("when.annotations: must be a mapping"));
  CHECK_THAT(parse_error(with("  always: true\n", "  annotations: {\"a(\": x}\n")),
             Catch::Contains("when.annotations[\"a(\"] (key): invalid POSIX extended regular "
                             "expression \"a(\""));
  CHECK_THAT(parse_error(with("  always: true\n", "  annotations: {a: \"[z-a]\"}\n")),
             Catch::Contains("when.annotations[\"a\"]: invalid POSIX extended"));
  CHECK_THAT(parse_error(with("  always: true\n", "  commands: [sh, \"*?(\"]\n")),
             Catch::Contains("when.commands[1]: invalid POSIX extended regular expression"));
  CHECK_THAT(parse_error(with("[prestart]", "[prestart, preboot]")),
             Catch::Contains("stages[1]: unknown stage \"preboot\""));
  CHECK_THAT(parse_error(with("[prestart]", "[]")), Catch::Contains("stages: must list"));
  CHECK_THAT(parse_error(with("[prestart]", "prestart")),
             Catch::Contains("stages: must be a list of strings"));
  CHECK_THAT(parse_error(without("stages: [prestart]\n")), Catch::Contains("stages: required"));
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
