#include <fcntl.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"

using husk::cli::ArgOrder;
using husk::cli::OptionSpec;
using husk::cli::ParsedArgs;

namespace {

const OptionSpec kSpecs[] = {
    {"bundle", 'b', true},       {"pid-file", 0, true},    {"detach", 'd', false},
    {"tty", 't', false},         {"env", 'e', true, true}, {"no-subreaper", 0, false},
    {"console-socket", 0, true},
};

ParsedArgs ok(std::vector<std::string> args, ArgOrder order = ArgOrder::Interleaved) {
  auto r = husk::cli::parse(args, kSpecs, order);
  INFO((r ? std::string() : r.error().message()));
  REQUIRE(r);
  return std::move(*r);
}

std::string fails(std::vector<std::string> args) {
  auto r = husk::cli::parse(args, kSpecs);
  REQUIRE_FALSE(r);
  CHECK(r.error().kind() == husk::ErrorKind::InvalidArgument);
  return r.error().message();
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("parse: every spelling of a value option") {
  for (const auto& args :
       {Strings{"--bundle", "/b", "id"}, Strings{"--bundle=/b", "id"},
        Strings{"-bundle", "/b", "id"}, Strings{"-bundle=/b", "id"}, Strings{"-b", "/b", "id"},
        Strings{"-b/b", "id"}, Strings{"--b", "/b", "id"}, Strings{"-b=/b", "id"}}) {
    INFO(args[0]);
    auto a = ok(args);
    CHECK(a.value("bundle") == "/b");
    CHECK(a.positional == Strings{"id"});
  }
}

TEST_CASE("parse: bools, combined letters, =true/=false") {
  auto a = ok({"-dt", "id"});
  CHECK(a.flag("detach"));
  CHECK(a.flag("tty"));
  auto b = ok({"--detach=false", "-tty=true", "id"});
  CHECK_FALSE(b.flag("detach"));
  CHECK(b.has("detach"));
  CHECK(b.flag("tty"));
  auto c = ok({"-dtb", "/x", "id"});  // last letter takes the next argument
  CHECK(c.flag("detach"));
  CHECK(c.value("bundle") == "/x");
  CHECK_FALSE(ok({"id"}).flag("detach"));
  // A bool never swallows the next word: it is a positional.
  auto d = ok({"--detach", "true"});
  CHECK(d.positional == Strings{"true"});
  CHECK(fails({"--detach=maybe"}) == "invalid boolean value \"maybe\" for -detach: parse error");
}

TEST_CASE("parse: go-runc's single-dash long flags") {
  auto a = ok({"-no-subreaper", "--pid-file", "/p", "-console-socket=/s", "id"});
  CHECK(a.flag("no-subreaper"));
  CHECK(a.value("pid-file") == "/p");
  CHECK(a.value("console-socket") == "/s");
}

TEST_CASE("parse: options after positionals, unless told to stop") {
  auto a = ok({"id", "--detach", "x"});
  CHECK(a.flag("detach"));
  CHECK(a.positional == Strings{"id", "x"});
  auto b = ok({"-d", "id", "sh", "-c", "--tty", "echo"}, ArgOrder::StopAtPositional);
  CHECK(b.flag("detach"));
  CHECK_FALSE(b.flag("tty"));
  CHECK(b.positional == Strings{"id", "sh", "-c", "--tty", "echo"});
}

TEST_CASE("parse: -- ends options, - is a positional, values may start with a dash") {
  auto a = ok({"--", "-d", "id"});
  CHECK_FALSE(a.flag("detach"));
  CHECK(a.positional == Strings{"-d", "id"});
  auto b = ok({"--bundle", "-", "-"});
  CHECK(b.value("bundle") == "-");
  CHECK(b.positional == Strings{"-"});
  CHECK(ok({"--pid-file", "--detach"}).value("pid-file") == "--detach");
}

TEST_CASE("parse: repeatable options keep every value, others the last") {
  auto a = ok({"-e", "A=1", "--env=B=2", "--env", "C", "-b", "/1", "-b", "/2"});
  CHECK(a.all("env") == Strings{"A=1", "B=2", "C"});
  CHECK(a.value("env") == "C");
  CHECK(a.all("bundle") == Strings{"/2"});
}

TEST_CASE("parse: unknown flags and missing values use Go's words") {
  CHECK(fails({"--nope"}) == "flag provided but not defined: -nope");
  CHECK(fails({"-x"}) == "flag provided but not defined: -x");
  CHECK(fails({"-dx"}) == "flag provided but not defined: -dx");
  CHECK(fails({"--nope=1"}) == "flag provided but not defined: -nope");
  CHECK(fails({"id", "--bundle"}) == "flag needs an argument: -bundle");
  CHECK(fails({"-b"}) == "flag needs an argument: -b");
}

TEST_CASE("parse: --help/-h unless a verb defines them") {
  CHECK(ok({"--help"}).help);
  CHECK(ok({"id", "-h"}).help);
  CHECK_FALSE(ok({"id"}).help);
  CHECK_FALSE(ok({"id", "sh", "-h"}, ArgOrder::StopAtPositional).help);
}

TEST_CASE("argument counts in runc's words") {
  ParsedArgs a;
  a.positional = {"x", "y"};
  CHECK(husk::cli::expect_exactly(a, "state", 1).error().message() ==
        "\"state\" requires exactly 1 argument(s)");
  CHECK(husk::cli::expect_at_least(a, "ps", 3).error().message() ==
        "\"ps\" requires a minimum of 3 argument(s)");
  CHECK(husk::cli::expect_at_most(a, "kill", 1).error().message() ==
        "\"kill\" requires a maximum of 1 argument(s)");
  CHECK(husk::cli::expect_exactly(a, "kill", 2));
}

TEST_CASE("log lines: logrus text and one JSON object") {
  using husk::cli::LogFormat;
  std::string msg = "container \"x\" does not exist\n\ttab \x01";
  auto text = husk::cli::format_log_line(LogFormat::Text, "error", msg, "2026-01-02T03:04:05Z");
  CHECK(text ==
        "time=\"2026-01-02T03:04:05Z\" level=error msg=\"container \\\"x\\\" does not "
        "exist\\n\\ttab \\u0001\"");
  auto json = husk::cli::format_log_line(LogFormat::Json, "error", msg, "2026-01-02T03:04:05Z");
  rapidjson::Document d;
  d.Parse(json.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["level"].GetString()) == "error");
  CHECK(std::string(d["msg"].GetString()) == msg);
  CHECK(std::string(d["time"].GetString()) == "2026-01-02T03:04:05Z");
}

TEST_CASE("report: plain message on stderr, a JSON line appended to --log") {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "husk-cli-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  husk::cli::GlobalOptions g;
  g.log = dir + "/log.json";
  g.log_format = husk::cli::LogFormat::Json;
  std::ofstream(*g.log) << "{\"level\":\"info\",\"msg\":\"earlier\"}\n";

  int saved = ::dup(STDERR_FILENO);
  std::string err_path = dir + "/stderr";
  int errfd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(errfd >= 0);
  ::dup2(errfd, STDERR_FILENO);
  int code = husk::cli::report(
      g, husk::Error::make(husk::ErrorKind::NotFound, "container \"{}\" does not exist", "c9"));
  husk::cli::log_line(g, "debug", "dropped without --debug");
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(errfd);
  CHECK(code == 1);

  std::ifstream err(err_path);
  std::stringstream es;
  es << err.rdbuf();
  CHECK(es.str() == "container \"c9\" does not exist\n");

  std::ifstream log(*g.log);
  std::string first, second, third;
  std::getline(log, first);
  std::getline(log, second);
  CHECK_FALSE(std::getline(log, third));
  rapidjson::Document d;
  d.Parse(second.c_str());
  REQUIRE_FALSE(d.HasParseError());
  CHECK(std::string(d["level"].GetString()) == "error");
  CHECK(std::string(d["msg"].GetString()) == "container \"c9\" does not exist");
  std::string t = d["time"].GetString();
  CHECK(t.size() == 30);  // 2026-01-02T03:04:05.123456789Z
  CHECK(t.back() == 'Z');
  fs::remove_all(dir);
}

TEST_CASE("parse_bool accepts Go's spellings only") {
  for (const char* t : {"1", "t", "T", "true", "TRUE", "True"})
    CHECK(husk::cli::parse_bool(t) == true);
  for (const char* f : {"0", "f", "F", "false", "FALSE", "False"})
    CHECK(husk::cli::parse_bool(f) == false);
  for (const char* x : {"", "yes", "tRuE", "2"}) CHECK_FALSE(husk::cli::parse_bool(x).has_value());
}
