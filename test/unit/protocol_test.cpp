// The parent/init protocol codec over a real SOCK_SEQPACKET socketpair.
#include "linux/protocol.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

using namespace husk;
using namespace husk::linux_setup::protocol;

namespace {

std::pair<Channel, Channel> pair() {
  auto p = make_channel_pair();
  REQUIRE(p.has_value());
  return std::move(*p);
}

// Two fds of distinct inodes to pass around.
std::pair<sys::UniqueFd, sys::UniqueFd> a_pipe() {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  return {sys::UniqueFd(p[0]), sys::UniqueFd(p[1])};
}

ino_t inode_of(int fd) {
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  return st.st_ino;
}

}  // namespace

TEST_CASE("protocol: the socketpair is SEQPACKET and close-on-exec", "[protocol]") {
  auto [a, b] = pair();
  int type = 0;
  socklen_t len = sizeof type;
  REQUIRE(::getsockopt(a.fd(), SOL_SOCKET, SO_TYPE, &type, &len) == 0);
  CHECK(type == SOCK_SEQPACKET);
  CHECK((::fcntl(a.fd(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(b.fd(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("protocol: header, strings and message boundaries survive the trip", "[protocol]") {
  auto [a, b] = pair();
  std::string big(100000, 'x');
  std::string_view parts[] = {"first", "", big};
  REQUIRE(a.send(MsgType::HooksDone, 42, 7, parts).has_value());
  REQUIRE(a.send(MsgType::Ready).has_value());

  auto m1 = b.recv();
  REQUIRE(m1.has_value());
  CHECK(m1->type() == MsgType::HooksDone);
  CHECK(m1->header.value == 42);
  CHECK(m1->header.kind == 7);
  REQUIRE(m1->strings.size() == 3);
  CHECK(m1->strings[0] == "first");
  CHECK(m1->strings[1].empty());
  CHECK(m1->strings[2] == big);

  auto m2 = b.recv();
  REQUIRE(m2.has_value());
  CHECK(m2->type() == MsgType::Ready);
  CHECK(m2->strings.empty());
  CHECK(m2->fds.empty());
}

TEST_CASE("protocol: fds cross as SCM_RIGHTS and arrive close-on-exec", "[protocol]") {
  auto [a, b] = pair();
  int p[2];
  REQUIRE(::pipe(p) == 0);  // deliberately without O_CLOEXEC
  sys::UniqueFd r(p[0]), w(p[1]);
  int fds[] = {r.get(), w.get()};
  REQUIRE(a.send(MsgType::InitForked, 1234, 0, {}, fds).has_value());
  auto m = b.recv();
  REQUIRE(m.has_value());
  REQUIRE(m->fds.size() == 2);
  CHECK(m->fds[0].get() != r.get());
  CHECK(inode_of(m->fds[0].get()) == inode_of(r.get()));
  CHECK((::fcntl(m->fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(m->fds[1].get(), F_GETFD) & FD_CLOEXEC) != 0);
  // The received write end is the same pipe: data written through it arrives.
  REQUIRE(::write(m->fds[1].get(), "z", 1) == 1);
  char c = 0;
  REQUIRE(::read(r.get(), &c, 1) == 1);
  CHECK(c == 'z');
}

TEST_CASE("protocol: more than kMaxFds is refused before sending", "[protocol]") {
  auto [a, b] = pair();
  int fds[kMaxFds + 1] = {0, 0, 0, 0, 0};
  auto s = a.send(MsgType::Ready, 0, 0, {}, fds);
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().kind() == ErrorKind::Protocol);
}

TEST_CASE("protocol: an Error keeps errno, kind, op and context", "[protocol]") {
  auto [a, b] = pair();
  Error e = Error::sys(ENOENT, "open {}", "/x").wrap("mount /proc").wrap("prepare rootfs");
  REQUIRE(send_error(a, e).has_value());
  auto m = b.recv();
  REQUIRE(m.has_value());
  CHECK(m->type() == MsgType::Error);
  Error d = decode_error(*m);
  CHECK(d.err() == ENOENT);
  CHECK(d.kind() == ErrorKind::Sys);
  CHECK(d.op() == "open /x");
  CHECK(d.message() == e.message());
  CHECK(d.message() == "prepare rootfs: mount /proc: open /x: No such file or directory");
}

TEST_CASE("protocol: the parent turns an init Error into its own result", "[protocol]") {
  auto [a, b] = pair();
  ParentEnd parent(std::move(a));
  InitEnd init(std::move(b));
  init.send_error(Error::spec("process.cwd: must be absolute"));
  auto r = parent.await_ready();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind() == ErrorKind::InvalidSpec);
  CHECK(r.error().message() == "process.cwd: must be absolute");
}

TEST_CASE("protocol: an unexpected message names what was expected", "[protocol]") {
  auto [a, b] = pair();
  ParentEnd parent(std::move(a));
  InitEnd init(std::move(b));
  REQUIRE(init.send_ready().has_value());
  auto r = parent.await_hooks_request();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind() == ErrorKind::Protocol);
  CHECK(r.error().message() ==
        "init protocol: expected HooksRequest from container init, got Ready");

  REQUIRE(parent.send_userns_mapped().has_value());
  auto s = init.await_start();
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().message() == "init protocol: expected Start from husk, got UsernsMapped");
}

TEST_CASE("protocol: a peer that dies without a word is end-of-file, not a hang", "[protocol]") {
  auto [a, b] = pair();
  ParentEnd parent(std::move(a));
  b.close();
  auto r = parent.await_ready();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind() == ErrorKind::Protocol);
  CHECK(r.error().message() == "container init exited before sending Ready");
  // Sending to a closed peer is EPIPE, without a SIGPIPE killing the test.
  auto s = parent.send_start();
  REQUIRE_FALSE(s.has_value());
  CHECK(s.error().err() == EPIPE);
}

TEST_CASE("protocol: MountSource fds before UsernsMapped land at their mount index", "[protocol]") {
  auto [a, b] = pair();
  ParentEnd parent(std::move(a));
  InitEnd init(std::move(b));
  auto [r, w] = a_pipe();
  REQUIRE(parent.send_mount_source(2, r.get()).has_value());
  REQUIRE(parent.send_mount_source(0, w.get()).has_value());
  REQUIRE(parent.send_userns_mapped().has_value());
  std::vector<sys::UniqueFd> sources(3);
  REQUIRE(init.await_userns_mapped(sources).has_value());
  CHECK(inode_of(sources[2].get()) == inode_of(r.get()));
  CHECK(inode_of(sources[0].get()) == inode_of(w.get()));
  CHECK_FALSE(sources[1]);
  // An index the init has no slot for is a protocol error, not a write
  // outside the vector.
  REQUIRE(parent.send_mount_source(3, r.get()).has_value());
  auto bad = init.await_userns_mapped(sources);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().kind() == ErrorKind::Protocol);
}

TEST_CASE("protocol: SeccompListener carries the notification fd before Ready", "[protocol]") {
  auto [a, b] = pair();
  ParentEnd parent(std::move(a));
  InitEnd init(std::move(b));
  auto [r, w] = a_pipe();
  REQUIRE(init.send_seccomp_listener(r.get()).has_value());
  REQUIRE(init.send_ready().has_value());
  auto fd = parent.await_seccomp_listener();
  REQUIRE(fd.has_value());
  CHECK(inode_of(fd->get()) == inode_of(r.get()));
  CHECK(parent.await_ready().has_value());
  // Ready where the parent expects the fd: a protocol error naming both.
  REQUIRE(init.send_ready().has_value());
  auto missing = parent.await_seccomp_listener();
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind() == ErrorKind::Protocol);
  CHECK(missing.error().message().find("expected SeccompListener") != std::string::npos);
}

TEST_CASE("protocol: the full happy sequence between the two ends", "[protocol]") {
  auto [a, b] = pair();
  ParentEnd parent(std::move(a));
  InitEnd init(std::move(b));
  REQUIRE(parent.send_start().has_value());
  REQUIRE(init.await_start().has_value());
  REQUIRE(init.send_userns_ready().has_value());
  REQUIRE(parent.await_userns_ready().has_value());
  REQUIRE(parent.send_userns_mapped().has_value());
  std::vector<sys::UniqueFd> no_sources;
  REQUIRE(init.await_userns_mapped(no_sources).has_value());

  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  sys::UniqueFd r(p[0]), w(p[1]);
  REQUIRE(init.send_init_forked(4321, r.get()).has_value());
  auto forked = parent.await_init_forked();
  REQUIRE(forked.has_value());
  CHECK(forked->pid == 4321);
  CHECK(inode_of(forked->pidfd.get()) == inode_of(r.get()));

  REQUIRE(init.send_hooks_request(1).has_value());
  auto own_pid = parent.await_hooks_request();
  REQUIRE(own_pid.has_value());
  CHECK(*own_pid == 1);
  REQUIRE(
      parent.send_hooks_done(R"({"status":"creating"})", R"({"status":"created"})").has_value());
  auto states = init.await_hooks_done();
  REQUIRE(states.has_value());
  CHECK(states->creating == R"({"status":"creating"})");
  CHECK(states->created == R"({"status":"created"})");
  REQUIRE(init.send_ready().has_value());
  CHECK(parent.await_ready().has_value());
}

TEST_CASE("protocol: malformed datagrams are Protocol errors", "[protocol]") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  sys::UniqueFd raw(sv[0]);
  Channel ch{sys::UniqueFd(sv[1])};
  REQUIRE(::send(raw.get(), "abc", 3, 0) == 3);
  auto short_msg = ch.recv();
  REQUIRE_FALSE(short_msg.has_value());
  CHECK(short_msg.error().message() == "init socket: short message (3 bytes)");

  Header h;
  h.type = MsgType::Ready;
  h.length = 10;  // claims a payload that is not there
  REQUIRE(::send(raw.get(), &h, sizeof h, 0) == static_cast<ssize_t>(sizeof h));
  auto bad = ch.recv();
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().kind() == ErrorKind::Protocol);
}
