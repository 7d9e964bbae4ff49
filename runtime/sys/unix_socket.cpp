#include "sys/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace husk::sys {

Result<UniqueFd> connect_unix(const std::string& path, int type) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error::arg("socket path must be 1..{} bytes: \"{}\"", sizeof addr.sun_path - 1, path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd s(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (!s) return Error::last("socket(AF_UNIX)");
  while (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINTR) return Error::last("connect {}", path);
  }
  return s;
}

void attach_fds(msghdr& mh, std::span<char> control, std::span<const int> fds) {
  if (fds.empty()) return;
  mh.msg_control = control.data();
  mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
}

std::vector<UniqueFd> take_fds(msghdr& mh) {
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  return fds;
}

Status send_fd(int sock, std::string_view payload, int fd) {
  char nul = '\0';
  iovec iov{};
  if (payload.empty()) {
    iov = {&nul, 1};
  } else {
    iov = {const_cast<char*>(payload.data()), payload.size()};
  }
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  FdControl<1> control;
  attach_fds(mh, control.data, {&fd, 1});
  // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE death.
  while (::sendmsg(sock, &mh, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return Error::last("sendmsg");
  }
  return {};
}

Result<UniqueFd> recv_fd(int sock, int flags) {
  char payload[4096];
  iovec iov{payload, sizeof payload};
  FdControl<1> control;
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = control.data;
  mh.msg_controllen = sizeof control.data;
  while (::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags) < 0) {
    if (errno != EINTR) return Error::last("recvmsg");
  }
  auto fds = take_fds(mh);
  if (fds.empty()) return Error::make(ErrorKind::Protocol, "no file descriptor received");
  return std::move(fds.front());
}

Status send_pidfd_to_socket(const std::string& path, int pidfd, std::string_view payload) {
  auto sock = connect_unix(path, SOCK_STREAM);
  if (!sock) return std::move(sock).error().wrap("--pidfd-socket");
  if (auto st = send_fd(sock->get(), payload, pidfd); !st) {
    return std::move(st).error().wrap("--pidfd-socket {}", path);
  }
  return {};
}

}  // namespace husk::sys
