#include "state/status.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "sys/pidfd.hpp"
#include "sys/proc.hpp"

using husk::state::ContainerState;
using husk::state::LiveFacts;
using husk::state::Phase;
using husk::state::Status;

namespace {

ContainerState record(Phase phase, pid_t pid = 4242, uint64_t start = 777) {
  ContainerState st;
  st.id = "c1";
  st.phase = phase;
  st.pid = pid;
  st.pid_start_time = start;
  return st;
}

LiveFacts alive(uint64_t start = 777) {
  LiveFacts f;
  f.proc_start_time = start;
  return f;
}

}  // namespace

TEST_CASE("derive_status: a recorded stop wins over everything") {
  LiveFacts f = alive();
  f.frozen = true;
  f.fifo_exists = true;
  CHECK(derive_status(record(Phase::Stopped), f) == Status::Stopped);
}

TEST_CASE("derive_status: creating exactly while a create holds its mark") {
  LiveFacts creating = alive();
  creating.create_in_progress = true;
  creating.fifo_exists = true;
  CHECK(derive_status(record(Phase::Created), creating) == Status::Creating);
  creating.fifo_exists = false;  // run: no fifo
  CHECK(derive_status(record(Phase::Created), creating) == Status::Creating);
  // create finished: the same record is created, then running
  LiveFacts done = alive();
  done.fifo_exists = true;
  CHECK(derive_status(record(Phase::Created), done) == Status::Created);
  done.fifo_exists = false;
  CHECK(derive_status(record(Phase::Created), done) == Status::Running);
  // create died (mark gone) and its init with it
  CHECK(derive_status(record(Phase::Created), LiveFacts{}) == Status::Stopped);
  // a record of an earlier husk, whose create died after cloning
  CHECK(derive_status(record(Phase::Creating), LiveFacts{}) == Status::Stopped);
}

TEST_CASE("derive_status: a dead, zombie or replaced init is stopped") {
  for (Phase p : {Phase::Created, Phase::Running}) {
    CHECK(derive_status(record(p), LiveFacts{}) == Status::Stopped);
    LiveFacts zombie = alive();
    zombie.proc_is_zombie = true;
    zombie.fifo_exists = true;
    CHECK(derive_status(record(p), zombie) == Status::Stopped);
    LiveFacts reused = alive(778);  // same pid, different process
    reused.fifo_exists = true;
    CHECK(derive_status(record(p), reused) == Status::Stopped);
    CHECK(derive_status(record(p, 0, 0), alive()) == Status::Stopped);
  }
}

TEST_CASE("derive_status: frozen, then fifo, then running") {
  LiveFacts f = alive();
  f.frozen = true;
  f.fifo_exists = true;
  CHECK(derive_status(record(Phase::Created), f) == Status::Paused);
  CHECK(derive_status(record(Phase::Running), f) == Status::Paused);
  f.frozen = false;
  CHECK(derive_status(record(Phase::Created), f) == Status::Created);
  f.fifo_exists = false;
  CHECK(derive_status(record(Phase::Created), f) == Status::Running);
  CHECK(derive_status(record(Phase::Running), f) == Status::Running);
}

TEST_CASE("derive_status: an unknown recorded start time accepts the live process") {
  CHECK(derive_status(record(Phase::Running, 4242, 0), alive(12345)) == Status::Running);
}

TEST_CASE("can_* table, every cell") {
  struct Row {
    Status s;
    bool start, kill, del, pause, resume, exec;
  };
  const Row rows[] = {
      {Status::Creating, false, false, false, false, false, false},
      {Status::Created, true, true, true, true, false, true},
      {Status::Running, false, true, false, true, false, true},
      {Status::Paused, false, true, false, false, true, false},
      {Status::Stopped, false, false, true, false, false, false},
  };
  for (const auto& r : rows) {
    INFO(to_string(r.s));
    CHECK(husk::state::can_start(r.s) == r.start);
    CHECK(husk::state::can_kill(r.s) == r.kill);
    CHECK(husk::state::can_delete(r.s) == r.del);
    CHECK(husk::state::can_pause(r.s) == r.pause);
    CHECK(husk::state::can_resume(r.s) == r.resume);
    CHECK(husk::state::can_exec(r.s) == r.exec);
  }
}

