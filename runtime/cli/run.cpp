// husk run [--detach|-d] [--keep] [--no-subreaper] [create options] <container-id>
#include "lifecycle/run.hpp"

#include <vector>

#include "cli/context.hpp"
#include "cli/create_options.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

int cmd_run(const GlobalOptions& g, std::span<const std::string> args) {
  std::vector<OptionSpec> options(create_option_specs().begin(), create_option_specs().end());
  options.push_back({"detach", 'd', false});
  options.push_back({"keep", 0, false});
  options.push_back({"no-subreaper", 0, false});
  VerbSpec v{"run", "run [command options] <container-id>", options};
  int code = 0;
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  lifecycle::RunOptions o;
  auto co = create_options(*a);
  if (!co) return report(g, co.error());
  o.create = std::move(*co);
  o.detach = a->flag("detach");
  o.keep = a->flag("keep");
  o.no_subreaper = a->flag("no-subreaper");
  auto r = lifecycle::run(make_context(g), o);
  if (!r) return report(g, r.error());
  return *r;
}

}  // namespace husk::cli
