/**
 * @file processpool.h
 * The process pool (进程池): a parent that pre-forks workers and hands them new connections.
 */
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "epoll_set.h"
#include "unique_fd.h"

/** One worker as the parent sees it: an entry of the classic process table. */
struct ChildProcess {
  pid_t pid = -1;         ///< -1 once the worker has died and been reaped
  UniqueFd channel;       ///< the parent's end of the socketpair shared with this worker
  bool accepting = true;  ///< false from its Report::full until its Report::accepting
  int unanswered = 0;     ///< wake-ups written to the worker and not yet answered (Report::took)
  /** Since when the worker owes an answer: the first unanswered wake-up, or its last report. */
  std::chrono::steady_clock::time_point owing_since;
  bool silent = false;  ///< owed an answer for longer than kAnswerDeadline; set back when it speaks

  /** True when the parent may hand this worker a connection: alive, accepting, answering. */
  bool available() const { return pid > 0 && accepting && !silent; }
};

/**
 * What a worker runs after fork: it gets its number, the listening socket and its end of the
 * channel, serves until told to stop, and returns its exit status. main() supplies it.
 */
using WorkerMain = std::function<int(int process_id, UniqueFd listen, UniqueFd channel)>;

/**
 * A pre-forked pool of workers. Runs in the parent; each worker runs the WorkerMain it is given.
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
class ProcessPool {
 public:
  /** Takes the listening socket; nothing is forked yet. Runs in the parent. */
  ProcessPool(UniqueFd listen_fd, int worker_count);

  /**
   * Forks the workers, each of which runs @p worker_main and exits with its status: only the
   * parent returns. Signals stay blocked in each process until it has its handlers.
   */
  void start(const WorkerMain& worker_main);

  /** The parent's loop: hands out connections until stopped or until every worker is gone. */
  int run_parent();

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxEvents = 64;
  static constexpr std::chrono::seconds kStopDeadline{3};  // then SIGKILL, as nginx's master does
  // A worker answers within one turn of its loop. Longer than any turn of a busy worker (a false
  // alarm costs a spare wake-up of another worker), short enough that a client waits little.
  static constexpr std::chrono::milliseconds kAnswerDeadline{200};

  /** A worker's life after fork: its log role, then worker_main, then exit() with its status. */
  [[noreturn]] void run_child(UniqueFd channel, const WorkerMain& worker_main);
  /** Gives the parent its epoll set, signal pipe and handlers; watches the socket and channels. */
  void set_up_parent();
  /** Wakes one worker (pick_worker()) with a byte on its channel: a connection is waiting. */
  void dispatch_connection();
  /** Reads the Report bytes of one worker; wakes a worker when its availability changed. */
  void read_reports(int channel_fd);
  /** Marks silent every worker that owes an answer past kAnswerDeadline; wakes another. */
  void check_answers();
  /** The worker to hand the next connection to, or -1 when none is available. */
  int pick_worker();
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
  EpollSet epoll_;
  bool stopping_ = false;
  Clock::time_point kill_at_;  // stopping: SIGKILL whoever is left then
  std::uint64_t dispatched_ = 0;
  int next_worker_ = 0;  // where the round-robin search starts
};
