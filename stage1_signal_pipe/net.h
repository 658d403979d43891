/**
 * @file net.h
 * The listening socket: created once, before the event loop starts.
 */
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "unique_fd.h"

/**
 * Creates a nonblocking, close-on-exec TCP socket listening on @p host:@p port (SO_REUSEADDR,
 * backlog SOMAXCONN). Port 0 lets the kernel choose. On failure prints one line such as
 * "server: bind 127.0.0.1:8080: Address already in use" and exits 1. Called once by main()
 * (from chapter 2 on, in the parent before the fork; every worker inherits the socket).
 */
UniqueFd make_listen_socket(const std::string& host, std::uint16_t port);

/**
 * The address a socket is bound to, as "127.0.0.1:41235" or "[::1]:41235" (the real port).
 * Called by main() for the ready line.
 */
std::string local_address(int socket_fd);

/** The peer's TCP port of an accepted connection (0 when not IPv4 or IPv6), for the trace. */
unsigned peer_port(const sockaddr_storage& peer);
