// husk run [--detach|-d] [--keep] [--no-subreaper] [create options] <container-id>
#include "lifecycle/run.hpp"

#include "cli/context.hpp"
#include "cli/create_options.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr auto kOptions = join_options(
    kCreateOptions,
    std::array{
        bool_option("detach", 'd', "return once the program started, leaving it running"),
        bool_option("keep", 0, "keep the stopped container instead of deleting it at its exit"),
        bool_option("no-subreaper", 0,
                    "do not make husk the subreaper of the container's orphaned processes"),
    });

int run(const GlobalOptions& g, const ParsedArgs& a) {
  lifecycle::RunOptions o;
  auto co = create_options(a);
  if (!co) return report(g, co.error());
  o.create = std::move(*co);
  o.detach = a.flag("detach");
  o.keep = a.flag("keep");
  o.no_subreaper = a.flag("no-subreaper");
  auto r = lifecycle::run(make_context(g), o);
  if (!r) return report(g, r.error());
  return *r;
}

}  // namespace

const Command kRunCommand{
    .name = "run",
    .summary = "create and start a container, and wait for it",
    .usage = "run [command options] <container-id>",
    .description =
        "Does what create and start do, then stays in the foreground until the container's "
        "program exits, forwarding signals to it, and exits with its status (128 + the "
        "signal number when a signal ended it). The stopped container is then deleted, "
        "unless --keep is given.\n"
        "\n"
        "With --detach, husk returns as soon as the program has started; the container "
        "keeps running and must be deleted with `husk delete` once it stops.",
    .examples =
        "# Run the bundle in the current directory in the foreground:\n"
        "husk run demo\n"
        "\n"
        "# Start a long-running container in the background:\n"
        "husk run --detach --bundle /srv/web web",
    .options = kOptions,
    .operand = Operand::NewId,
    .run = run,
};

}  // namespace husk::cli
