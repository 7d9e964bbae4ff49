// hooks::run with real executables in a temporary directory.
#include "hooks/hooks.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace fs = std::filesystem;
using husk::hooks::Kind;
using husk::spec::Hook;
using husk::test::TempDir;

namespace {

std::string script(const TempDir& d, const std::string& name, const std::string& body) {
  std::string p = d / name;
  std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
  fs::permissions(p, fs::perms::owner_all);
  return p;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Hook hook(std::string path, std::vector<std::string> args = {}, std::vector<std::string> env = {},
          std::optional<int32_t> timeout = std::nullopt) {
  return Hook{std::move(path), std::move(args), std::move(env), timeout};
}

std::vector<std::string> lines(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

const std::string kState =
    R"({"ociVersion":"1.2.0","id":"c1","status":"creating","pid":42,"bundle":"/b"})";

}  // namespace

TEST_CASE("hook kinds have the spec's names", "[hooks]") {
  CHECK(std::string(husk::hooks::name(Kind::Prestart)) == "prestart");
  CHECK(std::string(husk::hooks::name(Kind::CreateRuntime)) == "createRuntime");
  CHECK(std::string(husk::hooks::name(Kind::CreateContainer)) == "createContainer");
  CHECK(std::string(husk::hooks::name(Kind::StartContainer)) == "startContainer");
  CHECK(std::string(husk::hooks::name(Kind::Poststart)) == "poststart");
  CHECK(std::string(husk::hooks::name(Kind::Poststop)) == "poststop");
}

TEST_CASE("hook receives the state JSON on stdin, followed by EOF", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string out = d / "stdin";
  auto h = hook(script(d, "h", "cat > \"$1\""), {"h", out});
  REQUIRE(husk::hooks::run(Kind::Prestart, {h}, kState));
  CHECK(slurp(out) == kState);
}

TEST_CASE("a large state JSON is delivered completely", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string out = d / "stdin";
  std::string big = "{\"pad\":\"" + std::string(1 << 20, 'x') + "\"}";
  auto h = hook(script(d, "h", "cat > \"$1\""), {"h", out});
  REQUIRE(husk::hooks::run(Kind::CreateRuntime, {h}, big));
  CHECK(slurp(out) == big);
}

TEST_CASE("hook env is exactly the configured env", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string out = d / "env";
  // /proc/<pid>/environ is the environment execve(2) gave the shell.
  auto body = "tr '\\0' '\\n' < /proc/$$/environ > \"$1\"";
  auto h = hook(script(d, "h", body), {"h", out}, {"A=1", "B=two words"});
  REQUIRE(husk::hooks::run(Kind::Poststart, {h}, kState));
  CHECK(lines(slurp(out), '\n') == std::vector<std::string>{"A=1", "B=two words"});

  ::setenv("HUSK_HOOK_TEST_LEAK", "1", 1);
  auto bare = hook(script(d, "bare", body), {"bare", out});
  auto r = husk::hooks::run(Kind::Poststart, {bare}, kState);
  ::unsetenv("HUSK_HOOK_TEST_LEAK");
  REQUIRE(r);
  CHECK(slurp(out).empty());
}

TEST_CASE("args[0] is argv[0]; without args argv is [path]", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string out = d / "cmdline";
  // path is the shell, argv[0] a different name: /proc/<pid>/cmdline shows argv as given.
  auto h = hook("/bin/sh", {"not-sh", "-c", "tr '\\0' ' ' < /proc/$$/cmdline > \"$0\"", out});
  REQUIRE(husk::hooks::run(Kind::Prestart, {h}, kState));
  CHECK(slurp(out).rfind("not-sh -c ", 0) == 0);

  std::string p = script(d, "noargs", "echo \"$0 $#\" > " + out);
  REQUIRE(husk::hooks::run(Kind::Prestart, {hook(p)}, kState));
  CHECK(slurp(out) == p + " 0\n");
}

TEST_CASE("hooks run in order and a failing hook stops the rest", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string log = d / "log";
  auto a = hook(script(d, "a", "echo a >> " + log));
  auto b = hook(script(d, "b", "echo b >> " + log + "; exit 3"));
  auto c = hook(script(d, "c", "echo c >> " + log));
  auto r = husk::hooks::run(Kind::Prestart, {a, b, c}, kState);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "prestart hook #1 (" + b.path + "): exited with status 3");
  CHECK(slurp(log) == "a\nb\n");

  REQUIRE(husk::hooks::run(Kind::Poststop, {a, c}, kState));
  CHECK(slurp(log) == "a\nb\na\nc\n");
}

TEST_CASE("run_all runs every hook and returns each failure", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string log = d / "log";
  auto a = hook(script(d, "a", "echo a >> " + log + "; exit 1"));
  auto b = hook(script(d, "b", "echo b >> " + log));
  auto c = hook(script(d, "c", "echo c >> " + log + "; exit 2"));
  auto errors = husk::hooks::run_all(Kind::Poststop, {a, b, c}, kState);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].message() == "poststop hook #0 (" + a.path + "): exited with status 1");
  CHECK(errors[1].message() == "poststop hook #2 (" + c.path + "): exited with status 2");
  CHECK(slurp(log) == "a\nb\nc\n");
  CHECK(husk::hooks::run_all(Kind::Poststop, {b}, kState).empty());
}

