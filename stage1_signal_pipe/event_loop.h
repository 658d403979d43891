/**
 * @file event_loop.h
 * The epoll loop of one process: the listening socket, the signal pipe and every connection.
 */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "epoll_set.h"
#include "log.h"
#include "net.h"
#include "sig_pipe.h"
#include "trace.h"
#include "unique_fd.h"

/**
 * A single-process epoll server for connections of type T (the classic "user" class): main()
 * builds one and runs it in the server process.
 *
 * T must provide `T::Shared` (per-process state shared by its connections, with a
 * `std::string stats() const`), a constructor `T(UniqueFd, T::Shared&)`, `bool process()`,
 * which does all the I/O the socket allows and returns false when the connection is over, and
 * `bool quit()`, which makes it read nothing more and says whether it still has bytes to send.
 *
 * Signals are one more fd: SIGINT and SIGTERM stop the loop at once, SIGQUIT stops it
 * gracefully (quit()), SIGUSR1 prints the stats line, SIGHUP is logged; SIGPIPE and every other
 * signal that would kill or stop us is ignored. Every fd is edge-triggered, so each handler works
 * until EAGAIN.
 */
template <typename T>
class EventLoop {
 public:
  /** Takes the listening socket, creates the epoll instance and the signal pipe. */
  EventLoop(UniqueFd listen_fd, typename T::Shared& shared);

  /**
   * Serves until SIGINT or SIGTERM, or until SIGQUIT's graceful stop is over, then closes every
   * connection. Returns the exit status.
   */
  int run();

  /** After SIGQUIT, how long connections may take to finish what they started. */
  static constexpr std::chrono::seconds kGracePeriod{5};

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxEvents = 256;

  /** Accepts every waiting connection (until EAGAIN), pausing when it can take no more. */
  void accept_all();
  /** Makes the T for a new connection and watches its fd; drops it if epoll_ctl fails. */
  void add_conn(UniqueFd fd, const sockaddr_storage& peer);
  /** Lets the connection on @p fd do its I/O; closes it when process() returns false. */
  void serve(int fd);
  /**
   * Destroys (and so closes) the connection on @p fd and resumes a paused accept; @p why is
   * the reason the trace records ("over": process() said so, "quit": SIGQUIT's graceful stop).
   */
  void close_conn(int fd, const char* why = "over");
  /** Reads the signal pipe once and acts on each signal (see the class comment). */
  void handle_signals();
  /** SIGQUIT: closes the listening socket and every connection that has nothing left to send. */
  void quit();
  /** epoll_wait's timeout: -1 while serving; after SIGQUIT, the ms left of the grace period. */
  int wait_timeout_ms() const;
  /** Logs the stats line that SIGUSR1 asks for. */
  void log_stats();

  UniqueFd listen_;
  EpollSet epoll_;
  typename T::Shared& shared_;
  // users_[fd]: the connection on fd, or null; sized by the highest fd in use, bounds-checked.
  std::vector<std::unique_ptr<T>> users_;
  std::size_t open_count_ = 0;
  std::uint64_t accepted_ = 0;
  bool accepting_ = true;         // false: out of fds, until a connection closes
  std::string stop_reason_;       // set when the loop must end, e.g. "got SIGTERM"
  bool quitting_ = false;         // SIGQUIT came: finish what was started, accept nothing
  Clock::time_point give_up_at_;  // quitting: the end of the grace period
};

template <typename T>
EventLoop<T>::EventLoop(UniqueFd listen_fd, typename T::Shared& shared)
    : listen_(std::move(listen_fd)), shared_(shared) {
  epoll_.create();
  ignore_stray_signals();  // first, so that the handlers below override it
  add_sig(SIGINT);
  add_sig(SIGTERM);
  add_sig(SIGQUIT);
  add_sig(SIGHUP);
  add_sig(SIGUSR1);
  ignore_sig(SIGPIPE);  // a write to a closed socket then fails with EPIPE instead of killing us
  if (!epoll_.watch(listen_.get(), EPOLLIN | EPOLLET)) die("epoll_ctl");
}

template <typename T>
int EventLoop<T>::run() {
  epoll_event events[kMaxEvents];
  while (stop_reason_.empty()) {
    const int n = epoll_.wait(events, kMaxEvents, wait_timeout_ms());
    if (n == -1) {
      log_line("epoll_wait: %s", strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_.get()) {
        accept_all();
      } else if (fd == epoll_.signal_fd()) {
        handle_signals();
      } else {
        serve(fd);
      }
    }
    if (quitting_ && (open_count_ == 0 || Clock::now() >= give_up_at_))
      stop_reason_ = "got SIGQUIT";
  }
  const std::size_t closing = open_count_;
  users_.clear();  // closes every connection
  TRACE("exit", R"("why":"%s","closed":%zu)", stop_reason_.c_str(), closing);
  log_line("%s: closed %zu connections, exiting", stop_reason_.c_str(), closing);
  return 0;
}

