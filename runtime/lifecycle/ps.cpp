#include <fcntl.h>
#include <fmt/ranges.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "lifecycle/lifecycle.hpp"
#include "sys/fd.hpp"
#include "sys/file.hpp"

extern char **environ;  // NOLINT(readability-redundant-declaration)

namespace husk::lifecycle {

namespace {

std::vector<std::string_view> split_ws(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t b = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > b) out.push_back(line.substr(b, i - b));
  }
  return out;
}

// posix_spawnp(3) of ps, its stdout captured; stderr stays ours.
Result<std::string> run_ps(const std::vector<std::string> &args) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::last("pipe");
  sys::UniqueFd rd(p[0]), wr(p[1]);
  std::vector<char *> argv;
  std::string name = "ps";
  argv.push_back(name.data());
  for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), STDOUT_FILENO);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, "ps", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Error::sys(rc, "exec ps");
  wr.reset();
  auto out = sys::read_all(rd.get(), "ps output");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::last("waitpid ps");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error::make(ErrorKind::Sys, "ps {}: exit status {}", fmt::join(args, " "),
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return out;
}

}  // namespace

Result<std::vector<pid_t>> pids(const Context &ctx, std::string_view id) {
  auto store = TRY(open_store(ctx));
  auto dir = TRY(store.open_container(id));
  auto o = TRY(observe(dir));
  if (o.status == state::Status::Stopped) return std::vector<pid_t>();
  auto mgr = TRY(load_cgroup(o.st));
  if (!mgr) return std::vector<pid_t>{o.st.pid};
  auto list = TRY_CTX(mgr->pids(), "container {}", id);
  std::sort(list.begin(), list.end());
  return list;
}

Result<std::string> ps_table(const Context &ctx, std::string_view id,
                             const std::vector<std::string> &ps_args) {
  auto wanted = TRY(pids(ctx, id));
  std::string out = TRY(run_ps(ps_args.empty() ? std::vector<std::string>{"-ef"} : ps_args));
  std::istringstream lines(out);
  std::string line;
  if (!std::getline(lines, line)) return Error::make(ErrorKind::Sys, "ps printed nothing");
  auto header = split_ws(line);
  auto col = std::find(header.begin(), header.end(), "PID");
  if (col == header.end())
    return Error::make(ErrorKind::Sys, "couldn't find PID field in ps output");
  size_t idx = static_cast<size_t>(col - header.begin());
  std::string result = line + "\n";
  while (std::getline(lines, line)) {
    auto f = split_ws(line);
    if (f.size() <= idx) continue;
    pid_t p = 0;
    auto [end, ec] = std::from_chars(f[idx].data(), f[idx].data() + f[idx].size(), p);
    if (ec != std::errc() || end != f[idx].data() + f[idx].size()) {
      return Error::make(ErrorKind::Sys, "unexpected pid '{}' in ps output", f[idx]);
    }
    if (std::binary_search(wanted.begin(), wanted.end(), p)) result += line + "\n";
  }
  return result;
}

}  // namespace husk::lifecycle
