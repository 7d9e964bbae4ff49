#include <csignal>

#include "cli/context.hpp"
#include "cli/verbs.hpp"
#include "spec/names.hpp"

namespace husk::cli {

namespace {
constexpr OptionSpec kOptions[] = {{"all", 'a', false}};
}  // namespace

int cmd_kill(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  VerbSpec v{"kill", "kill [--all] <container-id> [signal]", kOptions, 1, 2};
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  int sig = SIGTERM;
  if (a->positional.size() == 2) {
    auto parsed = spec::parse_signal(a->positional[1]);
    if (!parsed) return report(g, parsed.error());
    sig = *parsed;
  }
  auto st = lifecycle::kill(make_context(g), a->positional[0], sig, a->flag("all"));
  return st ? 0 : report(g, st.error());
}

}  // namespace husk::cli
