/**
 * @file event_loop.h
 * The epoll loop of one worker process: its channel to the parent, its signal pipe, and every
 * connection it accepted.
 */
#pragma once

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
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

/** What a worker writes on its channel to the parent, one byte each. */
enum class Report : char {
  took = 'T',       ///< answers one wake-up: what waited in the backlog has been accepted
  full = 'F',       ///< takes no new connections for now (out of fds, or at its cap)
  accepting = 'A',  ///< takes new connections again
};

/** After SIGQUIT, how long a worker's connections may take to finish what they started. */
constexpr std::chrono::seconds kGracePeriod{5};

/**
 * The epoll loop a worker runs (main()'s WorkerMain builds it) for connections of type T (the
 * classic "user" class). The worker does not watch the listening socket: the parent does, and
 * writes a byte to this worker's channel when a connection is waiting; the worker then accepts, and
 * answers every wake-up byte with a Report::took. It also reports when it stops or starts taking
 * connections.
 *
 * T must provide `T::Shared` (per-process state shared by its connections, with a
 * `std::string stats() const`), a constructor `T(UniqueFd, T::Shared&)`,
 * `bool process(std::uint32_t events)`, which does all the I/O the socket allows (events is the
 * epoll event's mask) and returns false when the connection is over, `bool has_more()`, true
 * when process() stopped only because it used its share of the turn, and `bool quit()`, which
 * makes it read nothing more and says whether it still has bytes to send.
 *
 * Signals are one more fd: SIGINT and SIGTERM stop the loop at once, SIGQUIT stops it
 * gracefully (quit()), SIGUSR1 prints the stats line, SIGHUP is logged; SIGPIPE and every other
 * signal that would kill or stop us is ignored. Every fd is edge-triggered, so each handler works
 * until EAGAIN.
 */
template <typename T>
class EventLoop {
 public:
  /**
   * Takes the (shared) listening socket and this worker's end of its channel; creates the
   * worker's own epoll instance and signal pipe, installs its handlers, then unblocks signals
   * (ProcessPool::start blocked them). Runs in a worker, built by main()'s WorkerMain.
   */
  EventLoop(UniqueFd listen_fd, UniqueFd channel, typename T::Shared& shared);

  /**
   * Serves until SIGINT or SIGTERM, until SIGQUIT's graceful stop is over, or until the parent
   * is gone (EOF on the channel), then closes every connection. Returns the exit status.
   */
  int run();

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxEvents = 256;

  /** The most connections this worker keeps open: RLIMIT_NOFILE less a reserve for files. */
  static std::size_t connection_limit();
  /** Reads the parent's wake-up bytes, accepts, then answers them; EOF: the parent is gone. */
  void take_notifications();
  /** Accepts until the backlog is empty (true) or this worker can take no more (false). */
  bool accept_all();
  /** Records whether this worker takes connections and tells the parent when that changes. */
  void set_accepting(bool accepting);
  /** Writes @p count copies of @p report on the channel (several Report::took at once). */
  void report(Report what, std::size_t count = 1);
  /** Makes the T for a new connection and watches its fd; drops it if epoll_ctl fails. */
  void add_conn(UniqueFd fd, const sockaddr_storage& peer);
  /** Lets the connection on @p fd do its I/O; closes it when process() returns false. */
  void serve(int fd, std::uint32_t events);
  /** The "sent" event: what the shared bytes_sent grew by since @p before, when it grew. */
  void trace_sent(int fd, std::uint64_t before) const;
  /** Serves again the connections that used their share last turn (see T::has_more()). */
  void resume_connections();
  /**
   * Destroys (and so closes) the connection on @p fd and resumes a paused accept; @p why is
   * the reason the trace records ("over": process() said so, "quit": SIGQUIT's graceful stop).
   */
  void close_conn(int fd, const char* why = "over");
  /** Reads the signal pipe once and acts on each signal (see the class comment). */
  void handle_signals();
  /** SIGQUIT: stops accepting and closes every connection that has nothing left to send. */
  void quit();
  /** epoll_wait's timeout: -1 while serving; after SIGQUIT, the ms left of the grace period. */
  int wait_timeout_ms() const;
  /** Logs the stats line that SIGUSR1 asks for. */
  void log_stats();

