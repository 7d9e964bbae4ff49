#include "linux/protocol.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "sys/unix_socket.hpp"

namespace husk::linux_setup::protocol {

const char* name(MsgType t) {
  switch (t) {
    case MsgType::Start:
      return "Start";
    case MsgType::UsernsReady:
      return "UsernsReady";
    case MsgType::UsernsMapped:
      return "UsernsMapped";
    case MsgType::InitForked:
      return "InitForked";
    case MsgType::HooksRequest:
      return "HooksRequest";
    case MsgType::HooksDone:
      return "HooksDone";
    case MsgType::Ready:
      return "Ready";
    case MsgType::Error:
      return "Error";
    case MsgType::Exec:
      return "Exec";
    case MsgType::Execing:
      return "Execing";
    case MsgType::MountSource:
      return "MountSource";
    case MsgType::SeccompListener:
      return "SeccompListener";
  }
  return "unknown";
}

namespace {

std::string type_name(const Header& h) {
  const char* n = name(h.type);
  if (std::strcmp(n, "unknown") != 0) return n;
  return fmt::format("message type {}", static_cast<unsigned>(h.type));
}

std::string encode_strings(std::span<const std::string_view> strings) {
  std::string out;
  for (auto s : strings) {
    out.append(s);
    out.push_back('\0');
  }
  return out;
}

std::vector<std::string> decode_strings(std::string_view payload) {
  std::vector<std::string> out;
  while (!payload.empty()) {
    size_t end = payload.find('\0');
    if (end == std::string_view::npos) end = payload.size();
    out.emplace_back(payload.substr(0, end));
    payload.remove_prefix(std::min(end + 1, payload.size()));
  }
  return out;
}

// Size of the next datagram: with MSG_TRUNC a SEQPACKET recv reports the real
// length even when the buffer is smaller (unix(7), recv(2)).
Result<size_t> peek_size(int fd) {
  for (;;) {
    char byte = 0;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_TRUNC);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return Error::last("recv(init socket, MSG_PEEK)");
  }
}

}  // namespace

