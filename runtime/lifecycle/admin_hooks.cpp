#include "lifecycle/admin_hooks.hpp"

#include "hooks/hooks_d.hpp"
#include "spec/config_edit.hpp"

namespace husk::lifecycle {

Status add_admin_hooks(const Context& ctx, spec::Config& cfg, std::string& config_bytes) {
  // --hooks-dir replaces the defaults, and a directory asked for must exist.
  bool given = !ctx.hooks_dirs.empty();
  auto files = TRY(hooks::load_hooks_d(given ? ctx.hooks_dirs : hooks::default_hooks_dirs(),
                                       /*missing_ok=*/!given));
  if (!TRY(hooks::inject(files, cfg))) return {};
  config_bytes = TRY_CTX(spec::with_hooks(config_bytes, *cfg.hooks), "add hooks.d hooks");
  return {};
}

}  // namespace husk::lifecycle
