// husk events [--stats] [--interval 5s] <container-id>
#include "lifecycle/events.hpp"

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {
constexpr OptionSpec kOptions[] = {{"interval", 0, true}, {"stats", 0, false}};
}  // namespace

int cmd_events(const GlobalOptions& g, std::span<const std::string> args) {
  int code = 0;
  VerbSpec v{"events", "events [command options] <container-id>", kOptions};
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  lifecycle::EventsOptions o;
  o.id = a->positional.at(0);
  o.stats_only = a->flag("stats");
  if (auto iv = a->value("interval")) {
    auto d = lifecycle::parse_go_duration(*iv);
    // urfave/cli's wording for a flag value it cannot parse.
    if (!d) return report(g, Error::arg("invalid value {:?} for flag -interval: parse error", *iv));
    o.interval = *d;
  }
  auto st = lifecycle::events(make_context(g), o, [](const std::string& line) -> Status {
    print_out(line + "\n");
    return {};
  });
  if (!st) return report(g, st.error());
  return 0;
}

}  // namespace husk::cli
