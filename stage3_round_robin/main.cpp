/**
 * @file main.cpp
 * Chapter 3: the pool hands new connections to its workers in turn (round robin).
 */
#include <stdio.h>
#include <unistd.h>

#include "echo_conn.h"
#include "event_loop.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "processpool.h"
#include "trace.h"

/**
 * Parses the command line, opens the listening socket, forks the workers, and runs the parent.
 * Runs in the parent. The lambda given to pool.start() is a worker's main: it runs in each
 * worker after the fork, builds its EventLoop, and its result is the worker's exit status.
 */
int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  set_verbose(options.verbose);
  const std::string role = "parent " + std::to_string(getpid());
  set_log_role(role.c_str());
  if (!options.trace.empty()) open_trace(options.trace.c_str());
  set_trace_role("parent");

  UniqueFd listen_fd = make_listen_socket(options.host, options.port);
  const std::string address = local_address(listen_fd.get());
  ProcessPool pool(std::move(listen_fd), options.workers);
  pool.start([](int process_id, UniqueFd listen, UniqueFd channel) {
    set_trace_role("worker", process_id);  // before its handlers: see set_trace_role
    EchoShared shared;
    shared.banner = "hello from worker " + std::to_string(process_id) + " pid " +
                    std::to_string(getpid()) + "\n";
    EventLoop<EchoConn> loop(std::move(listen), std::move(channel), shared);
    log_line("started");
    return loop.run();
  });

  // The one line on stdout: tests and scripts wait for it before connecting.
  printf("listening on %s\n", address.c_str());
  fflush(stdout);
  log_line("listening on %s with %d workers", address.c_str(), options.workers);
  return pool.run_parent();
}
