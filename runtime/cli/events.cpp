#include "cli/verbs.hpp"

namespace husk::cli {

namespace {
constexpr OptionSpec kOptions[] = {{"interval", 0, true}, {"stats", 0, false}};
}  // namespace

int cmd_events(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  VerbSpec v{"events", "events [--stats] [--interval 5s] <container-id>", kOptions};
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  return report(g, Error::make(ErrorKind::Unsupported, "events: not implemented yet"));
}

}  // namespace husk::cli
