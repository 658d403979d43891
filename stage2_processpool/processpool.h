/**
 * @file processpool.h
 * The process pool (进程池): a parent that pre-forks workers and hands them new connections.
 */
#pragma once

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "event_loop.h"
#include "log.h"
#include "sig_pipe.h"
#include "unique_fd.h"

/** One worker as the parent sees it: an entry of the classic process table. */
struct ChildProcess {
  pid_t pid = -1;      ///< -1 once the worker has died and been reaped
  UniqueFd channel;    ///< the parent's end of the socketpair shared with this worker
  bool full = false;   ///< the worker said it takes no new connections for now
  int unanswered = 0;  ///< wake-ups written to the worker and not yet answered (Report::took)
  /** Since when the worker owes an answer: the first unanswered wake-up, or its last report. */
  std::chrono::steady_clock::time_point owing_since;
  bool silent = false;  ///< owed an answer for longer than kAnswerDeadline; set back when it speaks

  /** True when the parent may hand this worker a connection: alive, not full, answering. */
  bool available() const { return pid > 0 && !full && !silent; }
};

/**
 * A pre-forked pool of workers serving connections of type T (see EventLoop for what T provides).
 *
 * The parent owns the listening socket but never accepts: when a connection is waiting it writes
 * one byte to a worker's channel, and that worker accepts on the listening socket it inherited
 * and answers the byte. A worker that leaves a wake-up unanswered for kAnswerDeadline (stopped,
 * or held in a debugger) is skipped until it speaks again, and its wake-up passes to another. A
 * worker that is full says so on its channel, and the parent skips it until it accepts again.
 * Every process has its own signal pipe and epoll instance. SIGCHLD makes the parent reap dead
 * workers; SIGINT/SIGTERM make it stop every worker and then exit, SIGQUIT makes it stop them
 * gracefully; a worker whose parent is gone sees EOF on its channel and exits.
 */
template <typename T>
class ProcessPool {
 public:
  /** Takes the listening socket; nothing is forked yet. Runs in the parent. */
  ProcessPool(UniqueFd listen_fd, int worker_count);

  /**
   * Forks the workers. Returns only in the parent. Each worker builds its per-process state with
   * `make_shared(worker_id)`, runs its EventLoop, and exits with its status: it never returns.
   */
  template <typename MakeShared>
  void start(MakeShared make_shared);

  /** The parent's loop: hands out connections until stopped or until every worker is gone. */
  int run_parent();

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxEvents = 64;
  static constexpr std::chrono::seconds kStopDeadline{3};  // then SIGKILL, as nginx's master does
  // A worker answers within one turn of its loop. Longer than any turn of a busy worker (a false
  // alarm costs a spare wake-up of another worker), short enough that a client waits little.
  static constexpr std::chrono::milliseconds kAnswerDeadline{200};

  /** A worker's life after fork: its log role, its state, its EventLoop, then exit(). */
  template <typename MakeShared>
  [[noreturn]] void run_child(UniqueFd channel, MakeShared& make_shared);
  /** Gives the parent its epoll set, signal pipe and handlers; watches the socket and channels. */
  void set_up_parent();
  /** Adds @p fd to the parent's epoll set (EPOLLIN, edge-triggered); exits on failure. */
  void watch(int fd);
  /** Wakes one worker (pick_worker()) with a byte on its channel: a connection is waiting. */
  void dispatch_connection();
  /** Reads the Report bytes of one worker; wakes a worker when its availability changed. */
  void read_reports(int channel_fd);
  /** Marks silent every worker that owes an answer past kAnswerDeadline; wakes another. */
  void check_answers();
  /** The worker to hand the next connection to, or -1 when none is available. */
  int pick_worker() const;
  /** Reads the parent's signal pipe once: SIGCHLD reaps, SIGINT/SIGTERM/SIGQUIT stop, … */
  void handle_signals();
  /** Reaps every dead worker (waitpid until none is left) and closes its channel. */
  void reap_children();
  /** Stops listening, sends @p sig to every live worker and sets the SIGKILL deadline. */
  void stop_workers(int sig);
  /** Sends SIGKILL to every worker still alive at kill_at_ (and sets the next deadline). */
  void kill_stragglers();
  /** epoll_wait's timeout: the ms left until the nearest deadline, -1 when there is none. */
  int wait_timeout_ms() const;
  /** How many workers are alive (not yet reaped). */
  int live_workers() const;

