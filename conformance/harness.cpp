#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "sys/fd.hpp"

extern char** environ;

namespace husk::conformance {
namespace {

using sys::UniqueFd;
namespace stdfs = std::filesystem;

constexpr const char* kMarkVar = "HUSK_TEST_PROC";
constexpr const char* kCgroupRoot = "/sys/fs/cgroup";
constexpr const char* kCgroupParent = "husk-test";

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view kv(*e);
    auto name = kv.substr(0, kv.find('=') + 1);
    bool overridden = std::any_of(extra.begin(), extra.end(),
                                  [&](const std::string& x) { return x.starts_with(name); });
    if (!overridden) env.emplace_back(kv);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// waitpid(2) for our child, bounded by a pidfd poll(2): a hung husk must not
// hang the suite.
int wait_child(pid_t pid, double timeout_s, bool* timed_out) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  UniqueFd guard(pidfd);
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int rc;
    do {
      rc = ::poll(&p, 1, static_cast<int>(timeout_s * 1000));
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      *timed_out = true;
      ::kill(pid, SIGKILL);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string unescape_mount_path(const std::string& p) {
  // proc(5): space, tab, newline and backslash appear as \ooo in mountinfo.
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 3 < p.size() + 0 && std::isdigit(p[i + 1]) != 0) {
      out.push_back(static_cast<char>(std::stoi(p.substr(i + 1, 3), nullptr, 8)));
      i += 3;
    } else {
      out.push_back(p[i]);
    }
  }
  return out;
}

std::vector<std::string> mounts_under(const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(read_text("/proc/self/mountinfo"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, dev, root, mp;
    f >> id >> parent >> dev >> root >> mp;
    mp = unescape_mount_path(mp);
    if (mp == prefix || mp.starts_with(prefix + "/")) out.push_back(mp);
  }
  return out;
}

bool process_alive(const std::string& pid) {
  std::string stat = read_text("/proc/" + pid + "/stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  char state = stat[close + 2];
  return state != 'Z' && state != 'X';
}

// Processes whose environment carries HUSK_TEST_PROC=<mark>: husk calls and
// the container processes they started, in whatever namespace they live.
std::vector<pid_t> marked_pids(const std::string& mark) {
  std::vector<pid_t> out;
  std::string want = std::string(kMarkVar) + "=" + mark;
  std::string self = std::to_string(::getpid());
  for (const auto& e :
       stdfs::directory_iterator("/proc", stdfs::directory_options::skip_permission_denied)) {
    std::string pid = e.path().filename();
    if (pid.empty() || std::isdigit(pid[0]) == 0 || pid == self) continue;
    std::string env = read_text("/proc/" + pid + "/environ");
    size_t pos = 0;
    while (pos < env.size()) {
      size_t end = env.find('\0', pos);
      if (end == std::string::npos) end = env.size();
      if (std::string_view(env).substr(pos, end - pos) == want) {
        if (process_alive(pid)) out.push_back(std::stoi(pid));
        break;
      }
      pos = end + 1;
    }
  }
  return out;
}

// husk-test/<name> in every hierarchy (each v1 controller mount, the hybrid
// unified mount, or a pure v2 root), with its sub-cgroups, deepest first.
std::vector<std::string> cgroup_dirs(const std::string& name) {
  std::vector<std::string> tops = {std::string(kCgroupRoot) + "/" + kCgroupParent + "/" + name};
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(kCgroupRoot, ec)) {
    if (e.is_directory() && !e.is_symlink()) {
      tops.push_back(e.path().string() + "/" + kCgroupParent + "/" + name);
    }
  }
  std::vector<std::string> out;
  for (const auto& t : tops) {
    if (!stdfs::is_directory(t, ec)) continue;
    out.push_back(t);
    for (const auto& sub : stdfs::recursive_directory_iterator(t, ec)) {
      if (sub.is_directory()) out.push_back(sub.path().string());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

std::vector<std::string> container_dirs(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(root, ec)) {
    std::string n = e.path().filename();
    if (!n.starts_with(".") && e.is_directory()) out.push_back(n);
  }
  return out;
}

void remove_cgroup(const std::string& dir) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (::rmdir(dir.c_str()) < 0 && errno != ENOENT) {
    // EBUSY: processes still inside (or exiting, until reaped).
    std::istringstream procs(read_text(dir + "/cgroup.procs"));
    for (pid_t p; procs >> p;) ::kill(p, SIGKILL);
    reap_orphans();
    if (std::chrono::steady_clock::now() > deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::string CmdResult::describe() const {
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  auto tail = [](const std::string& s) { return s.size() > 2000 ? s.substr(s.size() - 2000) : s; };
  return fmt::format("$ {}\n    rc={}{}\n    --- stdout\n{}\n    --- stderr\n{}", cmd, rc,
                     timed_out ? " (timed out)" : "", tail(out), tail(err));
}

Result<CmdResult> run_cmd(const std::vector<std::string>& argv, const std::string& io_dir,
                          const std::vector<std::string>& extra_env, double timeout_s,
                          const std::string& cwd) {
  static int counter = 0;
  std::string base = fmt::format("{}/{:03d}", io_dir, ++counter);
  UniqueFd out(::open((base + ".out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out) return Error::last("open {}.out", base);
  UniqueFd err(::open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!err) return Error::last("open {}.err", base);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return Error::last("open /dev/null");

  // Everything execve needs is built before fork: the child only dup2s.
  std::vector<std::string> args = argv;
  std::vector<std::string> env = merged_env(extra_env);
  auto c_args = c_strings(args);
  auto c_env = c_strings(env);
  pid_t pid = ::fork();
  if (pid < 0) return Error::last("fork");
  if (pid == 0) {
    if (::dup2(null.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err.get(), 2) < 0) {
      ::_exit(126);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) < 0) ::_exit(126);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  CmdResult r;
  r.argv = argv;
  r.rc = wait_child(pid, timeout_s, &r.timed_out);
  r.out = read_text(base + ".out");
  r.err = read_text(base + ".err");
  return r;
}

Status become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
    return Error::last("prctl PR_SET_CHILD_SUBREAPER");
  }
  return {};
}

void reap_orphans() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

std::string test_tag() {
  std::string tag;
  if (const char* t = std::getenv("HUSK_TEST_TAG")) {
    for (const char* p = t; *p != '\0'; ++p) {
      if (std::isalnum(static_cast<unsigned char>(*p)) != 0 || *p == '_') tag.push_back(*p);
    }
  }
  return tag.empty() ? fmt::format("c{}", ::getpid()) : tag;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Status write_text(const std::string& path, const std::string& text, unsigned mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return Error::last("open {}", path);
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::last("write {}", path);
    off += static_cast<size_t>(n);
  }
  // The umask may have narrowed the mode: hook scripts must be executable.
  if (::fchmod(fd.get(), mode) < 0) return Error::last("chmod {}", path);
  return {};
}

Result<Sandbox> make_sandbox(const std::string& session, int index, const std::string& name) {
  Sandbox sb;
  std::string clean;
  for (char c : name.substr(0, 40))
    clean.push_back(std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_');
  sb.dir = fmt::format("{}/{:03d}-{}", session, index, clean);
  sb.root = sb.dir + "/root";
  sb.bundle = sb.dir + "/bundle";
  sb.cgname = fmt::format("{}-c{}", test_tag(), index);
  sb.cgroup = fmt::format("/{}/{}", kCgroupParent, sb.cgname);
  sb.mark = fmt::format("{}.c{}", test_tag(), index);
  for (const auto& [d, mode] :
       {std::pair{sb.dir, 0755}, {sb.root, 0700}, {sb.bundle, 0755}, {sb.dir + "/io", 0755}}) {
    if (::mkdir(d.c_str(), mode) < 0) return Error::last("mkdir {}", d);
  }
  return sb;
}

std::vector<std::string> leftovers(const Sandbox& sb) {
  std::vector<std::string> out;
  for (const auto& c : container_dirs(sb.root)) out.push_back("state dir " + sb.root + "/" + c);
  for (pid_t p : marked_pids(sb.mark)) {
    std::string cmd = read_text(fmt::format("/proc/{}/cmdline", p));
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    out.push_back(fmt::format("process {} ({})", p, cmd));
  }
  for (const auto& d : cgroup_dirs(sb.cgname)) out.push_back("cgroup " + d);
  for (const auto& m : mounts_under(sb.dir)) out.push_back("mount " + m);
  return out;
}

void force_clean(const Sandbox& sb) {
  for (pid_t p : marked_pids(sb.mark)) ::kill(p, SIGKILL);
  reap_orphans();
  for (const auto& d : cgroup_dirs(sb.cgname)) remove_cgroup(d);
  auto mounts = mounts_under(sb.dir);
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
  remove_unmounted_tree(sb.dir);
}

bool remove_unmounted_tree(const std::string& dir) {
  // remove_all would walk into a mount still there: a bind of a host
  // directory would lose its files.
  if (!mounts_under(dir).empty()) return false;
  std::error_code ec;
  stdfs::remove_all(dir, ec);
  return !ec;
}

void remove_cgroup_parents() {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(kCgroupRoot, ec)) {
    if (e.is_directory() && !e.is_symlink()) {
      ::rmdir((e.path().string() + "/" + kCgroupParent).c_str());  // only succeeds when empty
    }
  }
  ::rmdir((std::string(kCgroupRoot) + "/" + kCgroupParent).c_str());
}

}  // namespace husk::conformance
