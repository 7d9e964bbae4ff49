// husk start <container-id>
#include "lifecycle/start.hpp"

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

int start(const GlobalOptions& g, const ParsedArgs& a) {
  if (auto s = lifecycle::start(make_context(g), a.positional[0]); !s) return report(g, s.error());
  return 0;
}

}  // namespace

const Command kStartCommand{
    .name = "start",
    .summary = "start the program of a created container",
    .usage = "start <container-id>",
    .description =
        "Lets a container made by `husk create` execute its configured program, and returns "
        "once it has. The startContainer hooks run in the container just before, the "
        "poststart hooks after. A container can be started once.",
    .examples =
        "husk create --bundle /srv/web web\n"
        "husk start web",
    .run = start,
};

}  // namespace husk::cli