  UniqueFd listen_;
  int process_id_ = -1;  // -1 in the parent, i in worker i
  std::vector<ChildProcess> all_child_process_;
  UniqueFd epoll_;
  UniqueFd sig_pipe_;
  sigset_t unblocked_;  // the signal mask to restore once a process has its handlers
  bool stopping_ = false;
  Clock::time_point kill_at_;  // stopping: SIGKILL whoever is left then
  std::uint64_t dispatched_ = 0;
};

template <typename T>
ProcessPool<T>::ProcessPool(UniqueFd listen_fd, int worker_count)
    : listen_(std::move(listen_fd)), all_child_process_(worker_count) {}

template <typename T>
template <typename MakeShared>
void ProcessPool<T>::start(MakeShared make_shared) {
  // Every signal stays blocked from here until a process has installed its own handlers (the
  // parent below, each worker in run_child). One that arrives meanwhile waits, pending, instead
  // of meeting a default action (SIGUSR1 would kill) or, in a new worker, the handler it
  // inherited, which would write into the parent's pipe.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &unblocked_);
  for (int i = 0; i < static_cast<int>(all_child_process_.size()); ++i) {
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends) == -1)
      die("socketpair");
    const pid_t pid = fork();
    if (pid == -1) die("fork");  // not the child! the workers forked so far see EOF and exit
    if (pid == 0) {
      process_id_ = i;
      close(ends[0]);
      // Close the parent's ends of the earlier siblings' channels, inherited by fork. Were one
      // left open here, that sibling would never see EOF when the parent dies.
      for (int j = 0; j < i; ++j) all_child_process_[j].channel.reset();
      run_child(UniqueFd(ends[1]), make_shared);
    }
    close(ends[1]);
    all_child_process_[i].pid = pid;
    all_child_process_[i].channel.reset(ends[0]);
  }
  set_up_parent();
  sigprocmask(SIG_SETMASK, &unblocked_, nullptr);  // pending signals are delivered now
}

template <typename T>
template <typename MakeShared>
void ProcessPool<T>::run_child(UniqueFd channel, MakeShared& make_shared) {
  const std::string role = "worker " + std::to_string(process_id_) + " " + std::to_string(getpid());
  set_log_role(role.c_str());
  typename T::Shared shared = make_shared(process_id_);
  int status;
  {
    EventLoop<T> loop(std::move(listen_), std::move(channel), shared);
    sigprocmask(SIG_SETMASK, &unblocked_, nullptr);  // this worker's handlers are in place
    log_line("started");
    status = loop.run();
  }
  exit(status);
}

template <typename T>
void ProcessPool<T>::watch(int fd) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLET;
  event.data.fd = fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) == -1) die("epoll_ctl");
}

template <typename T>
void ProcessPool<T>::set_up_parent() {
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) die("epoll_create1");
  sig_pipe_ = set_up_sig_pipe();
  ignore_stray_signals();  // first, so that the handlers below override it
  add_sig(SIGCHLD);
  add_sig(SIGINT);
  add_sig(SIGTERM);
  add_sig(SIGQUIT);
  add_sig(SIGHUP);
  add_sig(SIGUSR1);
  ignore_sig(SIGPIPE);  // a channel write to a dead worker fails with EPIPE instead
  // Edge-triggered: the parent never accepts, so level-triggered would report the same waiting
  // connection again and again until a worker took it. An edge comes with every new connection.
  watch(listen_.get());
  watch(sig_pipe_.get());
  for (const ChildProcess& child : all_child_process_) watch(child.channel.get());
}

template <typename T>
int ProcessPool<T>::run_parent() {
  // A worker may have died before the handlers were installed: reap it now.
  reap_children();

  epoll_event events[kMaxEvents];
  while (live_workers() > 0) {
    const int n = epoll_wait(epoll_.get(), events, kMaxEvents, wait_timeout_ms());
    if (n == -1) {
      if (errno == EINTR) continue;
      log_line("epoll_wait: %s", strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_.get()) {
        if (!stopping_) dispatch_connection();
      } else if (fd == sig_pipe_.get()) {
        handle_signals();
      } else {
        read_reports(fd);
      }
    }
    check_answers();
    if (stopping_ && Clock::now() >= kill_at_) kill_stragglers();
  }
  handle_signals();  // a stop that came with the last worker's death is still a stop
  if (stopping_) {
    log_line("all workers stopped, exiting");
    return 0;
  }
  log_line("all workers are gone, exiting");
  return 1;
}