TEST_CASE("a hook killed by a signal is reported", "[hooks]") {
  TempDir d{"husk-hooks"};
  auto h = hook(script(d, "h", "kill -9 $$"));
  auto r = husk::hooks::run(Kind::StartContainer, {h}, kState);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "startContainer hook #0 (" + h.path + "): killed by signal 9");
}

TEST_CASE("a hook exceeding its timeout is killed", "[hooks]") {
  TempDir d{"husk-hooks"};
  // exec: the hook itself must be the sleeper, or an orphaned sleep would
  // keep the test's stdout open.
  auto h = hook(script(d, "h", "exec sleep 30"), {}, {}, 1);
  auto t0 = std::chrono::steady_clock::now();
  auto r = husk::hooks::run(Kind::CreateContainer, {h}, kState);
  auto took = std::chrono::steady_clock::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "createContainer hook #0 (" + h.path + "): timed out after 1s");
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::seconds(10));
}

TEST_CASE("a timeout does not fire for a hook that finishes in time", "[hooks]") {
  TempDir d{"husk-hooks"};
  auto h = hook(script(d, "h", "exit 0"), {}, {}, 5);
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(husk::hooks::run(Kind::Prestart, {h}, kState));
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));
}

TEST_CASE("a hook that never reads stdin cannot block past its timeout", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string big(1 << 20, 'x');  // far more than a pipe buffer
  auto h = hook(script(d, "h", "exec sleep 30"), {}, {}, 1);
  auto r = husk::hooks::run(Kind::Prestart, {h}, big);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("timed out after 1s") != std::string::npos);
}

TEST_CASE("a hook that exits without reading stdin succeeds, SIGPIPE untouched", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string big(1 << 20, 'x');
  auto h = hook(script(d, "h", "exec 0<&-; exit 0"));
  REQUIRE(husk::hooks::run(Kind::Poststart, {h}, big));

  struct sigaction sa {};
  REQUIRE(::sigaction(SIGPIPE, nullptr, &sa) == 0);
  CHECK(sa.sa_handler == SIG_DFL);
  sigset_t mask;
  REQUIRE(::sigprocmask(SIG_BLOCK, nullptr, &mask) == 0);
  CHECK_FALSE(sigismember(&mask, SIGPIPE));
  sigset_t pending;
  REQUIRE(::sigpending(&pending) == 0);
  CHECK_FALSE(sigismember(&pending, SIGPIPE));
}

TEST_CASE("exec failures name the hook and the errno", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string missing = d / "missing";
  auto r = husk::hooks::run(Kind::Prestart, {hook(missing)}, kState);
  REQUIRE_FALSE(r);
  CHECK(r.error().message() ==
        "prestart hook #0 (" + missing + "): exec: No such file or directory");

  std::string plain = d / "plain";
  std::ofstream(plain) << "#!/bin/sh\n";
  fs::permissions(plain, fs::perms::owner_read | fs::perms::owner_write);
  r = husk::hooks::run(Kind::Prestart, {hook(plain)}, kState);
  REQUIRE_FALSE(r);
  CHECK(r.error().err() == EACCES);
}

TEST_CASE("hook stdout is inherited and only fds 0-2 are open in the hook", "[hooks]") {
  TempDir d{"husk-hooks"};
  std::string out = d / "out";
  int leak = ::open("/dev/null", O_RDONLY);  // deliberately not O_CLOEXEC
  REQUIRE(leak >= 0);
  int saved = ::dup(STDOUT_FILENO);
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  ::dup2(fd, STDOUT_FILENO);
  auto echo = hook("/bin/echo", {"echo", "hello"});
  auto ls = hook("/bin/ls", {"ls", "/proc/self/fd"});
  auto r = husk::hooks::run(Kind::Prestart, {echo, ls}, kState);
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(fd);
  ::close(leak);
  REQUIRE(r);
  // ls opens its own directory fd (3) while listing.
  CHECK(slurp(out) == "hello\n0\n1\n2\n3\n");
}

TEST_CASE("no hooks, no work", "[hooks]") { REQUIRE(husk::hooks::run(Kind::Poststop, {}, kState)); }
