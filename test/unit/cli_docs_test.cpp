// The command table is the one source of the command line: the parser reads
// it, and --help, the man pages and the completions are written from it.
// These tests fail when a flag the parser accepts is missing from a document,
// or a document names a flag the parser does not accept.
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "cli/docs.hpp"

using husk::cli::Command;
using husk::cli::OptionSpec;

namespace {

// Every "--flag" a text mentions (roff writes it \fB\-\-flag\fR).
std::set<std::string> long_flags(std::string text) {
  text = std::regex_replace(text, std::regex(R"(\\f[BIRP])"), "");
  text = std::regex_replace(text, std::regex(R"(\\-)"), "-");
  std::set<std::string> out;
  std::regex re(R"((^|[^-\w])--([a-z][a-z0-9-]*))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.insert((*it)[2]);
  }
  return out;
}

// The OPTIONS section of a man page: from ".SH OPTIONS" to the next ".SH".
std::string options_section(const std::string& page) {
  auto start = page.find(".SH OPTIONS\n");
  REQUIRE(start != std::string::npos);
  auto end = page.find(".SH ", start + 1);
  return page.substr(start, end - start);
}

std::set<std::string> table_flags(std::span<const OptionSpec> specs) {
  std::set<std::string> out{"help"};
  for (const auto& o : specs) out.insert(o.long_name);
  return out;
}

// Parsing "--flag" (with a value when it takes one) succeeds for every flag of
// the table: the parser is driven by it.
void parser_accepts_all(std::span<const OptionSpec> specs) {
  for (const auto& o : specs) {
    std::vector<std::string> args{std::string("--") + o.long_name};
    if (o.takes_value) args.emplace_back("1");
    auto r = husk::cli::parse(args, specs);
    INFO(o.long_name);
    REQUIRE(r);
    CHECK(r->has(o.long_name));
    if (o.short_name != 0) {
      args[0] = std::string("-") + o.short_name;
      auto s = husk::cli::parse(args, specs);
      REQUIRE(s);
      CHECK(s->has(o.long_name));
    }
  }
}

}  // namespace

TEST_CASE("docs: every verb's man page and --help list exactly the parser's flags") {
  for (const Command* c : husk::cli::commands()) {
    INFO(c->name);
    std::string page = husk::cli::man_page(*c);
    for (const char* section :
         {".SH NAME\n", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH OPTIONS\n", ".SH EXAMPLES\n"}) {
      CHECK(page.find(section) != std::string::npos);
    }
    CHECK(long_flags(options_section(page)) == table_flags(c->options));
    CHECK(long_flags(husk::cli::options_help(c->options, true)) == table_flags(c->options));
    parser_accepts_all(c->options);
    for (const auto& o : c->options) {
      INFO(o.long_name);
      CHECK(o.help != nullptr);
      CHECK(o.takes_value == (o.value_name != nullptr));
    }
    CHECK(c->description != nullptr);
    CHECK(c->examples != nullptr);
    CHECK(c->run != nullptr);
  }
}

TEST_CASE("docs: husk(8) lists every verb and exactly the global flags") {
  std::string page = husk::cli::main_man_page();
  for (const Command* c : husk::cli::commands()) {
    CHECK(page.find(std::string("\\fBhusk\\-") + c->name + "\\fR(8)") != std::string::npos);
  }
  CHECK(long_flags(options_section(page)) == table_flags(husk::cli::global_options()));
  CHECK(long_flags(husk::cli::options_help(husk::cli::global_options(), true)) ==
        table_flags(husk::cli::global_options()));
  parser_accepts_all(husk::cli::global_options());
}

TEST_CASE("docs: the completions offer every verb and every flag of each") {
  std::string bash = husk::cli::bash_completion();
  std::string zsh = husk::cli::zsh_completion();
  std::string fish = husk::cli::fish_completion();
  CHECK(bash.find("complete -F _husk husk") != std::string::npos);
  CHECK(zsh.starts_with("#compdef husk\n"));
  std::set<std::string> all = table_flags(husk::cli::global_options());
  for (const Command* c : husk::cli::commands()) {
    INFO(c->name);
    CHECK(bash.find(std::string("    ") + c->name + ") echo \"") != std::string::npos);
    CHECK(zsh.find(std::string("'") + c->name + ":") != std::string::npos);
    CHECK(fish.find(std::string("-a ") + c->name + " -d") != std::string::npos);
    for (const auto& o : c->options) all.insert(o.long_name);
  }
  // The completions mention no flag the table lacks, and every flag it has.
  CHECK(long_flags(bash) == all);
  CHECK(long_flags(zsh) == all);
  std::set<std::string> fish_flags;
  std::regex re(R"(^complete -c husk -n '[^']*' -l ([a-z][a-z0-9-]*))");
  std::istringstream lines(fish);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, re)) fish_flags.insert(m[1]);
  }
  CHECK(fish_flags == all);
}
