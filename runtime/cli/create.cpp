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

constexpr OptionSpec kOptions[] = {
    {"bundle", 'b', true},     {"console-socket", 0, true},  {"pid-file", 0, true},
    {"no-pivot", 0, false},    {"no-new-keyring", 0, false}, {"preserve-fds", 0, true},
    {"pidfd-socket", 0, true},
};

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

std::span<const OptionSpec> create_option_specs() { return kOptions; }

int cmd_create(const GlobalOptions& g, std::span<const std::string> args) {
  VerbSpec v{"create", "create [command options] <container-id>", kOptions};
  int code = 0;
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  auto o = create_options(*a);
  if (!o) return report(g, o.error());
  auto created = lifecycle::create(make_context(g), *o);
  if (!created) return report(g, created.error());
  return 0;
}

}  // namespace husk::cli
