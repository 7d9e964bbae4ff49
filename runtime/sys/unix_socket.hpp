// AF_UNIX helpers for handing file descriptors to the runtime's caller:
// --pidfd-socket (create, run, exec) and anything else that passes an fd by
// SCM_RIGHTS to a socket the caller listens on.
#pragma once

#include <sys/socket.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "sys/fd.hpp"

namespace husk::sys {

// socket(AF_UNIX, type|SOCK_CLOEXEC) + connect(2) to an absolute or relative
// path. Errors name the path ("connect PATH: ...").
Result<UniqueFd> connect_unix(const std::string& path, int type);

// Room for the ancillary data of one SCM_RIGHTS message of up to N fds
// (cmsg(3), unix(7)).
template <size_t N>
struct FdControl {
  alignas(cmsghdr) char data[CMSG_SPACE(sizeof(int) * N)] = {};
};

// Attach `fds` to `mh` as one SCM_RIGHTS message built in `control` (room
// for at least fds.size() fds); no fds: no ancillary data.
void attach_fds(msghdr& mh, std::span<char> control, std::span<const int> fds);

// Every fd the SCM_RIGHTS messages of a received `mh` carry, owned.
std::vector<UniqueFd> take_fds(msghdr& mh);

// One sendmsg(2): `payload` (at least one byte is sent; an empty payload
// sends a single NUL, as a stream socket cannot carry ancillary data alone)
// with exactly one SCM_RIGHTS fd.
Status send_fd(int sock, std::string_view payload, int fd);

// The receiving side of send_fd: one recvmsg(2) (`flags` added to
// MSG_CMSG_CLOEXEC) whose payload is discarded. Error (Protocol) when the
// message carried no SCM_RIGHTS fd.
Result<UniqueFd> recv_fd(int sock, int flags);

// --pidfd-socket PATH (runc >= 1.2): connect a SOCK_STREAM socket to PATH and
// send `pidfd` with `payload` ("standard" for a container's init, "setns" for
// an exec'd process, as runc names them). Errors are prefixed "--pidfd-socket".
Status send_pidfd_to_socket(const std::string& path, int pidfd, std::string_view payload);

}  // namespace husk::sys
