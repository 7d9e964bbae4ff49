// Helpers shared by the unit tests: scratch directories, a forked child whose
// output is read back, and the one place a test asks what the host offers.
#pragma once

#include <fcntl.h>
#include <rapidjson/document.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/result.hpp"
#include "spec/config.hpp"

namespace husk::test {

// Whether any of the plan's warnings mentions `needle`.
inline bool any_warning_contains(const std::vector<std::string>& w, const std::string& needle) {
  for (const auto& s : w) {
    if (s.find(needle) != std::string::npos) return true;
  }
  return false;
}

// The value of r; a failure ends the test case with r's error message.
template <class T>
T must(husk::Result<T> r) {
  if (!r) FAIL(r.error().message());
  return std::move(r).value();
}

// A JSON text that must parse to an object.
inline rapidjson::Document parse_json_object(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  REQUIRE_FALSE(d.HasParseError());
  REQUIRE(d.IsObject());
  return d;
}

// A config mount entry.
inline spec::Mount mount_entry(std::string dest, std::optional<std::string> type,
                               std::optional<std::string> src, std::vector<std::string> options) {
  spec::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(src);
  m.options = std::move(options);
  return m;
}

// A fresh directory under the temporary directory, removed with all it holds.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "husk-unit") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  [[nodiscard]] std::string operator/(const std::string& name) const {
    return (path / name).string();
  }
};

// What a forked child wrote to its pipe, and how it ended.
struct ChildOutput {
  std::string out;
  int status = -1;  // the wait status; -1 when the pipe or the fork failed
  [[nodiscard]] bool exited() const { return status >= 0 && WIFEXITED(status); }
  [[nodiscard]] int exit_code() const { return exited() ? WEXITSTATUS(status) : -1; }
};

// Runs body(fd) in a forked child, fd being the write end of a close-on-exec
// pipe, and the child exits 0 when body returns; the parent reads until every
// write end is closed, then reaps the child. No Catch2 macro here: it also
// runs inside children, where a failed assertion must not unwind into the
// test runner's copy.
inline ChildOutput fork_and_read(const std::function<void(int)>& body) {
  ChildOutput r;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return r;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    return r;
  }
  if (pid == 0) {
    ::close(p[0]);
    body(p[1]);
    ::_exit(0);
  }
  ::close(p[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

// "key=value" lines -> {key: value}; other lines are ignored.
inline std::map<std::string, std::string> parse_kv_lines(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

// ---- what the host offers ----------------------------------------------------
// A case that needs one of these is tagged [host] and starts with
// HUSK_SKIP_UNLESS(Host::...). ctest runs each [host] case on its own (see
// CMakeLists.txt), and main.cpp turns a run whose every case was skipped into
// exit code kSkipExit, which ctest's SKIP_RETURN_CODE reports as skipped, with
// the reason printed. Catch2 v2 has no SKIP of its own.

enum class Host {
  root,            // euid 0
  busybox,         // /bin/busybox, copied into test rootfs trees
  cgroup_v1,       // a v1 pids hierarchy at /sys/fs/cgroup/pids
  hybrid_cgroups,  // v1 hierarchies plus cgroup2 at /sys/fs/cgroup/unified
  two_cpus,        // at least two CPUs online
};

constexpr int kSkipExit = 77;

struct HostProperty {
  Host host;
  const char* need;  // what a case lacking it was skipped for
  bool (*present)();
};

inline bool path_exists(const char* p) { return ::access(p, F_OK) == 0; }

inline const HostProperty& host_property(Host h) {
  static const std::array<HostProperty, 5> table{{
      {Host::root, "root", [] { return ::geteuid() == 0; }},
      {Host::busybox, "/bin/busybox", [] { return path_exists("/bin/busybox"); }},
      {Host::cgroup_v1, "a cgroup v1 pids hierarchy at /sys/fs/cgroup/pids",
       [] { return path_exists("/sys/fs/cgroup/pids/cgroup.procs"); }},
      {Host::hybrid_cgroups,
       "the hybrid cgroup layout (v1 hierarchies, cgroup2 at /sys/fs/cgroup/unified)",
       [] {
         return path_exists("/sys/fs/cgroup/pids/cgroup.procs") &&
                path_exists("/sys/fs/cgroup/unified/cgroup.procs");
       }},
      {Host::two_cpus, "at least two CPUs", [] { return ::sysconf(_SC_NPROCESSORS_ONLN) >= 2; }},
  }};
  return *std::find_if(table.begin(), table.end(),
                       [h](const HostProperty& p) { return p.host == h; });
}

// The one predicate: does this host offer h?
inline bool host_has(Host h) { return host_property(h).present(); }

// What the runner saw (filled by main.cpp's listener): the current case and
// its tags, how many cases ran, and which were skipped and why.
struct RunRecord {
  std::string current;
  std::vector<std::string> current_tags;
  size_t cases = 0;
  std::vector<std::pair<std::string, std::string>> skipped;  // case, reason
};

inline RunRecord& run_record() {
  static RunRecord r;
  return r;
}

// False, with the case recorded as skipped, when the host lacks any of needs.
inline bool host_offers(std::initializer_list<Host> needs) {
  std::string missing;
  for (Host h : needs) {
    if (!host_has(h))
      missing += (missing.empty() ? "needs " : ", ") + std::string(host_property(h).need);
  }
  if (missing.empty()) return true;
  auto& rec = run_record();
  const auto& tags = rec.current_tags;
  if (std::find(tags.begin(), tags.end(), "host") == tags.end()) {
    // Run together with other cases, its skip would go unseen.
    FAIL("a case that may skip must be tagged [host]: " << missing);
  }
  // A case with sections is entered once per section: record it once.
  if (rec.skipped.empty() || rec.skipped.back().first != rec.current) {
    rec.skipped.emplace_back(rec.current, missing);
  }
  return false;
}

}  // namespace husk::test

// Ends the calling test case, reported as skipped, unless the host offers
// every one of the given husk::test::Host properties.
#define HUSK_SKIP_UNLESS(...)                            \
  do {                                                   \
    using husk::test::Host;                              \
    if (!husk::test::host_offers({__VA_ARGS__})) return; \
  } while (0)
