/**
 * @file net.cpp
 * Socket set-up for the listening socket; IPv4 and IPv6 literals are both accepted.
 */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>

#include "log.h"

namespace {

/** Fills @p address from a numeric host (already checked by parse_options) and a port. */
socklen_t make_address(const std::string& host, std::uint16_t port, sockaddr_storage* address) {
  *address = sockaddr_storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof *v4;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(address);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof *v6;
  }
  return 0;
}

}  // namespace

UniqueFd make_listen_socket(const std::string& host, std::uint16_t port) {
  char where[80];
  snprintf(where, sizeof where, "%s:%u", host.c_str(), static_cast<unsigned>(port));
  sockaddr_storage address;
  const socklen_t length = make_address(host, port, &address);
  if (length == 0) {
    errno = EINVAL;
    die(where);
  }
  UniqueFd fd(socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) die("socket");
  // Lets a restarted server bind at once while old connections sit in TIME_WAIT.
  const int on = 1;
  if (setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1) die("setsockopt");
  char what[96];
  snprintf(what, sizeof what, "bind %s", where);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) == -1) die(what);
  snprintf(what, sizeof what, "listen %s", where);
  if (listen(fd.get(), SOMAXCONN) == -1) die(what);
  return fd;
}

std::string local_address(int socket_fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == -1)
    die("getsockname");
  char host[INET6_ADDRSTRLEN] = "?";
  char text[INET6_ADDRSTRLEN + 16];
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    snprintf(text, sizeof text, "[%s]:%u", host, static_cast<unsigned>(ntohs(v6->sin6_port)));
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
    snprintf(text, sizeof text, "%s:%u", host, static_cast<unsigned>(ntohs(v4->sin_port)));
  }
  return text;
}

unsigned peer_port(const sockaddr_storage& peer) {
  if (peer.ss_family == AF_INET)
    return ntohs(reinterpret_cast<const sockaddr_in*>(&peer)->sin_port);
  if (peer.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&peer)->sin6_port);
  return 0;
}
