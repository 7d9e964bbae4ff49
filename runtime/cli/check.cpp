// husk check [--bundle|-b DIR] [--format|-f text|json]
// Exit status: 0 no findings, 1 warnings only, 2 errors (an unreadable or
// malformed config.json included).
#include "lifecycle/check.hpp"

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    value_option("bundle", 'b', "DIR", "the bundle to check (default: the current directory)"),
    value_option("format", 'f', "text|json", "how to print the findings (default text)"),
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

int check(const GlobalOptions& g, const ParsedArgs& a) {
  const std::string format = a.value("format").value_or("text");
  if (format != "text" && format != "json") {
    report(g, Error::arg("invalid format {:?} (text or json)", format));
    return 2;
  }
  auto found = lifecycle::check_bundle(make_context(g), a.value("bundle").value_or(""));
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

}  // namespace

const Command kCheckCommand{
    .name = "check",
    .summary = "report what is wrong with a bundle on this host, creating nothing",
    .usage = "check [command options]",
    .description =
        "Reads the bundle's config.json and reports, without creating anything, every problem "
        "husk can find before a create would: each validation error with its JSON path, "
        "unknown fields that look like misspelt known ones, capabilities, syscalls and mount "
        "options this kernel does not know, and features the host lacks (AppArmor, SELinux, "
        "a cgroup controller, a user namespace mapping, the program in the root filesystem).\n"
        "\n"
        "The exit status is 0 when nothing was found, 1 when there are only warnings and 2 "
        "when there are errors.",
    .examples =
        "# Check the bundle in /srv/c1, for a person and for a tool:\n"
        "husk check --bundle /srv/c1\n"
        "husk check --bundle /srv/c1 --format json",
    .options = kOptions,
    .min_args = 0,
    .max_args = 0,
    .operand = Operand::None,
    .run = check,
};

}  // namespace husk::cli
