// husk kill [--all] <container-id> [signal]
#include <csignal>

#include "cli/context.hpp"
#include "cli/verbs.hpp"
#include "spec/names.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    bool_option("all", 'a', "signal every process in the container, not only its init"),
};

int kill(const GlobalOptions &g, const ParsedArgs &a) {
  int sig = SIGTERM;
  if (a.positional.size() == 2) {
    auto parsed = spec::parse_signal(a.positional[1]);
    if (!parsed) return report(g, parsed.error());
    sig = *parsed;
  }
  auto st = lifecycle::kill(make_context(g), a.positional[0], sig, a.flag("all"));
  return st ? 0 : report(g, st.error());
}

}  // namespace

const Command kKillCommand{
    .name = "kill",
    .summary = "send a signal to a container's init, or to all its processes",
    .usage = "kill [command options] <container-id> [signal]",
    .description =
        "Sends a signal, SIGTERM unless one is given, to the container's init process. The "
        "signal may be named with or without its SIG prefix (TERM, SIGTERM) or given as a "
        "number (15). The container must be created, running or paused.\n"
        "\n"
        "With --all, every process in the container's cgroup gets the signal.",
    .examples =
        "# Ask the container web to stop, then force it:\n"
        "husk kill web TERM\n"
        "husk kill --all web KILL",
    .options = kOptions,
    .max_args = 2,
    .run = kill,
};

}  // namespace husk::cli
