// husk ps [--format table|json] <container-id> [ps options]
#include <fmt/ranges.h>

#include <cstdint>

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    value_option("format", 'f', "table|json", "output format (default table)"),
};

int ps(const GlobalOptions &g, const ParsedArgs &a) {
  std::string format = a.value("format").value_or("table");
  auto ctx = make_context(g);
  const std::string &id = a.positional[0];
  if (format == "json") {
    auto pids = lifecycle::pids(ctx, id);
    if (!pids) return report(g, pids.error());
    print_out(fmt::format("[{}]\n", fmt::join(*pids, ",")));
    return 0;
  }
  if (format != "table") {
    return report(g, Error::arg("invalid format option \"{}\" (table or json)", format));
  }
  std::vector<std::string> ps_args(a.positional.begin() + 1, a.positional.end());
  auto table = lifecycle::ps_table(ctx, id, ps_args);
  if (!table) return report(g, table.error());
  print_out(*table);
  return 0;
}

}  // namespace

const Command kPsCommand{
    .name = "ps",
    .summary = "list the processes running in a container",
    .usage = "ps [command options] <container-id> [ps options]",
    .description =
        "Runs ps(1) on the host and keeps the lines of the processes in the container's "
        "cgroup; arguments after the container id go to ps (default -ef). The json format "
        "prints only the pids, as a JSON array, and needs no ps program.",
    .examples =
        "# The processes of web with their resource use:\n"
        "husk ps web aux\n"
        "\n"
        "# Just the pids:\n"
        "husk ps --format json web",
    .options = kOptions,
    .max_args = SIZE_MAX,
    .order = ArgOrder::StopAtPositional,
    .run = ps,
};

}  // namespace husk::cli
