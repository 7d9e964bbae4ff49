#include "spec/features.hpp"

#include "cli/verbs.hpp"

namespace husk::cli {

int cmd_features(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  auto a = parse_verb(g, args, {"features", "features", {}, 0, 0}, &code);
  if (!a) return code;
  print_out(spec::features_json(spec::default_features_input()) + "\n");
  return 0;
}

}  // namespace husk::cli
