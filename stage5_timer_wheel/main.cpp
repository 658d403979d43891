/**
 * @file main.cpp
 * Chapter 5: the complete server; each worker's time wheel closes connections that stall.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "http_conn.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "path_resolve.h"
#include "processpool.h"

/**
 * Parses the command line, opens the socket and the root, forks the workers, runs the parent.
 * Runs in the parent: a worker never returns from pool.start().
 */
int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  set_verbose(options.verbose);
  const std::string role = "parent " + std::to_string(getpid());
  set_log_role(role.c_str());

  UniqueFd listen_fd = make_listen_socket(options.host, options.port);
  const std::string address = local_address(listen_fd.get());
  // O_PATH: a handle for openat2(RESOLVE_BENEATH) lookups, never read itself; every worker
  // inherits it, so a root renamed while we run stays the root.
  const UniqueFd root_fd(open(options.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) die(("open " + options.root).c_str());
  // openat2 is what keeps every file we open inside the root; without it, refuse to start.
  if (!openat2_available(root_fd.get())) die("openat2 (Linux 5.6 or later is required)");
  ProcessPool<HttpConn> pool(std::move(listen_fd), options.workers);
  pool.start([&](int worker_id) {
    return HttpShared(root_fd.get(), worker_id, std::chrono::seconds(options.timeout));
  });

  // The one line on stdout: tests and scripts wait for it before connecting.
  printf("listening on %s\n", address.c_str());
  fflush(stdout);
  log_line("listening on %s with %d workers, root %s, timeout %d s", address.c_str(),
           options.workers, options.root.c_str(), options.timeout);
  return pool.run_parent();
}