// Edge-triggered: one wake-up may stand for many queued connections, so accept until EAGAIN or
// some of them would stay in the backlog until the next client arrives.
template <typename T>
void EventLoop<T>::accept_all() {
  if (!listen_) return;  // closed by quit()
  while (true) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = accept4(listen_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      add_conn(UniqueFd(fd), peer);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;  // that client gave up; try the next
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;    // backlog empty
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of fds: the connections stay in the backlog. We do not retry now (that would spin);
      // close_conn() retries as soon as an fd is free.
      if (accepting_) log_line("accept: %s; pausing until a connection closes", strerror(errno));
      accepting_ = false;
      return;
    }
    log_line("accept: %s", strerror(errno));
    return;
  }
}

template <typename T>
void EventLoop<T>::add_conn(UniqueFd fd, const sockaddr_storage& peer) {
  const int raw_fd = fd.get();
  if (static_cast<std::size_t>(raw_fd) >= users_.size()) users_.resize(raw_fd + 1);
  users_[raw_fd] = std::make_unique<T>(std::move(fd), shared_);
  // EPOLLOUT is reported at once for a fresh socket, so process() runs right after this accept
  // batch; registering both directions once means no epoll_ctl per read or write later.
  if (!epoll_.watch(raw_fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)) {
    // ENOMEM, or ENOSPC at fs.epoll.max_user_watches: drop this client, keep serving the others.
    log_line("fd %d: epoll_ctl: %s; dropping the connection", raw_fd, strerror(errno));
    users_[raw_fd].reset();
    return;
  }
  ++open_count_;
  ++accepted_;
  if (verbose()) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
    log_line("fd %d: accepted from port %u", raw_fd,
             peer.ss_family == AF_INET ? ntohs(v4->sin_port) : 0u);
  }
  TRACE("accept", R"("fd":%d,"port":%u)", raw_fd, peer_port(peer));
}

template <typename T>
void EventLoop<T>::serve(int fd) {
  // Guards against a handler that closed this connection earlier in the turn.
  if (static_cast<std::size_t>(fd) >= users_.size() || !users_[fd]) return;
  if (!users_[fd]->process()) close_conn(fd);
}

template <typename T>
void EventLoop<T>::close_conn(int fd, const char* why) {
  TRACE("close", R"("fd":%d,"why":"%s")", fd, why);
  // Closing the fd also removes it from epoll: no other process holds a copy of it.
  users_[fd].reset();
  --open_count_;
  log_verbose("fd %d: closed", fd);
  if (!accepting_) {
    accepting_ = true;
    accept_all();  // an fd is free again: take what waited in the backlog
  }
}

// One read per loop turn, whatever is waiting: a flood of signals cannot keep us from the
// sockets, and each kind of signal is acted on at most once per turn (see read_signals()).
template <typename T>
void EventLoop<T>::handle_signals() {
  int signals[NSIG];
  const std::size_t n = read_signals(epoll_.signal_fd(), signals, NSIG);
  for (std::size_t i = 0; i < n; ++i) {
    switch (signals[i]) {
      case SIGINT:
      case SIGTERM:
        stop_reason_ = std::string("got SIG") + sigabbrev_np(signals[i]);
        break;
      case SIGQUIT:
        quit();
        break;
      case SIGHUP:
        log_line("got SIGHUP: there is no configuration to reload; carrying on");
        break;
      case SIGUSR1:
        log_stats();
        break;
      default:
        break;
    }
  }
}

// SIGQUIT is nginx's graceful stop: no new connections, every connection finishes what it has
// started (T::quit()) and is then closed, the idle ones at once. A client that stops reading
// cannot hold us longer than kGracePeriod.
template <typename T>
void EventLoop<T>::quit() {
  if (quitting_) return;
  quitting_ = true;
  give_up_at_ = Clock::now() + kGracePeriod;
  listen_.reset();  // new clients are refused; closing also takes it out of the epoll set
  log_line("got SIGQUIT: finishing %zu connections", open_count_);
  for (std::size_t fd = 0; fd < users_.size(); ++fd)
    if (users_[fd] && !users_[fd]->quit()) close_conn(static_cast<int>(fd), "quit");
}

template <typename T>
int EventLoop<T>::wait_timeout_ms() const {
  if (!quitting_) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(give_up_at_ - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

template <typename T>
void EventLoop<T>::log_stats() {
  log_line("stats: open_connections=%zu accepted=%llu %s", open_count_,
           static_cast<unsigned long long>(accepted_), shared_.stats().c_str());
}
