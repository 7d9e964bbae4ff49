#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostics.hpp"
#include "spec/parse.hpp"
#include "spec/validate.hpp"

using husk::Error;
using husk::Status;
using husk::spec::Diagnostics;
using husk::spec::Severity;

namespace {

std::vector<std::string> paths(const Diagnostics& d, Severity sev) {
  std::vector<std::string> out;
  for (const auto& f : d.items()) {
    if (f.severity == sev) out.push_back(f.path);
  }
  return out;
}

constexpr std::string_view kBase = R"({
  "ociVersion": "1.3.0",
  "root": {"path": "rootfs"},
  "process": {"args": ["sh"], "cwd": "/", "env": ["PATH=/bin"]},
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "uts"}]}
})";

}  // namespace

TEST_CASE("split_path_message separates the JSON path from the text", "[diagnostics]") {
  using husk::spec::split_path_message;
  CHECK(split_path_message("linux.resources.memory.limit: must be >= 0") ==
        std::pair<std::string, std::string>{"linux.resources.memory.limit", "must be >= 0"});
  // A quoted map key may itself hold ": ".
  CHECK(split_path_message(R"(linux.sysctl["a: b"]: invalid sysctl name)") ==
        std::pair<std::string, std::string>{R"(linux.sysctl["a: b"])", "invalid sysctl name"});
  // Text with no path in front.
  CHECK(split_path_message("invalid JSON at offset 3: x") ==
        std::pair<std::string, std::string>{"", "invalid JSON at offset 3: x"});
}

TEST_CASE("the collector keeps every finding and the first error unchanged", "[diagnostics]") {
  Diagnostics d;
  CHECK(d.take(Status()));
  CHECK_FALSE(d.has_errors());
  CHECK_FALSE(d.take(Error::spec("process.cwd: must be an absolute path, got \"x\"")));
  d.warning("mounts[0].destination: relative path \"x\" is deprecated; taken relative to /");
  CHECK_FALSE(d.take(Error::spec("hostname: unable to set hostname")));
  // The same finding twice is kept once.
  d.take(Error::spec("hostname: unable to set hostname"));
  REQUIRE(d.items().size() == 3);
  CHECK(d.first_error()->message() == "process.cwd: must be an absolute path, got \"x\"");
  CHECK(paths(d, Severity::Error) == std::vector<std::string>{"process.cwd", "hostname"});
  CHECK(d.warning_lines() ==
        std::vector<std::string>{
            "mounts[0].destination: relative path \"x\" is deprecated; taken relative to /"});
  CHECK(d.has_error_at_or_above("process.cwd"));
  CHECK(d.has_error_at_or_above("hostname[0]"));
  CHECK_FALSE(d.has_error_at_or_above("process"));
  CHECK_FALSE(d.has_error_at_or_above("hostnamex"));
}

TEST_CASE("diagnostics render as text lines and as JSON", "[diagnostics]") {
  Diagnostics d;
  d.add(Severity::Warning, "hostnme", "unknown field \"hostnme\"", "hostname");
  d.take(Error::spec("linux.resources.memory.limit: must be -1 (unlimited) or >= 0, got -5"));
  CHECK(husk::spec::diagnostic_line(d.items()[0]) ==
        R"(warning: hostnme: unknown field "hostnme"; did you mean "hostname"?)");
  CHECK(husk::spec::diagnostic_line(d.items()[1]) ==
        "error: linux.resources.memory.limit: must be -1 (unlimited) or >= 0, got -5");
  CHECK(
      husk::spec::diagnostics_json(d) ==
      R"({"findings":[{"severity":"warning","path":"hostnme","message":"unknown field \"hostnme\"",)"
      R"("suggestion":"hostname"},{"severity":"error","path":"linux.resources.memory.limit",)"
      R"("message":"must be -1 (unlimited) or >= 0, got -5"}]})");
}

TEST_CASE("typo suggestions come from the nearest known name", "[diagnostics]") {
  using husk::spec::edit_distance;
  using husk::spec::near_miss;
  CHECK(edit_distance("hostnme", "hostname", 2) == 1);
  CHECK(edit_distance("kitten", "sitting", 5) == 3);
  CHECK(edit_distance("abc", "abcdefgh", 2) == 3);  // capped
  const std::vector<std::string_view> keys = {"hostname", "domainname", "hooks", "root"};
  CHECK(near_miss("hostnme", keys) == std::optional<std::string_view>("hostname"));
  CHECK(near_miss("Hostname", keys) == std::optional<std::string_view>("hostname"));
  CHECK(near_miss("domianname", keys) == std::optional<std::string_view>("domainname"));
  CHECK(near_miss("rot", keys) == std::optional<std::string_view>("root"));
  // Far from every name: an extension field, not a typo.
  CHECK_FALSE(near_miss("org.example.custom", keys));
  CHECK_FALSE(near_miss("hostname", keys));
  // Short words tolerate one edit only.
  CHECK_FALSE(near_miss("rx", keys));
}

TEST_CASE("a lenient parse records every wrong member and every near-miss key", "[diagnostics]") {
  Diagnostics d;
  auto c = husk::spec::parse_config_lenient(R"({
    "ociVersion": "1.3.0",
    "root": {"path": "rootfs"},
    "hostnme": "box",
    "annotations": {"hostnme": "free-form maps are not checked"},
    "process": {"args": ["sh"], "cwd": "/", "terminal": "yes", "user": {"uid": -1, "gid": 0},
                "noNewPrivilege": true, "customExtension": 1},
    "linux": {"namespaces": [{"type": "pid"}], "sysctl": {"x": 1}}
  })",
                                            d);
  REQUIRE(c.has_value());
  CHECK(paths(d, Severity::Error) ==
        std::vector<std::string>{"process.terminal", "process.user.uid", R"(linux.sysctl["x"])"});
  CHECK(paths(d, Severity::Warning) ==
        std::vector<std::string>{"hostnme", "process.noNewPrivilege"});
  CHECK(d.items().back().suggestion == "noNewPrivileges");
  // What could be read is there.
  CHECK(c->process->args == std::vector<std::string>{"sh"});
  // The strict parse still stops at the first.
  auto strict = husk::spec::parse_config(R"({"ociVersion": "1.3.0", "hostname": 1,
                                             "domainname": 2})");
  REQUIRE_FALSE(strict.has_value());
  CHECK(strict.error().message() == "hostname: expected a string, got 1");
}

TEST_CASE("validate_all reports every error at once; validate the first", "[diagnostics]") {
  auto c = husk::spec::parse_config(kBase);
  REQUIRE(c.has_value());
  c->process->cwd = "relative";
  c->process->env = {"A=1", "NOEQUALS", "=x"};
  c->linux->uid_mappings = {husk::spec::IdMapping{0, 1, 0}};
  Diagnostics d;
  husk::spec::validate_all(*c, d);
  CHECK(paths(d, Severity::Error) == std::vector<std::string>{"process.cwd", "process.env[1]",
                                                              "process.env[2]", "linux.uidMappings",
                                                              "linux.uidMappings[0].size"});
  auto first = husk::spec::validate(*c, nullptr);
  REQUIRE_FALSE(first.has_value());
  CHECK(first.error().message() == "process.cwd: must be an absolute path, got \"relative\"");
}