Status Channel::send(MsgType type, int32_t value, uint8_t kind,
                     std::span<const std::string_view> strings, std::span<const int> fds) {
  if (fds.size() > kMaxFds) return Error::make(ErrorKind::Protocol, "{}: too many fds", name(type));
  std::string payload = encode_strings(strings);
  Header h;
  h.type = type;
  h.kind = kind;
  h.value = value;
  h.length = static_cast<uint32_t>(payload.size());
  iovec iov[2] = {{&h, sizeof h}, {payload.data(), payload.size()}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = payload.empty() ? 1 : 2;
  sys::FdControl<kMaxFds> control;
  sys::attach_fds(mh, control.data, fds);
  // MSG_NOSIGNAL: a dead peer is EPIPE, not a SIGPIPE that kills us.
  while (::sendmsg(fd_.get(), &mh, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::last("send {} on init socket", name(type));
  }
  return {};
}

Result<Message> Channel::recv() {
  size_t size = TRY(peek_size(fd_.get()));
  if (size == 0) {
    return Error::make(ErrorKind::Protocol, "init socket: peer closed the connection");
  }
  if (size < sizeof(Header)) {
    return Error::make(ErrorKind::Protocol, "init socket: short message ({} bytes)", size);
  }
  Message m;
  std::string payload(size - sizeof(Header), '\0');
  iovec iov[2] = {{&m.header, sizeof(Header)}, {payload.data(), payload.size()}};
  sys::FdControl<kMaxFds> control;
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = 2;
  mh.msg_control = control.data;
  mh.msg_controllen = sizeof control.data;
  ssize_t n = 0;
  // MSG_CMSG_CLOEXEC: passed fds must not leak into anything we exec.
  while ((n = ::recvmsg(fd_.get(), &mh, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) return Error::last("recv on init socket");
  }
  m.fds = sys::take_fds(mh);
  if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    return Error::make(ErrorKind::Protocol, "init socket: truncated message");
  }
  if (m.header.magic != kMagic || m.header.length != payload.size()) {
    return Error::make(ErrorKind::Protocol, "init socket: malformed message header");
  }
  m.strings = decode_strings(payload);
  return m;
}

Result<std::pair<Channel, Channel>> make_channel_pair() {
  int sv[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    return Error::last("socketpair(AF_UNIX, SOCK_SEQPACKET)");
  }
  return std::pair<Channel, Channel>(Channel(sys::UniqueFd(sv[0])), Channel(sys::UniqueFd(sv[1])));
}

Status send_error(Channel& ch, const Error& e) {
  std::vector<std::string_view> parts;
  parts.reserve(e.context().size() + 1);
  parts.emplace_back(e.op());
  for (const auto& c : e.context()) parts.emplace_back(c);
  return ch.send(MsgType::Error, e.err(), static_cast<uint8_t>(e.kind()), parts);
}

Error decode_error(const Message& m) {
  auto kind = static_cast<ErrorKind>(m.header.kind);
  if (m.header.kind > static_cast<uint8_t>(ErrorKind::Unsupported)) kind = ErrorKind::Sys;
  Error e(kind, m.header.value, m.strings.empty() ? std::string("init failed") : m.strings[0]);
  for (size_t i = 1; i < m.strings.size(); ++i) e.wrap("{}", m.strings[i]);
  return e;
}

// ---- parent ----

Result<Message> ParentEnd::expect(MsgType want) {
  auto m = ch_.recv();
  if (!m) {
    if (m.error().kind() == ErrorKind::Protocol && m.error().err() == 0) {
      return Error::make(ErrorKind::Protocol, "container init exited before sending {}",
                         name(want));
    }
    return std::move(m).error().wrap("waiting for {} from container init", name(want));
  }
  if (m->type() == MsgType::Error) return decode_error(*m);
  if (m->type() != want) {
    return Error::make(ErrorKind::Protocol,
                       "init protocol: expected {} from container init, got {}", name(want),
                       type_name(m->header));
  }
  return m;
}

Status ParentEnd::await_userns_ready() {
  TRY(expect(MsgType::UsernsReady));
  return {};
}

Result<pid_t> ParentEnd::await_hooks_request() {
  Message m = TRY(expect(MsgType::HooksRequest));
  return static_cast<pid_t>(m.header.value);
}

Result<sys::UniqueFd> ParentEnd::await_seccomp_listener() {
  Message m = TRY(expect(MsgType::SeccompListener));
  if (m.fds.size() != 1) {
    return Error::make(ErrorKind::Protocol, "init protocol: SeccompListener without an fd");
  }
  return std::move(m.fds[0]);
}

Status ParentEnd::await_ready() {
  TRY(expect(MsgType::Ready));
  return {};
}

Status ParentEnd::await_execing() {
  TRY(expect(MsgType::Execing));
  return {};
}

Status ParentEnd::await_exec_done() {
  auto m = ch_.recv();
  if (!m) {
    // Close-on-exec: the init's end closed with execve.
    if (m.error().kind() == ErrorKind::Protocol && m.error().err() == 0) return {};
    return std::move(m).error().wrap("waiting for the container init's execve");
  }
  if (m->type() == MsgType::Error) return decode_error(*m);
  return Error::make(ErrorKind::Protocol,
                     "init protocol: expected the end of the connection after Execing, got {}",
                     type_name(m->header));
}

std::optional<Error> ParentEnd::queued_error() {
  pollfd pfd{ch_.fd(), POLLIN, 0};
  if (::poll(&pfd, 1, 0) != 1 || (pfd.revents & POLLIN) == 0) return std::nullopt;
  auto m = ch_.recv();
  if (!m || m->type() != MsgType::Error) return std::nullopt;
  return decode_error(*m);
}

Result<ForkedInit> ParentEnd::await_init_forked() {
  Message m = TRY(expect(MsgType::InitForked));
  if (m.fds.size() != 1 || m.header.value <= 0) {
    return Error::make(ErrorKind::Protocol, "init protocol: InitForked without a pid and a pidfd");
  }
  return ForkedInit{m.header.value, std::move(m.fds[0])};
}

Status ParentEnd::send_mount_source(size_t mount_index, int fd) {
  int fds[] = {fd};
  return ch_.send(MsgType::MountSource, static_cast<int32_t>(mount_index), 0, {}, fds);
}

Status ParentEnd::send_hooks_done(std::string_view creating_state, std::string_view created_state) {
  std::string_view parts[] = {creating_state, created_state};
  return ch_.send(MsgType::HooksDone, 0, 0, parts);
}

// ---- init ----

Status InitEnd::expect(MsgType want) {
  auto m = ch_.recv();
  if (!m) {
    // The parent is gone (killed, or failed and rolled back): nothing to do.
    return std::move(m).error().wrap("waiting for {} from husk", name(want));
  }
  if (m->type() != want) {
    return Error::make(ErrorKind::Protocol, "init protocol: expected {} from husk, got {}",
                       name(want), type_name(m->header));
  }
  return {};
}

Status InitEnd::await_userns_mapped(std::vector<sys::UniqueFd>& sources) {
  for (;;) {
    auto m = ch_.recv();
    if (!m) return std::move(m).error().wrap("waiting for UsernsMapped from husk");
    if (m->type() == MsgType::UsernsMapped) return {};
    if (m->type() != MsgType::MountSource) {
      return Error::make(ErrorKind::Protocol,
                         "init protocol: expected UsernsMapped from husk, got {}",
                         type_name(m->header));
    }
    auto i = static_cast<size_t>(m->header.value);
    if (m->header.value < 0 || i >= sources.size() || m->fds.size() != 1) {
      return Error::make(ErrorKind::Protocol, "init protocol: MountSource for mount {} with {} fds",
                         m->header.value, m->fds.size());
    }
    sources[i] = std::move(m->fds[0]);
  }
}

Status InitEnd::send_init_forked(pid_t pid, int pidfd) {
  int fds[] = {pidfd};
  return ch_.send(MsgType::InitForked, pid, 0, {}, fds);
}

Status InitEnd::send_seccomp_listener(int fd) {
  int fds[] = {fd};
  return ch_.send(MsgType::SeccompListener, 0, 0, {}, fds);
}

Result<HookStates> InitEnd::await_hooks_done() {
  auto m = ch_.recv();
  if (!m) return std::move(m).error().wrap("waiting for HooksDone from husk");
  if (m->type() != MsgType::HooksDone || m->strings.size() != 2) {
    return Error::make(ErrorKind::Protocol, "init protocol: expected HooksDone from husk, got {}",
                       type_name(m->header));
  }
  return HookStates{std::move(m->strings[0]), std::move(m->strings[1])};
}

void InitEnd::send_error(const Error& e) noexcept { (void)protocol::send_error(ch_, e); }

}  // namespace husk::linux_setup::protocol