  UniqueFd listen_;
  UniqueFd channel_;
  EpollSet epoll_;
  typename T::Shared& shared_;
  // users_[fd]: the connection on fd, or null; sized by the highest fd in use, bounds-checked.
  std::vector<std::unique_ptr<T>> users_;
  std::vector<int> resume_;  // fds to serve again after this turn's events (T::has_more())
  std::size_t open_count_ = 0;
  std::uint64_t accepted_ = 0;
  std::size_t max_connections_;   // see connection_limit()
  bool accepting_ = true;         // false: at the limit or out of fds, until one closes
  std::string stop_reason_;       // set when the loop must end, e.g. "got SIGTERM"
  bool quitting_ = false;         // SIGQUIT came: finish what was started, accept nothing
  Clock::time_point give_up_at_;  // quitting: the end of the grace period
};

template <typename T>
EventLoop<T>::EventLoop(UniqueFd listen_fd, UniqueFd channel, typename T::Shared& shared)
    : listen_(std::move(listen_fd)),
      channel_(std::move(channel)),
      shared_(shared),
      max_connections_(connection_limit()) {
  epoll_.create();
  ignore_stray_signals();  // first, so that the handlers below override it
  add_sig(SIGINT);
  add_sig(SIGTERM);
  add_sig(SIGQUIT);
  add_sig(SIGHUP);
  add_sig(SIGUSR1);
  ignore_sig(SIGPIPE);  // a write to a closed socket then fails with EPIPE instead of killing us
  if (!epoll_.watch(channel_.get(), EPOLLIN | EPOLLET)) die("epoll_ctl");
  restore_signals();
}

template <typename T>
int EventLoop<T>::run() {
  epoll_event events[kMaxEvents];
  while (stop_reason_.empty()) {
    // Connections waiting to resume: look for new events, but do not wait for them.
    const int n = epoll_.wait(events, kMaxEvents, resume_.empty() ? wait_timeout_ms() : 0);
    if (n == -1) {
      log_line("epoll_wait: %s", strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == channel_.get()) {
        take_notifications();
      } else if (fd == epoll_.signal_fd()) {
        handle_signals();
      } else {
        serve(fd, events[i].events);
      }
    }
    resume_connections();  // after this turn's events: a fast download waits its turn
    if (!accepting_ && open_count_ < max_connections_)
      set_accepting(accept_all());  // see accept_all
    if (quitting_ && (open_count_ == 0 || Clock::now() >= give_up_at_))
      stop_reason_ = "got SIGQUIT";
  }
  const std::size_t closing = open_count_;
  users_.clear();  // closes every connection
  TRACE("exit", R"("why":"%s","closed":%zu)", stop_reason_.c_str(), closing);
  log_line("%s: closed %zu connections, exiting", stop_reason_.c_str(), closing);
  return 0;
}

// Bytes coalesce in the channel, so they are only a wake-up call: read them all, accept until the
// backlog is empty (a byte that finds it empty costs one failed accept), then answer every byte,
// so that the parent can tell a wake-up that was heard from one that fell on a stopped worker.
template <typename T>
void EventLoop<T>::take_notifications() {
  char bytes[256];
  std::size_t wakeups = 0;
  while (true) {
    const ssize_t n = read(channel_.get(), bytes, sizeof bytes);
    if (n > 0) {
      wakeups += static_cast<std::size_t>(n);
      if (static_cast<std::size_t>(n) < sizeof bytes) break;  // drained; more raises a new edge
      continue;
    }
    if (n == 0) {  // every copy of the parent's end is closed: the parent is gone
      stop_reason_ = "parent gone";
      return;
    }
    if (errno == EINTR) continue;
    break;  // EAGAIN: drained
  }
  TRACE("handoff_read", R"("wakeups":%zu)", wakeups);
  set_accepting(accept_all());
  TRACE("ack_sent", R"("took":%zu)", wakeups);  // before: the parent may read it at once
  report(Report::took, wakeups);
}

