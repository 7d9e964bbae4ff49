// The parent/init protocol of `husk create`: the whole conversation between
// the husk process that clones the container's init and that init, up to the
// moment init blocks on exec.fifo.
//
// Transport: a socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC). SEQPACKET
// keeps message boundaries (one sendmsg = one recvmsg), is reliable and
// ordered, and reports the peer's death as end-of-file: when init dies, the
// parent's recv returns 0 instead of hanging, and vice versa (unix(7)).
// Each message is one datagram: a fixed Header, a payload of NUL-separated
// strings, and optional file descriptors in one SCM_RIGHTS control message.
//
// The child inherits the parent's memory (clone without CLONE_VM), so the
// plans never cross the socket; only synchronisation does. Rows marked "if"
// happen only when both sides' shared plan says so; the order is fixed.
//
//   #  direction      message        when                      payload / fds
//   1  parent -> init Start          always, once init is in   -
//                                    its cgroup (add_pid)
//   2  init -> parent UsernsReady    if a user ns is created   -
//   3a parent -> init MountSource    after 2, one per bind     value = the mount's index in
//                                    mount whose source the    config.mounts, fd[0] = an
//                                    parent opened (see        O_PATH fd of its source, opened
//                                    open_bind_sources); any   in the init's mount namespace
//                                    number, perhaps none
//   3  parent -> init UsernsMapped   answers 2, after writing  -
//                                    uid_map/gid_map
//   4  init -> parent InitForked     if an intermediate step   value = pid of the init
//                                    clones the real init      fd[0] = its pidfd
//   5  init -> parent HooksRequest   if any of prestart,       value = init's pid in its own
//                                    createRuntime,            pid namespace (what hooks run
//                                    createContainer or        in the container are told)
//                                    startContainer hooks;
//                                    mounts done, before
//                                    pivot_root
//   6  parent -> init HooksDone      answers 5, after prestart strings[0] = state JSON for
//                                    and createRuntime hooks   createContainer ("creating"),
//                                                              strings[1] = for startContainer
//                                                              ("created")
//   6b init -> parent SeccompListener if linux.seccomp has     fd[0] = the filter's
//                                    SCMP_ACT_NOTIFY rules:    notification fd (seccomp(2)
//                                    right after the filter is SECCOMP_FILTER_FLAG_NEW_LISTENER);
//                                    loaded, before Ready      the parent hands it to
//                                                              linux.seccomp.listenerPath
//   7  init -> parent Ready          always; init then blocks  -
//                                    on exec.fifo, or with
//                                    `run` waits for 8
//   8  parent -> init Exec           `run` only: start now     -
//   9  init -> parent Execing        answers 8; then           -
//                                    startContainer hooks and
//                                    execve
//   *  init -> parent Error          instead of any init       value = errno, kind = ErrorKind,
//                                    message; init then exits  strings = op, context (innermost
//                                                              first)
//
// Before Start, an init without user namespace, intermediate step or joined
// namespaces already builds the part of its rootfs that does not involve
// its cgroups (init.cpp, starts_early); if that fails, its Error is queued
// ahead of Start, and the parent reads it when its next step fails
// (queued_error).
//
// A message other than the one expected is a Protocol error naming both;
// an Error message becomes the init's Error in the parent; end-of-file means
// init died without a word.
//
// `run` starts the container at once from the process that created it, so
// it needs no exec.fifo (nor a state-directory inode for it, nor the
// private procfs that reopens it): Exec and Execing play the fifo's open and
// its first byte, and the socket's end-of-file (it is close-on-exec) after
// Execing tells that execve happened, or an Error message why not.
//
// Otherwise, after Ready the socket is done. The init opens exec.fifo for writing,
// which blocks until `husk start` opens it for reading, writes one byte, and
// keeps the fifo open (close-on-exec) through startContainer hooks and
// execve: `start` reads to end-of-file, so a successful execve shows as EOF
// and a failure as the error text the init writes there before exiting.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::linux_setup::protocol {

enum class MsgType : uint8_t {
  Start = 1,
  UsernsReady,
  UsernsMapped,
  InitForked,
  HooksRequest,
  HooksDone,
  Ready,
  Error,
  Exec,
  Execing,
  MountSource,
  SeccompListener,
};

const char* name(MsgType t);

inline constexpr uint16_t kMagic = 0x4b48;  // "HK"
inline constexpr size_t kMaxFds = 4;

