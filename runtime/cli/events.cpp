// husk events [--stats] [--interval 5s] <container-id>
#include "lifecycle/events.hpp"

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    value_option("interval", 0, "DURATION",
                 "time between two statistics reports, as 5s or 1m30s (default 5s)"),
    bool_option("stats", 0, "print the statistics once and exit"),
};

int events(const GlobalOptions& g, const ParsedArgs& a) {
  lifecycle::EventsOptions o;
  o.id = a.positional.at(0);
  o.stats_only = a.flag("stats");
  if (auto iv = a.value("interval")) {
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

}  // namespace

const Command kEventsCommand{
    .name = "events",
    .summary = "show container events and resource statistics",
    .usage = "events [command options] <container-id>",
    .description =
        "Prints one JSON object a line: the container's resource statistics (CPU, memory, "
        "pids, block I/O) every --interval, and an event when the kernel reports that it ran "
        "out of memory. It runs until the container stops, or prints the statistics once "
        "with --stats.",
    .examples =
        "# Memory and CPU use of web every two seconds:\n"
        "husk events --interval 2s web\n"
        "\n"
        "# One snapshot:\n"
        "husk events --stats web",
    .options = kOptions,
    .run = events,
};

}  // namespace husk::cli
