// husk delete [--force] <container-id>
#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    bool_option("force", 'f', "kill the container first if it is still running or paused"),
};

int destroy(const GlobalOptions &g, const ParsedArgs &a) {
  auto st = lifecycle::destroy(make_context(g), a.positional[0], a.flag("force"));
  return st ? 0 : report(g, st.error());
}

}  // namespace

const Command kDeleteCommand{
    .name = "delete",
    .summary = "delete a container and everything it holds",
    .usage = "delete [command options] <container-id>",
    .description =
        "Removes a stopped (or created) container: its cgroups, its state directory and any "
        "mounts or namespaces it pinned. The poststop hooks run afterwards.\n"
        "\n"
        "A running or paused container is refused, unless --force is given: then its "
        "processes are killed with SIGKILL first.",
    .examples =
        "# Remove a container whatever its status:\n"
        "husk delete --force web",
    .options = kOptions,
    .run = destroy,
};

}  // namespace husk::cli