struct Header {
  uint16_t magic = kMagic;
  MsgType type = MsgType::Error;
  uint8_t kind = 0;     // ErrorKind for Error
  int32_t value = 0;    // errno for Error, pid for InitForked
  uint32_t length = 0;  // payload bytes following the header
};
static_assert(sizeof(Header) == 12);

struct Message {
  Header header;
  std::vector<std::string> strings;  // payload, split at NUL
  std::vector<sys::UniqueFd> fds;
  [[nodiscard]] MsgType type() const { return header.type; }
};

// One end of the socketpair: the codec, without knowledge of the sequence.
class Channel {
 public:
  Channel() = default;
  explicit Channel(sys::UniqueFd fd) : fd_(std::move(fd)) {}

  [[nodiscard]] int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  // One datagram. Retries EINTR; EPIPE when the peer is gone.
  Status send(MsgType type, int32_t value = 0, uint8_t kind = 0,
              std::span<const std::string_view> strings = {}, std::span<const int> fds = {});
  // The next datagram; received fds are O_CLOEXEC. A closed peer is a
  // Protocol error "...: peer closed the connection" (err = 0).
  Result<Message> recv();

 private:
  sys::UniqueFd fd_;
};

// socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC): {parent end, init end}.
Result<std::pair<Channel, Channel>> make_channel_pair();

// Encode an Error for the wire and back (exposed for tests).
Status send_error(Channel& ch, const Error& e);
Error decode_error(const Message& m);

// What the parent receives once the intermediate step forked the real init.
struct ForkedInit {
  pid_t pid = 0;
  sys::UniqueFd pidfd;
};

// The parent's side: every method is one step of the table above.
class ParentEnd {
 public:
  explicit ParentEnd(Channel ch) : ch_(std::move(ch)) {}
  Status send_start() { return ch_.send(MsgType::Start); }
  Status await_userns_ready();
  Status send_userns_mapped() { return ch_.send(MsgType::UsernsMapped); }
  Status send_mount_source(size_t mount_index, int fd);
  Result<ForkedInit> await_init_forked();
  // The init's pid as the container sees it.
  Result<pid_t> await_hooks_request();
  Status send_hooks_done(std::string_view creating_state, std::string_view created_state);
  // 6b: the notification fd of the init's seccomp filter.
  Result<sys::UniqueFd> await_seccomp_listener();
  Status await_ready();
  // `run` (8, 9): release the init, then wait until it has exec'd: the end
  // of the socket after Execing; an Error if a startContainer hook or the
  // execve failed.
  Status send_exec() { return ch_.send(MsgType::Exec); }
  Status await_execing();
  Status await_exec_done();
  // After a step failed: the Error the init sent meanwhile, if one waits
  // unread (the init builds part of its rootfs before Start, so it can fail
  // first; what that then did to the parent, EPIPE on Start, says less).
  // Never blocks.
  std::optional<Error> queued_error();
  void close() { ch_.close(); }

 private:
  // Receive; an Error message becomes the returned Error, anything but
  // `want` a Protocol error naming both.
  Result<Message> expect(MsgType want);
  Channel ch_;
};

// The init's side.
struct HookStates {
  std::string creating;  // for createContainer hooks
  std::string created;   // for startContainer hooks
};

class InitEnd {
 public:
  explicit InitEnd(Channel ch) : ch_(std::move(ch)) {}
  [[nodiscard]] int fd() const { return ch_.fd(); }
  Status await_start() { return expect(MsgType::Start); }
  Status send_userns_ready() { return ch_.send(MsgType::UsernsReady); }
  // The MountSource messages before UsernsMapped: sources[i] becomes the fd
  // for config.mounts[i] (sources is sized by the caller; an index outside
  // it is a Protocol error).
  Status await_userns_mapped(std::vector<sys::UniqueFd>& sources);
  Status send_init_forked(pid_t pid, int pidfd);
  Status send_hooks_request(pid_t own_pid) { return ch_.send(MsgType::HooksRequest, own_pid); }
  Result<HookStates> await_hooks_done();
  Status send_seccomp_listener(int fd);
  Status send_ready() { return ch_.send(MsgType::Ready); }
  Status await_exec() { return expect(MsgType::Exec); }
  Status send_execing() { return ch_.send(MsgType::Execing); }
  // Best effort: the init is about to exit anyway.
  void send_error(const Error& e) noexcept;

 private:
  Status expect(MsgType want);
  Channel ch_;
};

}  // namespace husk::linux_setup::protocol