TEST_CASE("status names are the OCI/runc ones") {
  CHECK(to_string(Status::Creating) == "creating");
  CHECK(to_string(Status::Created) == "created");
  CHECK(to_string(Status::Running) == "running");
  CHECK(to_string(Status::Paused) == "paused");
  CHECK(to_string(Status::Stopped) == "stopped");
}

TEST_CASE("proc stat: comm with spaces and parentheses") {
  // fields 3.. after the last ')': state ppid pgrp session tty tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
  std::string line =
      "123 (a) b) (c ) S 1 123 123 0 -1 4194560 10 0 0 0 1 2 0 0 20 0 1 0 987654 ...";
  auto ps = husk::sys::parse_proc_stat(line);
  REQUIRE(ps);
  CHECK(ps->state == 'S');
  CHECK(ps->ppid == 1);
  CHECK(ps->start_time == 987654);
  CHECK_FALSE(ps->zombie_or_dead());
  auto z = husk::sys::parse_proc_stat("9 (x) Z 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 55 0");
  REQUIRE(z);
  CHECK(z->zombie_or_dead());
  CHECK(z->start_time == 55);
}

TEST_CASE("proc stat: malformed input is an error, not a guess") {
  CHECK_FALSE(husk::sys::parse_proc_stat(""));
  CHECK_FALSE(husk::sys::parse_proc_stat("1 (x S 1"));
  CHECK_FALSE(husk::sys::parse_proc_stat("1 (x) S 1 2 3"));  // too few fields
  CHECK_FALSE(husk::sys::parse_proc_stat("1 (x) S one 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"));
}

TEST_CASE("proc stat of this process, and of a pid that does not exist") {
  auto self = husk::sys::read_proc_stat(::getpid());
  REQUIRE(self);
  CHECK(self->ppid == ::getppid());
  CHECK(self->start_time > 0);
  auto same = husk::sys::find_process(::getpid(), self->start_time);
  REQUIRE(same);
  CHECK(same->has_value());
  auto other = husk::sys::find_process(::getpid(), self->start_time + 1);
  REQUIRE(other);
  CHECK_FALSE(other->has_value());
  // pid_max is at most 2^22
  auto none = husk::sys::read_proc_stat(1 << 23);
  REQUIRE_FALSE(none);
  CHECK(none.error().kind() == husk::ErrorKind::NotFound);
}

TEST_CASE("Process: signals the recorded process, refuses a stranger or a zombie") {
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto ps = husk::sys::read_proc_stat(child);
  REQUIRE(ps);
  auto stranger = husk::sys::Process::open(child, ps->start_time + 1);
  REQUIRE_FALSE(stranger);
  CHECK(stranger.error().kind() == husk::ErrorKind::NotFound);

  auto p = husk::sys::Process::open(child, ps->start_time);
  REQUIRE(p);
  CHECK(p->fd() >= 0);
  auto still = p->wait_exit(50);
  REQUIRE(still);
  CHECK_FALSE(*still);
  REQUIRE(p->signal(SIGKILL));
  auto exited = p->wait_exit(5000);
  REQUIRE(exited);
  CHECK(*exited);
  // Not reaped yet: a zombie is not a process to signal.
  auto zombie = husk::sys::Process::open(child, ps->start_time);
  REQUIRE_FALSE(zombie);
  CHECK(zombie.error().kind() == husk::ErrorKind::NotFound);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  auto after = p->signal(SIGTERM);
  REQUIRE_FALSE(after);
  CHECK(after.error().kind() == husk::ErrorKind::NotFound);
}
