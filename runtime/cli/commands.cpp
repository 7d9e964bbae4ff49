#include "cli/commands.hpp"

#include <fmt/format.h>

#include <array>

#include "cli/verbs.hpp"

namespace husk::cli {

namespace {

constexpr std::array kCommands{
    &kCreateCommand, &kStartCommand,    &kRunCommand,    &kExecCommand,
    &kStateCommand,  &kKillCommand,     &kDeleteCommand, &kListCommand,
    &kPsCommand,     &kPauseCommand,    &kResumeCommand, &kUpdateCommand,
    &kEventsCommand, &kFeaturesCommand, &kSpecCommand,   &kCheckCommand,
};

constexpr OptionSpec kGlobalOptions[] = {
    value_option("root", 0, "DIR",
                 "directory of container state (default /run/husk; rootless: "
                 "$XDG_RUNTIME_DIR/husk)"),
    value_option("log", 0, "FILE", "also append errors and warnings to FILE"),
    value_option("log-format", 0, "text|json", "format of the --log lines (default text)"),
    bool_option("debug", 0, "log debug lines, with the time each phase took"),
    bool_option("systemd-cgroup", 0,
                "place containers in systemd units (cgroupsPath \"slice:prefix:name\"), made "
                "through systemd's D-Bus API"),
    value_option("rootless", 0, "true|false|auto",
                 "run as an unprivileged user's runtime (default auto: when not root)"),
    value_option("criu", 0, "PATH",
                 "accepted for runc compatibility; checkpoint/restore is not supported, so "
                 "giving it is an error"),
    list_option("hooks-dir", 0, "DIR",
                "read hooks.d files from DIR instead of /usr/share/husk/hooks.d and "
                "/etc/husk/hooks.d (repeatable; a later directory's file replaces an earlier "
                "one of the same name)"),
    bool_option("version", 'v', "print the version, commit and OCI spec version"),
};

}  // namespace

const char* const kProgramSummary = "an OCI container runtime";

const char* const kProgramDescription =
    "husk starts and manages containers described by OCI bundles: a directory holding a root "
    "filesystem and a config.json that follows the OCI runtime specification. It is a "
    "low-level runtime, the program an engine such as podman or containerd runs for each "
    "container operation, and it accepts the command line those engines give runc.\n"
    "\n"
    "Each container has a state directory under --root, named after its id. A container is "
    "created first (its namespaces, cgroups and mounts are set up and its process waits), "
    "then started (the process executes), and finally deleted once it has stopped. The run "
    "command does all three.\n"
    "\n"
    "Errors are printed on standard error; with --log they are also appended to a file, in "
    "the format --log-format selects, for engines that read it.";

const char* const kProgramExamples =
    "# Make a bundle with the default configuration, then run it:\n"
    "mkdir -p /srv/c1/rootfs && cd /srv/c1 && husk spec\n"
    "husk run c1\n"
    "\n"
    "# Keep the state of a test run apart from the system's:\n"
    "husk --root /tmp/husk-state list";

std::span<const Command* const> commands() { return kCommands; }

const Command* find_command(std::string_view name) {
  for (const Command* c : kCommands) {
    if (name == c->name) return c;
  }
  return nullptr;
}

std::span<const OptionSpec> global_options() { return kGlobalOptions; }

std::string main_help() {
  std::string out = fmt::format(
      "husk: {}\n\n"
      "Usage: husk [global options] <command> [command options] <container-id> "
      "[arguments...]\n\n"
      "Commands:\n",
      kProgramSummary);
  for (const Command* c : kCommands) out += fmt::format("   {:<10}{}\n", c->name, c->summary);
  out += "   help      show this help, or a command's (help <command>)\n\nGlobal options:\n";
  out += options_help(kGlobalOptions, true);
  out += "\nSee husk(8) and husk-<command>(8) for the details.\n";
  return out;
}

}  // namespace husk::cli