// The byte is only a wake-up call (see EventLoop::take_notifications), so when the channel is
// full the worker already has one pending and nothing is lost by dropping this one. If none is
// available, the connection waits in the backlog: a full worker accepts it when it frees a slot,
// a silent one when it wakes, and any change of either makes us call here again.
template <typename T>
void ProcessPool<T>::dispatch_connection() {
  const int worker = pick_worker();
  if (worker < 0) return;
  ChildProcess& child = all_child_process_[worker];
  const char byte = 1;
  if (write(child.channel.get(), &byte, 1) == 1) {
    if (child.unanswered++ == 0) child.owing_since = Clock::now();
    ++dispatched_;
    log_verbose("connection -> worker %d", worker);
  } else if (errno != EAGAIN) {
    // EPIPE: the worker died and SIGCHLD has not been handled yet. Its byte is lost; the
    // connection stays in the backlog until reap_children() nudges a survivor.
    log_line("notify worker %d: %s", worker, strerror(errno));
  }
}

// Chapter 2's policy: always the first available worker (alive, not full, answering). Chapter 3
// replaces this with round robin.
template <typename T>
int ProcessPool<T>::pick_worker() const {
  for (int i = 0; i < static_cast<int>(all_child_process_.size()); ++i)
    if (all_child_process_[i].available()) return i;
  return -1;
}

// Any byte is a sign of life: a silent worker that speaks is handed connections again, and what
// it still owes is timed from now. Report::full and Report::accepting change its availability;
// on every change the parent wakes a worker, since the wake-up that found this one unavailable
// must be passed on, and one may have been dropped while no worker was available.
template <typename T>
void ProcessPool<T>::read_reports(int channel_fd) {
  for (int i = 0; i < static_cast<int>(all_child_process_.size()); ++i) {
    ChildProcess& child = all_child_process_[i];
    if (child.channel.get() != channel_fd) continue;  // a stale event: that worker was reaped
    const bool was_available = child.available();
    char reports[256];
    ssize_t n;
    while ((n = read(channel_fd, reports, sizeof reports)) != 0) {
      if (n == -1 && errno == EINTR) continue;
      if (n == -1) break;  // EAGAIN: drained (0: the worker is gone, and SIGCHLD will say so)
      for (ssize_t r = 0; r < n; ++r) {
        if (reports[r] == static_cast<char>(Report::took) && child.unanswered > 0)
          --child.unanswered;
        else if (reports[r] == static_cast<char>(Report::full))
          child.full = true;
        else if (reports[r] == static_cast<char>(Report::accepting))
          child.full = false;
      }
      child.owing_since = Clock::now();
      if (child.silent) log_line("worker %d answers again", i);
      child.silent = false;
      if (static_cast<std::size_t>(n) < sizeof reports) break;  // drained; more raises an edge
    }
    if (child.available() != was_available && !stopping_) dispatch_connection();
    return;
  }
}

// A wake-up is a request, not a delivery: a stopped worker (SIGSTOP, or held in gdb) reads none,
// and its connection would wait in the backlog until another worker happened to be woken. The
// parent cannot see a ptrace stop (waitpid does not report it to us), so it times the answers.
template <typename T>
void ProcessPool<T>::check_answers() {
  if (stopping_) return;
  const auto now = Clock::now();
  bool went_silent = false;
  for (int i = 0; i < static_cast<int>(all_child_process_.size()); ++i) {
    ChildProcess& child = all_child_process_[i];
    if (child.pid <= 0 || child.silent || child.unanswered == 0 ||
        now < child.owing_since + kAnswerDeadline)
      continue;
    log_line("worker %d (pid %d) has not answered for %lld ms: skipping it until it does", i,
             child.pid, static_cast<long long>(kAnswerDeadline.count()));
    child.silent = true;
    went_silent = true;
  }
  if (went_silent) dispatch_connection();  // its wake-up goes to the next available worker
}