// A response needs a second fd for its file: an eighth of the table (at least 16) stays free for
// files, 16 more for the loop's own fds. Clients over the cap wait in the backlog, costing nothing.
template <typename T>
std::size_t EventLoop<T>::connection_limit() {
  constexpr rlim_t kOwnFds = 16;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == -1 || limit.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  const rlim_t for_files = limit.rlim_cur / 8 > 16 ? limit.rlim_cur / 8 : 16;
  return limit.rlim_cur > kOwnFds + for_files ? limit.rlim_cur - kOwnFds - for_files : 1;
}

// Accept until EAGAIN: with one accept per notification, connections whose notifications
// coalesced would stay in the backlog until the next client arrives.
template <typename T>
bool EventLoop<T>::accept_all() {
  if (!listen_) return true;  // closed by quit(): there is nothing more to take
  while (true) {
    if (open_count_ >= max_connections_) {
      if (accepting_) log_line("%zu connections open; pausing until one closes", open_count_);
      return false;
    }
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd = accept4(listen_.get(), reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      add_conn(UniqueFd(fd), peer);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;     // that client gave up; try the next
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // backlog empty
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      // Out of fds: retrying now would spin. close_conn() retries when an fd is free, and so does
      // run() after each batch while under the cap (files may hold the fds, freed silently).
      if (accepting_) log_line("accept: %s; pausing until a connection closes", strerror(errno));
      return false;
    }
    log_line("accept: %s", strerror(errno));
    return true;
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
void EventLoop<T>::serve(int fd, std::uint32_t events) {
  // Guards against a handler that closed this connection earlier in the turn.
  if (static_cast<std::size_t>(fd) >= users_.size() || !users_[fd]) return;
  const std::uint64_t sent_before = shared_.bytes_sent;  // the trace's bytes of this turn
  const bool open = users_[fd]->process(events);
  if (tracing()) trace_sent(fd, sent_before);
  if (!open)
    close_conn(fd);
  else if (users_[fd]->has_more())
    resume_.push_back(fd);
}

template <typename T>
void EventLoop<T>::trace_sent(int fd, std::uint64_t before) const {
  if (shared_.bytes_sent == before) return;
  trace_event("sent", R"("fd":%d,"bytes":%llu)", fd,
              static_cast<unsigned long long>(shared_.bytes_sent - before));
}

// One more share each. A connection closed meanwhile is skipped by serve(); a new one on a reused
// fd gets a call it does not need, which does no harm (it works until EAGAIN).
template <typename T>
void EventLoop<T>::resume_connections() {
  std::vector<int> again;
  again.swap(resume_);
  for (int fd : again) serve(fd, EPOLLOUT);
}

template <typename T>
void EventLoop<T>::close_conn(int fd, const char* why) {
  TRACE("close", R"("fd":%d,"why":"%s")", fd, why);
  // Closing the fd also removes it from epoll: no other process holds a copy of it.
  users_[fd].reset();
  --open_count_;
  log_verbose("fd %d: closed", fd);
  if (!accepting_) set_accepting(accept_all());  // an fd is free: take what waited
}

// Tells the parent, which would otherwise keep handing us connections that wait in the backlog
// however idle the other workers are.
template <typename T>
void EventLoop<T>::set_accepting(bool accepting) {
  if (accepting == accepting_) return;
  accepting_ = accepting;
  report(accepting ? Report::accepting : Report::full);
}

// The parent reads its end as soon as anything arrives, and we write at most one byte per byte
// it wrote (plus state changes), so this direction of the channel does not fill up.
template <typename T>
void EventLoop<T>::report(Report what, std::size_t count) {
  char bytes[256];
  std::fill_n(bytes, std::min(count, sizeof bytes), static_cast<char>(what));
  while (count > 0) {
    const ssize_t n = write(channel_.get(), bytes, std::min(count, sizeof bytes));
    if (n > 0) {
      count -= static_cast<std::size_t>(n);
    } else if (n == -1 && errno != EINTR) {
      log_line("channel: %s", strerror(errno));
      return;
    }
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
  listen_.reset();  // our copy: the socket closes (new clients are refused) once all let go
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
