// hooks.d (hooks/hooks_d.hpp) at create: resolved once, before any side
// effect, against the container's config as the engine wrote it.
#pragma once

#include <string>

#include "base/result.hpp"
#include "lifecycle/lifecycle.hpp"
#include "spec/config.hpp"

namespace husk::lifecycle {

// Append the matching hooks.d hooks (ctx.hooks_dirs, else the default
// directories) to cfg's hooks. When any match, config_bytes, the text saved
// in the state directory, is rewritten to list them too: start (poststart)
// and delete (poststop) read the hooks from that copy, so they run what
// create resolved even if hooks.d changes in between.
Status add_admin_hooks(const Context& ctx, spec::Config& cfg, std::string& config_bytes);

}  // namespace husk::lifecycle
