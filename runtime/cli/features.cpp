// husk features
#include "spec/features.hpp"

#include "cli/verbs.hpp"
#include "linux/capabilities.hpp"
#include "linux/lsm.hpp"

namespace husk::cli {

namespace {

int features(const GlobalOptions& /*g*/, const ParsedArgs& /*a*/) {
  auto in = spec::default_features_input();
  in.capabilities = linux_setup::known_capability_names();
  // As runc: what this host can apply, not what husk was built with.
  in.apparmor = linux_setup::apparmor_enabled();
  in.selinux = linux_setup::selinux_enabled();
  print_out(spec::features_json(in) + "\n");
  return 0;
}

}  // namespace

const Command kFeaturesCommand{
    .name = "features",
    .summary = "print what this runtime supports, as JSON",
    .usage = "features",
    .description =
        "Prints the OCI features document: the spec versions, hooks, mount options, "
        "namespaces, capabilities, cgroup and seccomp support this husk knows. Engines read "
        "it to decide what they may ask for.",
    .examples = "husk features",
    .options = {},
    .min_args = 0,
    .max_args = 0,
    .operand = Operand::None,
    .run = features,
};

}  // namespace husk::cli
