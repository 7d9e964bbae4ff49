#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {
constexpr OptionSpec kOptions[] = {{"force", 'f', false}};
}  // namespace

int cmd_delete(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  auto a = parse_verb(g, args, {"delete", "delete [--force] <container-id>", kOptions}, &code);
  if (!a) return code;
  auto st = lifecycle::destroy(make_context(g), a->positional[0], a->flag("force"));
  return st ? 0 : report(g, st.error());
}

}  // namespace husk::cli
