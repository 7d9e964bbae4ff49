#include "linux/rootless.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "linux/mountinfo.hpp"
#include "sys/fd.hpp"
#include "sys/file.hpp"

extern char** environ;

namespace husk::linux_setup {

namespace {

// The helper's message, trimmed, for an error (e.g. "newuidmap: uid range
// [0-65536) -> [100000-165536) not allowed").
std::string drain(int fd) {
  std::string out;
  char buf[1024];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) c = c == '\n' ? ';' : c;
  return out;
}

// argv of newuidmap/newgidmap: the pid, then "inside outside count" triples.
std::vector<std::string> helper_args(const char* name, pid_t pid,
                                     const std::vector<spec::IdMapping>& maps) {
  std::vector<std::string> args{name, std::to_string(pid)};
  for (const auto& m : maps) {
    args.push_back(std::to_string(m.container_id));
    args.push_back(std::to_string(m.host_id));
    args.push_back(std::to_string(m.size));
  }
  return args;
}

// posix_spawnp(3) of argv with stderr (and stdout) into a pipe; the exit
// status and what it printed.
Result<std::pair<int, std::string>> run_captured(const std::vector<std::string>& args) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::last("pipe");
  sys::UniqueFd rd(p[0]), wr(p[1]);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), STDERR_FILENO);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Error::sys(rc, "exec {}", args[0]);
  wr.reset();
  std::string out = drain(rd.get());
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::last("waitpid {}", args[0]);
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return std::pair<int, std::string>(code, std::move(out));
}

}  // namespace

uid_t host_euid() {
  uid_t uid = ::geteuid();
  auto map = sys::read_file("/proc/self/uid_map");
  if (!map) return uid;
  std::istringstream in(*map);
  uint64_t inside = 0, outside = 0, count = 0;
  while (in >> inside >> outside >> count) {
    if (uid >= inside && uid - inside < count) return static_cast<uid_t>(outside + (uid - inside));
  }
  return uid;
}

bool in_user_namespace() {
  auto map = sys::read_file("/proc/self/uid_map");
  if (!map) return false;  // no user namespaces in this kernel
  std::istringstream in(*map);
  uint64_t inside = 1, outside = 1, count = 0;
  in >> inside >> outside >> count;
  std::string more;
  bool identity = inside == 0 && outside == 0 && count == 4294967295ULL && !(in >> more);
  return !identity;
}

bool rootless(std::optional<bool> flag) {
  if (flag) return *flag;
  return ::geteuid() != 0 || in_user_namespace();
}

std::string default_state_root() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg == nullptr || *xdg == '\0') return "/run/husk";
  bool honor = ::geteuid() != 0;
  if (!honor && in_user_namespace()) {
    const char* user = std::getenv("USER");
    honor = user == nullptr || std::strcmp(user, "root") != 0;
  }
  return honor ? std::string(xdg) + "/husk" : "/run/husk";
}

bool device_nodes_are_binds(bool config_userns) { return config_userns || in_user_namespace(); }

MapWriter map_writer(const std::vector<spec::IdMapping>& maps, bool gid) {
  if (::geteuid() == 0) return MapWriter::Direct;
  uint32_t own = gid ? ::getegid() : ::geteuid();
  bool single_own = maps.size() == 1 && maps[0].size == 1 && maps[0].host_id == own;
  return single_own ? MapWriter::Direct : MapWriter::Helper;
}

Status write_map_with_helper(pid_t pid, const std::vector<spec::IdMapping>& maps, bool gid,
                             const char* field) {
  const char* name = gid ? "newgidmap" : "newuidmap";
  auto run = run_captured(helper_args(name, pid, maps));
  if (!run && run.error().err() == ENOENT) {
    return Error::make(ErrorKind::Unsupported,
                       "{}: an unprivileged caller may map only its own {} directly; more "
                       "needs {} (Debian package uidmap), which is not installed",
                       field, gid ? "gid" : "uid", name);
  }
  if (!run) return std::move(run).error().wrap("{}", field);
  if (run->first != 0) {
    return Error::make(ErrorKind::InvalidSpec, "{}: {} refused the mapping (exit status {}): {}",
                       field, name, run->first, run->second);
  }
  return {};
}

}  // namespace husk::linux_setup
