// husk exec [command options] <container-id> <command> [args...]
// husk exec [command options] --process FILE <container-id>
// runc's flags; options end at the container id (`exec ID sh -c x`), and a
// "--" before the command is accepted.
#include "lifecycle/exec.hpp"

#include <charconv>

#include "cli/context.hpp"
#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr OptionSpec kOptions[] = {
    {"console-socket", 0, true},
    {"pidfd-socket", 0, true},
    {"cwd", 0, true},
    {"env", 'e', true, true},
    {"tty", 't', false},
    {"user", 'u', true},
    {"additional-gids", 'g', true, true},
    {"process", 'p', true},
    {"detach", 'd', false},
    {"pid-file", 0, true},
    {"process-label", 0, true},
    {"apparmor", 0, true},
    {"no-new-privs", 0, false},
    {"cap", 'c', true, true},
    {"preserve-fds", 0, true},
    {"cgroup", 0, true, true},
    {"ignore-paused", 0, false},
};

Result<int> parse_preserve_fds(const std::string& n) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
  if (n.empty() || ec != std::errc() || end != n.data() + n.size() || v > 65536) {
    return Error::arg("invalid value {:?} for flag -preserve-fds: parse error", n);
  }
  return static_cast<int>(v);
}

Result<lifecycle::ExecOptions> exec_options(const ParsedArgs& a) {
  lifecycle::ExecOptions o;
  o.id = a.positional.at(0);
  o.process_file = a.value("process");
  if (o.process_file && o.process_file->empty()) return Error::arg("--process: empty path");
  std::vector<std::string> command(a.positional.begin() + 1, a.positional.end());
  // `exec ID -- cmd ...`: the "--" after the id only separates.
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (o.process_file && !command.empty()) {
    return Error::arg("--process {} and a command ({:?}) cannot be combined", *o.process_file,
                      command[0]);
  }
  if (!o.process_file && command.empty()) return Error::arg("process args cannot be empty");
  auto& ov = o.overrides;
  ov.args = std::move(command);
  ov.cwd = a.value("cwd");
  ov.env = a.all("env");
  ov.user = a.value("user");
  ov.extra_gids = a.all("additional-gids");
  ov.caps = a.all("cap");
  ov.tty = a.flag("tty");
  if (a.has("no-new-privs")) ov.no_new_privs = a.flag("no-new-privs");
  ov.apparmor = a.value("apparmor");
  ov.process_label = a.value("process-label");
  o.detach = a.flag("detach");
  o.pid_file = a.value("pid-file");
  o.console_socket = a.value("console-socket");
  o.pidfd_socket = a.value("pidfd-socket");
  if (auto n = a.value("preserve-fds")) o.preserve_fds = TRY(parse_preserve_fds(*n));
  o.cgroups = a.all("cgroup");
  o.ignore_paused = a.flag("ignore-paused");
  return o;
}

// runc: "exec failed: ..." and exit status 255 for anything that kept the
// process from running (podman and containerd read the message, not the code).
int exec_failed(const GlobalOptions& g, Error e) {
  report(g, std::move(e).wrap("exec failed"));
  return 255;
}

}  // namespace

int cmd_exec(const GlobalOptions& g, std::span<const std::string> args) {
  VerbSpec v{"exec",
             "exec [command options] <container-id> <command> [args...]\n"
             "       husk exec [command options] --process FILE <container-id>",
             kOptions,
             1,
             SIZE_MAX,
             ArgOrder::StopAtPositional};
  int code = 0;
  auto a = parse_verb(g, args, v, &code);
  if (!a) return code;
  auto o = exec_options(*a);
  if (!o) return report(g, o.error());
  auto r = lifecycle::exec(make_context(g), *o);
  if (!r) return exec_failed(g, std::move(r).error());
  return *r;
}

}  // namespace husk::cli
