#include "spec/features.hpp"

#include "cli/verbs.hpp"
#include "linux/capabilities.hpp"

namespace husk::cli {

int cmd_features(const GlobalOptions &g, std::span<const std::string> args) {
  int code = 0;
  auto a = parse_verb(g, args, {"features", "features", {}, 0, 0}, &code);
  if (!a) return code;
  auto in = spec::default_features_input();
  in.capabilities = linux_setup::known_capability_names();
  print_out(spec::features_json(in) + "\n");
  return 0;
}

}  // namespace husk::cli