// One read per loop turn, as in EventLoop::handle_signals: a flood cannot starve the sockets.
template <typename T>
void ProcessPool<T>::handle_signals() {
  int signals[NSIG];
  const std::size_t n = read_signals(sig_pipe_.get(), signals, NSIG);
  for (std::size_t i = 0; i < n; ++i) {
    switch (signals[i]) {
      case SIGCHLD:
        reap_children();
        break;
      case SIGINT:
      case SIGTERM:
        log_line("got SIG%s: stopping %d workers", sigabbrev_np(signals[i]), live_workers());
        stop_workers(SIGTERM);
        break;
      case SIGQUIT:
        log_line("got SIGQUIT: stopping %d workers gracefully", live_workers());
        stop_workers(SIGQUIT);
        break;
      case SIGHUP:
        log_line("got SIGHUP: there is no configuration to reload; carrying on");
        break;
      case SIGUSR1:
        log_line("stats: workers_alive=%d dispatched=%llu", live_workers(),
                 static_cast<unsigned long long>(dispatched_));
        break;
      default:
        break;
    }
  }
}

// SIGCHLD is not counted: several deaths may arrive as one signal. So reap in a loop until
// waitpid says no other child has exited.
template <typename T>
void ProcessPool<T>::reap_children() {
  bool lost_a_worker = false;
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (std::size_t i = 0; i < all_child_process_.size(); ++i) {
      ChildProcess& child = all_child_process_[i];
      if (child.pid != pid) continue;
      if (WIFSIGNALED(status))
        log_line("worker %zu (pid %d) killed by SIG%s", i, pid, sigabbrev_np(WTERMSIG(status)));
      else
        log_line("worker %zu (pid %d) exited with status %d", i, pid, WEXITSTATUS(status));
      child = ChildProcess();  // pid -1, channel closed
      lost_a_worker = true;
    }
  }
  // The dead worker may have taken notifications with it; let a survivor check the backlog.
  if (lost_a_worker && !stopping_) dispatch_connection();
}

// SIGTERM: the workers close everything at once. SIGQUIT: they finish what they started, for at
// most their grace period. Either way the parent stops listening at once (epoll first: the
// workers' copies of the socket keep it open, and with it its place in our epoll set).
template <typename T>
void ProcessPool<T>::stop_workers(int sig) {
  // A fixed point in time, not a timeout per epoll_wait: events during the stop (clients still
  // connecting) must not push the SIGKILL back. A SIGTERM after a SIGQUIT brings it forward.
  const auto grace = sig == SIGQUIT ? EventLoop<T>::kGracePeriod : std::chrono::seconds(0);
  const auto kill_at = Clock::now() + grace + kStopDeadline;
  if (!stopping_ || kill_at < kill_at_) kill_at_ = kill_at;
  if (listen_) {
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listen_.get(), nullptr) == -1)
      log_line("epoll_ctl: %s", strerror(errno));
    listen_.reset();
  }
  stopping_ = true;
  for (const ChildProcess& child : all_child_process_)
    if (child.pid > 0) kill(child.pid, sig);
}

template <typename T>
void ProcessPool<T>::kill_stragglers() {
  log_line("%d workers still running after the deadline: sending SIGKILL", live_workers());
  for (const ChildProcess& child : all_child_process_)
    if (child.pid > 0) kill(child.pid, SIGKILL);
  kill_at_ = Clock::now() + kStopDeadline;
}

// epoll_wait's timeout: while stopping, until kill_at_; while serving, until the first worker
// that owes an answer runs out of time; -1 (forever) when nothing is due.
template <typename T>
int ProcessPool<T>::wait_timeout_ms() const {
  Clock::time_point next = Clock::time_point::max();
  if (stopping_) {
    next = kill_at_;
  } else {
    for (const ChildProcess& child : all_child_process_)
      if (child.pid > 0 && !child.silent && child.unanswered > 0)
        next = std::min(next, child.owing_since + kAnswerDeadline);
  }
  if (next == Clock::time_point::max()) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

template <typename T>
int ProcessPool<T>::live_workers() const {
  int live = 0;
  for (const ChildProcess& child : all_child_process_)
    if (child.pid > 0) ++live;
  return live;
}
