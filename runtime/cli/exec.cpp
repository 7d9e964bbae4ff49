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
    value_option("console-socket", 0, "PATH",
                 "unix socket to send the terminal master to (with --tty)"),
    value_option("pidfd-socket", 0, "PATH", "unix socket to send a pidfd of the new process to"),
    value_option("cwd", 0, "DIR", "working directory of the process, inside the container"),
    list_option("env", 'e', "NAME=VALUE", "set an environment variable (repeatable)"),
    bool_option("tty", 't', "give the process a terminal"),
    value_option("user", 'u', "UID[:GID]", "user and group ids to run the process as"),
    list_option("additional-gids", 'g', "GID", "add a supplementary group (repeatable)"),
    value_option("process", 'p', "FILE",
                 "read the whole process (args, env, user...) from FILE, a JSON process object"),
    bool_option("detach", 'd', "return once the process started, leaving it running"),
    value_option("pid-file", 0, "FILE", "write the new process's pid to FILE"),
    value_option("process-label", 0, "LABEL", "SELinux label of the process"),
    value_option("apparmor", 0, "PROFILE", "AppArmor profile of the process"),
    bool_option("no-new-privs", 0, "set no_new_privs: exec can never gain privileges"),
    list_option("cap", 'c', "CAP", "add a capability to the process's sets (repeatable)"),
    value_option("preserve-fds", 0, "N",
                 "pass N more open file descriptors, from fd 3 on, to the process"),
    list_option("cgroup", 0, "[CONTROLLER:]PATH",
                "run in this sub-cgroup of the container's cgroup (repeatable, per controller)"),
    bool_option("ignore-paused", 0, "run the process even if the container is paused"),
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

int exec(const GlobalOptions& g, const ParsedArgs& a) {
  auto o = exec_options(a);
  if (!o) return report(g, o.error());
  auto r = lifecycle::exec(make_context(g), *o);
  if (!r) return exec_failed(g, std::move(r).error());
  return *r;
}

}  // namespace

const Command kExecCommand{
    .name = "exec",
    .summary = "run a new process inside a running container",
    .usage =
        "exec [command options] <container-id> <command> [args...]\n"
        "       husk exec [command options] --process FILE <container-id>",
    .description =
        "Starts another process in the namespaces, cgroup and security context of a running "
        "container. The process inherits the settings of the container's config.json "
        "process; the options change single fields, or --process replaces the whole process "
        "object. Options must come before the container id: everything after it is the "
        "command and its arguments.\n"
        "\n"
        "husk waits for the process and exits with its status, unless --detach is given. If "
        "the process could not be started at all, the error begins with \"exec failed\" and "
        "the exit status is 255.",
    .examples =
        "# Open a shell with a terminal in the container web:\n"
        "husk exec --tty web /bin/sh\n"
        "\n"
        "# Run a command as user 1000 with an extra variable:\n"
        "husk exec --user 1000:1000 --env DEBUG=1 web /bin/ls -l /tmp",
    .options = kOptions,
    .max_args = SIZE_MAX,
    .order = ArgOrder::StopAtPositional,
    .run = exec,
};

}  // namespace husk::cli
