/**
 * @file processpool.cpp
 * The parent's side of the process pool: forking, handing out connections, reaping, stopping.
 */
#include "processpool.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "event_loop.h"
#include "log.h"
#include "sig_pipe.h"
#include "trace.h"

ProcessPool::ProcessPool(UniqueFd listen_fd, int worker_count)
    : listen_(std::move(listen_fd)), all_child_process_(worker_count) {}

// Signals stay blocked until a process has its handlers (the parent below, a worker at the end of
// its EventLoop's constructor): one that arrives meanwhile waits instead of killing (SIGUSR1).
void ProcessPool::start(const WorkerMain& worker_main) {
  block_signals();
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
      run_child(UniqueFd(ends[1]), worker_main);
    }
    close(ends[1]);
    all_child_process_[i].pid = pid;
    all_child_process_[i].channel.reset(ends[0]);
  }
  set_up_parent();
  restore_signals();  // pending signals are delivered now
}

void ProcessPool::run_child(UniqueFd channel, const WorkerMain& worker_main) {
  const std::string role = "worker " + std::to_string(process_id_) + " " + std::to_string(getpid());
  set_log_role(role.c_str());
  exit(worker_main(process_id_, std::move(listen_), std::move(channel)));
}

void ProcessPool::set_up_parent() {
  epoll_.create();
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
  if (!epoll_.watch(listen_.get(), EPOLLIN | EPOLLET)) die("epoll_ctl");
  for (const ChildProcess& child : all_child_process_)
    if (!epoll_.watch(child.channel.get(), EPOLLIN | EPOLLET)) die("epoll_ctl");
}

int ProcessPool::run_parent() {
  // A worker may have died before the handlers were installed: reap it now.
  reap_children();

  epoll_event events[kMaxEvents];
  while (live_workers() > 0) {
    const int n = epoll_.wait(events, kMaxEvents, wait_timeout_ms());
    if (n == -1) {
      log_line("epoll_wait: %s", strerror(errno));
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_.get()) {
        if (!stopping_) dispatch_connection();
      } else if (fd == epoll_.signal_fd()) {
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

// The byte is only a wake-up call (see EventLoop::take_notifications): on a full channel the
// worker has one pending already, so dropping this one loses nothing. With no worker available
// the connection waits in the backlog until a change of availability calls here again.
void ProcessPool::dispatch_connection() {
  const int worker = pick_worker();
  if (worker < 0) return;
  ChildProcess& child = all_child_process_[worker];
  const char byte = 1;
  // Traced before the write: once the byte is in, the worker may act before we read the clock.
  TRACE("handoff_sent", R"("worker":%d)", worker);
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

// Round robin (轮流选取): start after the worker chosen last time and take the first available
// one (alive, accepting, answering). O(workers) in the worst case, when most are unavailable;
// fine for at most 256 workers.
int ProcessPool::pick_worker() {
  const int count = static_cast<int>(all_child_process_.size());
  for (int step = 0; step < count; ++step) {
    const int candidate = (next_worker_ + step) % count;
    if (all_child_process_[candidate].available()) {
      next_worker_ = (candidate + 1) % count;
      return candidate;
    }
  }
  return -1;
}

// Any byte is a sign of life: a silent worker that speaks is handed connections again, and what
// it owes is timed from now. On every change of availability the parent wakes a worker: the
// wake-up that found this one unavailable, or one dropped while none was, must be passed on.
void ProcessPool::read_reports(int channel_fd) {
  for (int i = 0; i < static_cast<int>(all_child_process_.size()); ++i) {
    ChildProcess& child = all_child_process_[i];
    if (child.channel.get() != channel_fd) continue;  // a stale event: that worker was reaped
    const bool was_available = child.available();
    char reports[256];
    ssize_t n;
    while ((n = read(channel_fd, reports, sizeof reports)) != 0) {
      if (n == -1 && errno == EINTR) continue;
      if (n == -1) break;  // EAGAIN: drained (0: the worker is gone, and SIGCHLD will say so)
      TRACE("ack_read", R"("worker":%d,"reports":"%.*s")", i, static_cast<int>(n), reports);
      for (ssize_t r = 0; r < n; ++r) {
        if (reports[r] == static_cast<char>(Report::took) && child.unanswered > 0)
          --child.unanswered;
        else if (reports[r] == static_cast<char>(Report::full))
          child.accepting = false;
        else if (reports[r] == static_cast<char>(Report::accepting))
          child.accepting = true;
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
void ProcessPool::check_answers() {
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
    TRACE("silent", R"("worker":%d)", i);
    went_silent = true;
  }
  if (went_silent) dispatch_connection();  // its wake-up goes to the next available worker
}

// One read per loop turn, as in EventLoop::handle_signals: a flood cannot starve the sockets.
void ProcessPool::handle_signals() {
  int signals[NSIG];
  const std::size_t n = read_signals(epoll_.signal_fd(), signals, NSIG);
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
void ProcessPool::reap_children() {
  bool lost_a_worker = false;
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (std::size_t i = 0; i < all_child_process_.size(); ++i) {
      ChildProcess& child = all_child_process_[i];
      if (child.pid != pid) continue;
      TRACE("reaped", R"("worker":%zu,"child":%d,"status":%d,"signal":"%s")", i, pid,
            WIFEXITED(status) ? WEXITSTATUS(status) : -1,
            WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : "");
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
void ProcessPool::stop_workers(int sig) {
  // A fixed point in time, not a timeout per epoll_wait: events during the stop (clients still
  // connecting) must not push the SIGKILL back. A SIGTERM after a SIGQUIT brings it forward.
  const auto grace = sig == SIGQUIT ? kGracePeriod : std::chrono::seconds(0);
  const auto kill_at = Clock::now() + grace + kStopDeadline;
  if (!stopping_ || kill_at < kill_at_) kill_at_ = kill_at;
  if (listen_) {
    if (!epoll_.unwatch(listen_.get())) log_line("epoll_ctl: %s", strerror(errno));
    listen_.reset();
  }
  stopping_ = true;
  for (const ChildProcess& child : all_child_process_)
    if (child.pid > 0) kill(child.pid, sig);
}

void ProcessPool::kill_stragglers() {
  log_line("%d workers still running after the deadline: sending SIGKILL", live_workers());
  for (const ChildProcess& child : all_child_process_)
    if (child.pid > 0) kill(child.pid, SIGKILL);
  kill_at_ = Clock::now() + kStopDeadline;
}

// While stopping, the deadline is kill_at_; while serving, the first answer owed.
int ProcessPool::wait_timeout_ms() const {
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

int ProcessPool::live_workers() const {
  int live = 0;
  for (const ChildProcess& child : all_child_process_)
    if (child.pid > 0) ++live;
  return live;
}
