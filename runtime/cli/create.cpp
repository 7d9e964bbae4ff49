// husk create [--bundle|-b DIR] [--console-socket PATH] [--pid-file PATH]
//             [--no-pivot] [--no-new-keyring] [--preserve-fds N] [--pidfd-socket PATH]
//             <container-id>
#include "lifecycle/create.hpp"

#include <charconv>

#include "cli/context.hpp"
#include "cli/create_options.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

int create(const GlobalOptions& g, const ParsedArgs& a) {
  auto o = create_options(a);
  if (!o) return report(g, o.error());
  auto created = lifecycle::create(make_context(g), *o);
  if (!created) return report(g, created.error());
  return 0;
}

}  // namespace

Result<lifecycle::CreateOptions> create_options(const ParsedArgs& a) {
  lifecycle::CreateOptions o;
  o.id = a.positional.at(0);
  o.bundle = a.value("bundle").value_or("");
  o.pid_file = a.value("pid-file");
  o.console_socket = a.value("console-socket");
  o.pidfd_socket = a.value("pidfd-socket");
  o.no_pivot = a.flag("no-pivot");
  o.no_new_keyring = a.flag("no-new-keyring");
  if (auto n = a.value("preserve-fds")) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), v);
    if (ec != std::errc() || end != n->data() + n->size() || v > 65536) {
      return Error::arg("invalid value {:?} for flag -preserve-fds: parse error", *n);
    }
    o.preserve_fds = static_cast<int>(v);
  }
  return o;
}

const Command kCreateCommand{
    .name = "create",
    .summary = "create a container",
    .usage = "create [command options] <container-id>",
    .description =
        "Sets up a container from the bundle's config.json: namespaces, cgroups, mounts, "
        "devices and the security settings, then leaves its process waiting just before it "
        "executes the configured program. The container's status is then \"created\"; "
        "`husk start` lets the program run. The createRuntime, createContainer and "
        "prestart hooks run during create.\n"
        "\n"
        "The container id must be unique under --root. Everything create made is removed "
        "again if any step fails.",
    .examples =
        "# Create a container from the bundle in /srv/web and record its pid:\n"
        "husk create --bundle /srv/web --pid-file /run/web.pid web\n"
        "husk start web",
    .options = kCreateOptions,
    .operand = Operand::NewId,
    .run = create,
};

}  // namespace husk::cli
