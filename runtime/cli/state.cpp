#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

int cmd_state(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  auto a = parse_verb(g, args, {"state", "state <container-id>", {}}, &code);
  if (!a) return code;
  auto json = lifecycle::state_json(make_context(g), a->positional[0]);
  if (!json) return report(g, json.error());
  print_out(*json + "\n");
  return 0;
}

}  // namespace husk::cli
