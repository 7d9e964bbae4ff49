// husk start <container-id>
#include "lifecycle/start.hpp"

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

int cmd_start(const GlobalOptions& g, std::span<const std::string> args) {
  VerbSpec v{"start", "start <container-id>", {}};
  int code = 0;
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  if (auto s = lifecycle::start(make_context(g), a->positional[0]); !s) return report(g, s.error());
  return 0;
}

}  // namespace husk::cli
