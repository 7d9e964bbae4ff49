// husk pause <container-id>
#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

int pause(const GlobalOptions &g, const ParsedArgs &a) {
  auto st = lifecycle::pause(make_context(g), a.positional[0]);
  return st ? 0 : report(g, st.error());
}

}  // namespace

const Command kPauseCommand{
    .name = "pause",
    .summary = "freeze every process of a container",
    .usage = "pause <container-id>",
    .description =
        "Freezes all processes in the container's cgroup with the cgroup freezer; they stay "
        "in memory but get no CPU time until `husk resume`. The container's status becomes "
        "\"paused\".",
    .examples =
        "husk pause web\n"
        "husk resume web",
    .run = pause,
};

}  // namespace husk::cli
