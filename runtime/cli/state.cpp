// husk state <container-id>
#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

int state(const GlobalOptions &g, const ParsedArgs &a) {
  auto json = lifecycle::state_json(make_context(g), a.positional[0]);
  if (!json) return report(g, json.error());
  print_out(*json + "\n");
  return 0;
}

}  // namespace

const Command kStateCommand{
    .name = "state",
    .summary = "print the state of a container",
    .usage = "state <container-id>",
    .description =
        "Prints the container's state as the OCI runtime specification defines it, as JSON: "
        "its id, status (created, running, paused or stopped), init pid, bundle path and "
        "annotations.",
    .examples =
        "# The status alone (jq(1) is a separate tool):\n"
        "husk state web | jq -r .status",
    .run = state,
};

}  // namespace husk::cli
