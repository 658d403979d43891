/**
 * @file epoll_set.h
 * One process's epoll instance with its signal pipe already in it: the unified event source
 * (统一事件源) that the worker's loop and the parent's loop both wait on.
 */
#pragma once

#include <sys/epoll.h>

#include <cstdint>

#include "unique_fd.h"

/**
 * An epoll set that holds the calling process's signal pipe, so a signal wakes epoll_wait like
 * any other fd. Each process makes its own with create(), after any fork: a worker in its
 * EventLoop, the parent in ProcessPool::start.
 */
class EpollSet {
 public:
  /** Creates the epoll instance and the signal pipe, and watches the pipe; exits on failure. */
  void create();

  /** Adds @p fd with @p events (its data is the fd); false when epoll_ctl fails. */
  bool watch(int fd, std::uint32_t events);

  /** Removes @p fd; false when epoll_ctl fails. */
  bool unwatch(int fd);

  /**
   * epoll_wait: stores up to @p max events and returns how many, -1 on an error. A signal that
   * interrupts the wait (EINTR) counts as no events: its byte waits in the pipe.
   */
  int wait(epoll_event* events, int max, int timeout_ms);

  /** The signal pipe's read end: an event on it means read_signals(signal_fd(), …). */
  int signal_fd() const { return sig_pipe_.get(); }

 private:
  UniqueFd epoll_;
  UniqueFd sig_pipe_;
};
