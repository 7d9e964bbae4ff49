// husk's entry point: global options (before the verb), then one verb from
// the table (commands.hpp). Nothing here loads more than the options need, so --version and
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
#include "cli/commands.hpp"
#include "cli/docs.hpp"
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
  print(main_help());
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

int dispatch(const GlobalOptions &g, std::span<const std::string> rest) {
  std::string_view name = rest[0];
  if (name == "help") {
    if (rest.size() < 2) return usage();
    const Command *c = find_command(rest[1]);
    if (c == nullptr) return report(g, Error::arg("No help topic for '{}'", rest[1]));
    print(command_help(*c));
    return 0;
  }
#ifdef HUSK_FAULT_POINTS
  // The fault points' table, for the test that stops husk at each of them.
  if (name == "__phases") {
    for (const auto &p : kPhases) std::printf("%s.%s\n", verb_name(p.verb).data(), p.name.data());
    return 0;
  }
#endif
  // Hidden: the build writes the man pages and completions with it (docs.hpp).
  if (name == "__gen-docs") {
    if (rest.size() != 2) return report(g, Error::arg("usage: husk __gen-docs DIR"));
    auto st = write_docs(rest[1]);
    return st ? 0 : report(g, st.error());
  }
  const Command *c = find_command(name);
  if (c == nullptr) {
    return report(g, Error::arg("unknown command \"{}\" (see husk --help)", name));
  }
  return run_command(g, *c, rest.subspan(1));
}

int run(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  GlobalOptions g;
  auto parsed = parse(args, global_options(), ArgOrder::StopAtPositional);
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
