#include <fmt/ranges.h>

#include <cstdint>

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {
constexpr OptionSpec kOptions[] = {{"format", 'f', true}};
}  // namespace

int cmd_ps(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  VerbSpec v{"ps",     "ps [--format table|json] <container-id> [ps options]",
             kOptions, 1,
             SIZE_MAX, ArgOrder::StopAtPositional};
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  std::string format = a->value("format").value_or("table");
  auto ctx = make_context(g);
  const std::string &id = a->positional[0];
  if (format == "json") {
    auto pids = lifecycle::pids(ctx, id);
    if (!pids) return report(g, pids.error());
    print_out(fmt::format("[{}]\n", fmt::join(*pids, ",")));
    return 0;
  }
  if (format != "table") {
    return report(g, Error::arg("invalid format option \"{}\" (table or json)", format));
  }
  std::vector<std::string> ps_args(a->positional.begin() + 1, a->positional.end());
  auto table = lifecycle::ps_table(ctx, id, ps_args);
  if (!table) return report(g, table.error());
  print_out(*table);
  return 0;
}

}  // namespace husk::cli
