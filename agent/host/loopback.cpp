// SPDX-License-Identifier: Apache-2.0
#include "host/loopback.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace zt::host::loopback {

SocketFd::~SocketFd() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

Result<bool> wait_for(int fd, short events, Clock::time_point deadline, const std::string& subject) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) {
      return true;
    }
    if (rc == 0) {
      return false;
    }
    if (errno != EINTR) {
      return make_error(Errc::io, subject + ": poll: " + std::strerror(errno));
    }
  }
}

std::string reason(int err) {
  if (err == ECONNREFUSED) {
    return "connection refused";
  }
  return std::strerror(err);
}

Result<std::optional<SocketFd>> connect(std::uint16_t port, Clock::time_point deadline, const std::string& subject) {
  SocketFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) {
    return make_error(Errc::io, subject + ": socket: " + std::strerror(errno));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      return make_error(Errc::io, subject + ": " + reason(errno));
    }
    ZT_TRY_ASSIGN(ready, wait_for(sock.get(), POLLOUT, deadline, subject));
    if (!ready) {
      return std::optional<SocketFd>();
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
      return make_error(Errc::io, subject + ": getsockopt: " + std::strerror(errno));
    }
    if (err != 0) {
      return make_error(Errc::io, subject + ": " + reason(err));
    }
  }
  return std::optional<SocketFd>(std::move(sock));
}

} // namespace zt::host::loopback
