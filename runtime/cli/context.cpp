#include "cli/context.hpp"

namespace husk::cli {

lifecycle::Context make_context(const GlobalOptions& g) {
  lifecycle::Context ctx;
  ctx.root = g.root;
  ctx.systemd_cgroup = g.systemd_cgroup;
  ctx.rootless = g.rootless;
  ctx.hooks_dirs = g.hooks_dirs;
  ctx.debug_enabled = g.debug;
  ctx.log = [g](const char* level, const std::string& msg) { log_line(g, level, msg); };
  return ctx;
}

}  // namespace husk::cli
