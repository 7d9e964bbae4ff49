// husk's entry point: global options (before the verb), then one verb from
// the table. Nothing here loads more than the options need, so --version and
// usage errors are fast.
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "base/phases.hpp"
#include "cli/cli.hpp"
#include "cli/verbs.hpp"
#include "state/store.hpp"
#include "sys/fd.hpp"

#ifndef HUSK_VERSION
#define HUSK_VERSION "0.0.0"
#endif
#ifndef HUSK_GIT_COMMIT
#define HUSK_GIT_COMMIT ""
#endif

namespace husk::cli {

namespace {

struct Verb {
  const char *name;
  VerbFn fn;
  const char *summary;
};

const std::array kVerbs{
    Verb{"create", cmd_create, "create a container"},
    Verb{"start", cmd_start, "start the user process of a created container"},
    Verb{"run", cmd_run, "create and start a container"},
    Verb{"exec", cmd_exec, "run a new process inside a container"},
    Verb{"state", cmd_state, "print the state of a container"},
    Verb{"kill", cmd_kill, "send a signal to a container's init (or all its processes)"},
    Verb{"delete", cmd_delete, "delete a container and what it holds"},
    Verb{"list", cmd_list, "list containers"},
    Verb{"ps", cmd_ps, "list the processes of a container"},
    Verb{"pause", cmd_pause, "freeze every process of a container"},
    Verb{"resume", cmd_resume, "thaw a paused container"},
    Verb{"update", cmd_update, "change the resource limits of a container"},
    Verb{"events", cmd_events, "show container events and statistics"},
    Verb{"features", cmd_features, "print what this runtime supports, as JSON"},
    Verb{"spec", cmd_spec, "write a default config.json"},
    Verb{"check", cmd_check, "report what is wrong with a bundle on this host, creating nothing"},
};

constexpr std::array kGlobalOptions{
    OptionSpec{"root", 0, true},
    OptionSpec{"log", 0, true},
    OptionSpec{"log-format", 0, true},
    OptionSpec{"debug", 0, false},
    OptionSpec{"systemd-cgroup", 0, false},
    OptionSpec{"rootless", 0, true},
    OptionSpec{"criu", 0, true},
    OptionSpec{"hooks-dir", 0, true, true},
    OptionSpec{"version", 'v', false},
};

void print(const std::string &s) {
  std::string_view rest = s;
  while (!rest.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, rest.data(), rest.size());
    if (n <= 0) return;
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

int version() {
  print(fmt::format("husk version {}\ncommit: {}\nspec: 1.3.0\n", HUSK_VERSION, HUSK_GIT_COMMIT));
  return 0;
}

int usage() {
  std::string out =
      "husk: an OCI container runtime\n\n"
      "Usage: husk [global options] <command> [command options] "
      "<container-id> [arguments...]\n\n"
      "Commands:\n";
  for (const auto &v : kVerbs) out += fmt::format("   {:<10}{}\n", v.name, v.summary);
  out +=
      "   help      show this help, or a command's (help <command>)\n\n"
      "Global options:\n"
      "   --root value            state directory (default /run/husk; "
      "rootless: "
      "$XDG_RUNTIME_DIR/husk)\n"
      "   --log value             also write errors and warnings to this file\n"
      "   --log-format value      text or json (default text)\n"
      "   --debug                 log debug lines\n"
      "   --systemd-cgroup        use systemd cgroups (unsupported)\n"
      "   --rootless value        true, false or auto (default auto)\n"
      "   --hooks-dir value       read hooks.d files from this directory instead of\n"
      "                           /usr/share/husk/hooks.d and /etc/husk/hooks.d\n"
      "                           (repeatable; later directories win)\n"
      "   --version, -v           print the version\n"
      "   --help, -h              show this help\n";
  print(out);
  return 0;
}

std::string absolute(const std::string &p) {
  if (p.empty() || p[0] == '/') return p;
  std::vector<char> buf(4096);
  if (::getcwd(buf.data(), buf.size()) == nullptr) return p;
  return std::string(buf.data()) + "/" + p;
}

Status apply_globals(const ParsedArgs &a, GlobalOptions &g) {
  if (auto f = a.value("log-format")) {
    if (*f == "json") {
      g.log_format = LogFormat::Json;
    } else if (*f != "text") {
      return Error::arg("unknown log-format \"{}\"", *f);
    }
  }
  if (auto l = a.value("log")) {
    // Opened (made) before any verb, as runc does: the file exists after
    // every call, also one that logged nothing (a successful exec), and a
    // path that cannot be written fails the call instead of losing its lines.
    std::string path = absolute(*l);
    sys::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) return Error::last("open {}", path);
    g.log = std::move(path);
  }
  g.debug = a.flag("debug");
  g.systemd_cgroup = a.flag("systemd-cgroup");
  if (auto r = a.value("rootless"); r && *r != "auto") {
    g.rootless = parse_bool(*r);
    if (!g.rootless)
      return Error::arg("invalid value for --rootless: \"{}\" (true, false or auto)", *r);
  }
  if (a.has("criu")) {
    return Error::make(ErrorKind::Unsupported, "--criu: checkpoint/restore is not supported");
  }
  for (const auto &d : a.all("hooks-dir")) g.hooks_dirs.push_back(absolute(d));
  g.root = a.value("root") ? absolute(*a.value("root")) : state::default_root();
  return {};
}

const Verb *find_verb(std::string_view name) {
  for (const auto &v : kVerbs) {
    if (name == v.name) return &v;
  }
  return nullptr;
}

int dispatch(const GlobalOptions &g, std::span<const std::string> rest) {
  std::string_view name = rest[0];
  if (name == "help") {
    if (rest.size() < 2) return usage();
    const Verb *v = find_verb(rest[1]);
    if (v == nullptr) return report(g, Error::arg("No help topic for '{}'", rest[1]));
    std::vector<std::string> help{"--help"};
    return v->fn(g, help);
  }
#ifdef HUSK_FAULT_POINTS
  // The fault points' table, for the test that stops husk at each of them.
  if (name == "__phases") {
    for (const auto &p : kPhases) std::printf("%s.%s\n", verb_name(p.verb).data(), p.name.data());
    return 0;
  }
#endif
  const Verb *v = find_verb(name);
  if (v == nullptr) {
    return report(g, Error::arg("unknown command \"{}\" (see husk --help)", name));
  }
  return v->fn(g, rest.subspan(1));
}

int run(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  GlobalOptions g;
  auto parsed = parse(args, kGlobalOptions, ArgOrder::StopAtPositional);
  if (!parsed) return report(g, parsed.error());
  if (parsed->flag("version")) return version();
  if (auto st = apply_globals(*parsed, g); !st) return report(g, st.error());
  if (parsed->help || parsed->positional.empty()) return usage();
  return dispatch(g, parsed->positional);
}

}  // namespace
}  // namespace husk::cli

int main(int argc, char **argv) {
  // husk reports errors as Results; only allocation failure throws (std::bad_alloc).
  try {
    return husk::cli::run(argc, argv);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "husk: %s\n", e.what());
    return 1;
  }
}
