/**
 * @file main.cpp
 * Chapter 4: the workers of the pool speak HTTP/1.1 and serve static files from --root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "event_loop.h"
#include "http_conn.h"
#include "log.h"
#include "net.h"
#include "options.h"
#include "path_resolve.h"
#include "processpool.h"
#include "trace.h"

/**
 * Refuses to start (exit 1) when RLIMIT_NOFILE leaves a worker no descriptor for the file it
 * sends: every request would get a 500. Runs in the parent, before the forks.
 */
void check_descriptor_limit(int open_fd) {
  // The lowest free number counts what every worker inherits (stdio, the socket, the root); a
  // worker adds its epoll instance, signal pipe (2), channel and log description, then needs
  // one descriptor for a connection and one for its file.
  const int lowest_free = fcntl(open_fd, F_DUPFD_CLOEXEC, 0);
  if (lowest_free == -1) die("fcntl");
  close(lowest_free);
  const rlim_t needed = static_cast<rlim_t>(lowest_free) + 5 + 2;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < needed) {
    const std::string what = "RLIMIT_NOFILE is " + std::to_string(limit.rlim_cur) +
                             ": a worker needs " + std::to_string(needed) +
                             " descriptors to serve a file";
    errno = EMFILE;
    die(what.c_str());
  }
}

/**
 * Parses the command line, opens the socket and the root, forks the workers, runs the parent.
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
  // O_PATH: a handle for openat2(RESOLVE_BENEATH) lookups, never read itself; every worker
  // inherits it, so a root renamed while we run stays the root.
  const UniqueFd root_fd(open(options.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) die(("open " + options.root).c_str());
  // openat2 is what keeps every file we open inside the root; without it, refuse to start.
  if (!openat2_available(root_fd.get())) die("openat2 (Linux 5.6 or later is required)");
  check_descriptor_limit(root_fd.get());
  ProcessPool pool(std::move(listen_fd), options.workers);
  pool.start([&](int process_id, UniqueFd listen, UniqueFd channel) {
    set_trace_role("worker", process_id);  // before its handlers: see set_trace_role
    HttpShared shared(root_fd.get(), process_id);
    EventLoop<HttpConn> loop(std::move(listen), std::move(channel), shared);
    log_line("started");
    return loop.run();
  });

  // The one line on stdout: tests and scripts wait for it before connecting.
  printf("listening on %s\n", address.c_str());
  fflush(stdout);
  log_line("listening on %s with %d workers, root %s", address.c_str(), options.workers,
           options.root.c_str());
  return pool.run_parent();
}
