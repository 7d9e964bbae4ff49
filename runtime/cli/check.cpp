// husk check [--bundle|-b DIR] [--format|-f text|json]
// Exit status: 0 no findings, 1 warnings only, 2 errors (an unreadable or
// malformed config.json included).
#include "lifecycle/check.hpp"

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"bundle", 'b', true},
    {"format", 'f', true},
};

int exit_status(const spec::Diagnostics& d) {
  if (d.has_errors()) return 2;
  return d.items().empty() ? 0 : 1;
}

void print(const spec::Diagnostics& d, bool json) {
  if (json) {
    print_out(spec::diagnostics_json(d) + "\n");
    return;
  }
  std::string out;
  for (const auto& f : d.items()) out += spec::diagnostic_line(f) + "\n";
  print_out(out);
}

}  // namespace

int cmd_check(const GlobalOptions& g, std::span<const std::string> args) {
  VerbSpec v{"check", "check [command options]", kOptions, 0, 0};
  int code = 0;
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  const std::string format = a->value("format").value_or("text");
  if (format != "text" && format != "json") {
    report(g, Error::arg("invalid format {:?} (text or json)", format));
    return 2;
  }
  auto found = lifecycle::check_bundle(make_context(g), a->value("bundle").value_or(""));
  if (!found) {
    // Nothing to look at: one finding about the whole document, the reason.
    spec::Diagnostics d;
    d.add(spec::Severity::Error, "", found.error().message());
    print(d, format == "json");
    return 2;
  }
  print(*found, format == "json");
  return exit_status(*found);
}

}  // namespace husk::cli
