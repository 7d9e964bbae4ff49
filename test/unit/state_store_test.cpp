#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "state/store.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using husk::ErrorKind;
using husk::state::ContainerDir;
using husk::state::ContainerState;
using husk::state::Phase;
using husk::state::StateStore;

namespace {

using husk::test::TempDir;

StateStore open_store(const fs::path &p) {
  auto s = StateStore::open(p.string());
  REQUIRE(s);
  return std::move(*s);
}

mode_t mode_of(const fs::path &p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode;
}

// A forked child that exits with body()'s value.
pid_t fork_exit(const std::function<int()> &body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(body());
  return pid;
}

// Wait for a forked child and return its exit code.
int reap(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

bool readable_within(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

}  // namespace

TEST_CASE("ids: runc's character set, no dot names, no slashes") {
  for (const char *ok : {"a", "abc-DEF_0.9+x", "a...", "a..b", "64hex0123456789abcdef"}) {
    INFO(ok);
    CHECK(husk::state::validate_id(ok));
  }
  for (const char *bad :
       {".", "..", "...", ".seccomp-cache", ".a", "a/b", "/a", "a b", "a\nb", "ü", "a:b", "a*"}) {
    INFO(bad);
    auto r = husk::state::validate_id(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message() == std::string("invalid id format: ") + bad);
    CHECK(r.error().kind() == ErrorKind::InvalidArgument);
  }
  CHECK(husk::state::validate_id(std::string(255, 'a')));
  CHECK_FALSE(husk::state::validate_id(std::string(256, 'a')));
  auto empty = husk::state::validate_id("");
  REQUIRE_FALSE(empty);
  CHECK(empty.error().message() == "container id cannot be empty");
}

TEST_CASE("default root: /run/husk for root, $XDG_RUNTIME_DIR/husk otherwise") {
  if (::geteuid() == 0) {
    CHECK(husk::state::default_root() == "/run/husk");
  } else if (const char *x = std::getenv("XDG_RUNTIME_DIR"); x != nullptr && *x != '\0') {
    CHECK(husk::state::default_root() == std::string(x) + "/husk");
  }
}

TEST_CASE("open: creates the root 0700, rejects unusable roots by name") {
  TempDir t;
  auto root = t.path / "a" / "b" / "root";
  auto s = open_store(root);
  CHECK(fs::is_directory(root));
  CHECK((mode_of(root) & 07777) == 0700);
  CHECK(s.root() == root.string());

  std::ofstream(t.path / "file") << "x";
  auto bad = StateStore::open((t.path / "file" / "root").string());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains((t.path / "file").string()));

  auto rel = StateStore::open("relative/root");
  REQUIRE_FALSE(rel);
  CHECK(rel.error().kind() == ErrorKind::InvalidArgument);
}

TEST_CASE("create: mkdir 0700, a second create of the same id is AlreadyExists") {
  TempDir t;
  auto s = open_store(t.path);
  auto d = s.create_container("c1");
  REQUIRE(d);
  CHECK(d->locked());
  CHECK(d->path() == (t.path / "c1").string());
  CHECK((mode_of(t.path / "c1") & 07777) == 0700);
  auto again = s.create_container("c1");
  REQUIRE_FALSE(again);
  CHECK(again.error().kind() == ErrorKind::AlreadyExists);
  CHECK(again.error().message() == "container with id exists: c1");
  CHECK_FALSE(s.create_container("../escape"));
  CHECK_FALSE(fs::exists(t.path.parent_path() / "escape"));
}

TEST_CASE("open: a missing container uses runc's wording") {
  TempDir t;
  auto s = open_store(t.path);
  auto d = s.open_container("nope");
  REQUIRE_FALSE(d);
  CHECK(d.error().kind() == ErrorKind::NotFound);
  CHECK(d.error().message() == "container \"nope\" does not exist");
  std::ofstream(t.path / "plainfile") << "x";
  CHECK_FALSE(s.open_container("plainfile"));
}

TEST_CASE("state.json: atomic write and read back; missing record is NotFound") {
  TempDir t;
  auto s = open_store(t.path);
  auto d = s.create_container("c1");
  REQUIRE(d);
  auto missing = d->read_state();
  REQUIRE_FALSE(missing);
  CHECK(missing.error().kind() == ErrorKind::NotFound);

  ContainerState st;
  st.oci_version = "1.3.0";
  st.id = "c1";
  st.phase = Phase::Created;
  st.pid = 1234;
  st.pid_start_time = 98765;
  st.bundle = "/b";
  st.rootfs = "/b/rootfs";
  st.created = "2026-01-02T03:04:05.123456789Z";
  st.annotations["k"] = "v";
  st.cgroup = "opaque";
  REQUIRE(d->write_state(st));
  CHECK_FALSE(fs::exists(t.path / "c1" / "state.json.tmp"));
  CHECK((mode_of(t.path / "c1" / "state.json") & 07777) == 0600);
  auto back = d->read_state();
  REQUIRE(back);
  CHECK(back->id == "c1");
  CHECK(back->phase == Phase::Created);
  CHECK(back->pid == 1234);
  CHECK(back->pid_start_time == 98765);
  CHECK(back->bundle == "/b");
  CHECK(back->annotations.at("k") == "v");
  CHECK(back->cgroup == "opaque");

  st.phase = Phase::Running;
  REQUIRE(d->write_state(st));
  auto again = s.open_container("c1");
  REQUIRE(again);
  CHECK(again->read_state()->phase == Phase::Running);
}

TEST_CASE("config copy, exec.fifo, owner") {
  TempDir t;
  auto s = open_store(t.path);
  auto d = s.create_container("c1");
  REQUIRE(d);
  CHECK(*d->read_config() == "");  // made (it is the lock), not written yet
  REQUIRE(d->save_config("{\"ociVersion\":\"1.3.0\"}"));
  CHECK(*d->read_config() == "{\"ociVersion\":\"1.3.0\"}");

  CHECK_FALSE(*d->fifo_exists());
  REQUIRE(d->make_fifo());
  CHECK(*d->fifo_exists());
  CHECK(S_ISFIFO(mode_of(d->fifo_path())));
  CHECK((mode_of(d->fifo_path()) & 0777) == 0622);
  CHECK_FALSE(d->make_fifo());
  auto rd = d->open_fifo(O_RDONLY | O_NONBLOCK);
  REQUIRE(rd);
  CHECK((::fcntl(rd->get(), F_GETFD) & FD_CLOEXEC) != 0);
  REQUIRE(d->unlink_fifo());
  CHECK_FALSE(*d->fifo_exists());
  CHECK(d->unlink_fifo());
  CHECK(*d->owner_uid() == ::geteuid());
}

TEST_CASE("list: sorted ids of container directories only") {
  TempDir t;
  auto s = open_store(t.path);
  for (const char *id : {"b", "a", "c"}) REQUIRE(s.create_container(id));
  std::ofstream(t.path / "afile") << "x";
  fs::create_directory(t.path / "bad name");
  auto ids = s.list();
  REQUIRE(ids);
  CHECK(*ids == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("remove: everything under the directory, then the directory") {
  TempDir t;
  auto s = open_store(t.path);
  auto d = s.create_container("c1");
  REQUIRE(d);
  REQUIRE(d->save_config("{}"));
  REQUIRE(d->make_fifo());
  fs::create_directories(t.path / "c1" / "sub" / "deeper");
  std::ofstream(t.path / "c1" / "sub" / "deeper" / "f") << "x";
  REQUIRE(d->remove());
  CHECK_FALSE(fs::exists(t.path / "c1"));
  CHECK(s.list()->empty());
  CHECK(s.open_container("c1").error().kind() == ErrorKind::NotFound);
}

TEST_CASE("lock: a second process waits until the first releases it") {
  TempDir t;
  auto s = open_store(t.path);
  auto holder = std::optional<ContainerDir>(std::move(*s.create_container("c1")));
  REQUIRE(holder->locked());
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t child = fork_exit([&] {
    ::close(p[0]);
    auto d = s.open_container("c1");
    if (!d || !*d->create_in_progress()) return 2;
    if (!d->lock()) return 3;
    return ::write(p[1], "L", 1) == 1 ? 0 : 4;
  });
  ::close(p[1]);
  CHECK_FALSE(readable_within(p[0], 300));  // still waiting for our lock
  holder.reset();                           // closes the lock fd: released
  CHECK(readable_within(p[0], 5000));
  ::close(p[0]);
  CHECK(reap(child) == 0);
}

TEST_CASE("lock: a forked child keeping the fd does not keep the lock") {
  // The init child is cloned while create holds the lock and then blocks on
  // exec.fifo; it must not keep the container locked.
  TempDir t;
  auto s = open_store(t.path);
  auto holder = std::optional<ContainerDir>(std::move(*s.create_container("c1")));
  pid_t sleeper = fork_exit([&] {
    ::pause();
    return 0;
  });
  holder.reset();
  pid_t checker = fork_exit([&] {
    auto d = s.open_container("c1");
    return d && !*d->create_in_progress() && d->lock() ? 0 : 1;
  });
  CHECK(reap(checker) == 0);
  ::kill(sleeper, SIGKILL);
  ::waitpid(sleeper, nullptr, 0);
}

TEST_CASE("lock: a waiter whose container was removed meanwhile gets NotFound") {
  TempDir t;
  auto s = open_store(t.path);
  auto holder = std::optional<ContainerDir>(std::move(*s.create_container("c1")));
  pid_t child = fork_exit([&] {
    auto d = s.open_container("c1");
    if (!d) return 2;
    auto r = d->lock();
    return !r && r.error().kind() == ErrorKind::NotFound ? 0 : 1;
  });
  ::usleep(200000);
  REQUIRE(holder->remove());
  holder.reset();
  CHECK(reap(child) == 0);
}

TEST_CASE("creating mark: held by create until finish_creating, never by lock()") {
  TempDir t;
  auto s = open_store(t.path);
  auto creator = std::optional<ContainerDir>(std::move(*s.create_container("c1")));
  REQUIRE(creator->save_config("{}"));
  // Each probe runs in a child: another process's view.
  auto probe = [&s](bool want_creating) {
    pid_t child = fork_exit([&] {
      auto d = s.open_container("c1");
      return d && *d->create_in_progress() == want_creating ? 0 : 1;
    });
    return reap(child);
  };
  CHECK(probe(true) == 0);
  REQUIRE(creator->finish_creating());
  CHECK(creator->locked());  // still holds the container
  CHECK(probe(false) == 0);
  creator.reset();
  // start/delete/pause take the container lock, not the mark.
  auto verb = s.open_container("c1");
  REQUIRE(verb);
  REQUIRE(verb->lock());
  CHECK(probe(false) == 0);
  // Files: the config (which is also the lock) and nothing else.
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(t.path / "c1"))
    names.push_back(e.path().filename().string());
  CHECK(names == std::vector<std::string>{"config.json"});
}

TEST_CASE(
    "a second ContainerDir of a locked container reads through the "
    "holder's fd and cannot lock again") {
  TempDir t;
  auto s = open_store(t.path);
  auto holder = s.create_container("c1");
  REQUIRE(holder);
  REQUIRE(holder->save_config("{\"a\":1}"));
  for (int i = 0; i < 2; ++i) {
    auto other = s.open_container("c1");
    REQUIRE(other);
    CHECK(*other->read_config() == "{\"a\":1}");
    auto again = other->lock();
    REQUIRE_FALSE(again);
    CHECK(again.error().kind() == ErrorKind::BadState);
  }
  pid_t child = fork_exit([&] {  // the lock survived the other objects' reads
    auto d = s.open_container("c1");
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_len = 1;
    int fd = ::open((t.path / "c1" / "config.json").c_str(), O_RDWR);
    return d && fd >= 0 && ::fcntl(fd, F_SETLK, &fl) < 0 ? 0 : 1;
  });
  CHECK(reap(child) == 0);
}

TEST_CASE("lock query from the holding process neither lies nor drops the lock") {
  TempDir t;
  auto s = open_store(t.path);
  auto holder = s.create_container("c1");
  REQUIRE(holder);
  auto reader = s.open_container("c1");
  REQUIRE(reader);
  CHECK_FALSE(*reader->create_in_progress());  // held, but by us
  pid_t child = fork_exit([&] {
    auto d = s.open_container("c1");
    return d && *d->create_in_progress() ? 0 : 1;
  });
  CHECK(reap(child) == 0);
}
