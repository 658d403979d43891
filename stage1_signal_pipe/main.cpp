/**
 * @file main.cpp
 * Chapter 1: one process, one epoll loop, signals delivered through a pipe.
 */
#include <stdio.h>
#include <unistd.h>

#include "echo_conn.h"
#include "event_loop.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "trace.h"

/**
 * Parses the command line, opens the listening socket, prints the ready line, and serves. Runs in
 * the server process, the only one in this chapter.
 */
int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  set_verbose(options.verbose);
  const std::string role = "pid " + std::to_string(getpid());
  set_log_role(role.c_str());
  if (!options.trace.empty()) open_trace(options.trace.c_str());
  set_trace_role("single");

  UniqueFd listen_fd = make_listen_socket(options.host, options.port);
  const std::string address = local_address(listen_fd.get());
  EchoShared shared;
  shared.banner = "hello from pid " + std::to_string(getpid()) + "\n";
  EventLoop<EchoConn> loop(std::move(listen_fd), shared);

  // The one line on stdout: tests and scripts wait for it before connecting.
  printf("listening on %s\n", address.c_str());
  fflush(stdout);
  log_line("listening on %s", address.c_str());
  return loop.run();
}
