#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

int cmd_pause(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  auto a = parse_verb(g, args, {"pause", "pause <container-id>", {}}, &code);
  if (!a) return code;
  auto st = lifecycle::pause(make_context(g), a->positional[0]);
  return st ? 0 : report(g, st.error());
}

}  // namespace husk::cli
