/**
 * @file sig_pipe.h
 * The signal pipe (信号管道): signals become bytes that the event loop reads like any other fd.
 * This is the "unified event source" (统一事件源) of the classic design.
 */
#pragma once

#include <cstddef>

#include "unique_fd.h"

/**
 * Creates the signal pipe of the calling process and returns its read end, to be watched by
 * epoll. Both ends are nonblocking and close-on-exec. From chapter 2 on every process (the parent
 * and each worker) calls it for itself after the forks, so each has its own pipe. Calling it
 * again (the unit tests do) replaces the write end that the handler uses.
 */
UniqueFd set_up_sig_pipe();

/**
 * Installs the signal-pipe handler for @p sig: the handler saves errno, writes the signal number
 * as one byte into the pipe unless a byte for @p sig is already waiting there, and restores
 * errno. Exits with status 1 if sigaction fails. Every process calls it for the signals it
 * handles.
 */
void add_sig(int sig);

/**
 * Sets @p sig to be ignored (used for SIGPIPE: a write to a closed socket returns EPIPE instead).
 * Every process calls it while it sets up its handlers.
 */
void ignore_sig(int sig);

/**
 * Ignores every signal that would kill or stop a process with no use for it; fault signals
 * (SIGSEGV, SIGBUS, …) keep their default. Every process calls it first, then add_sig().
 */
void ignore_stray_signals();

/**
 * Blocks every signal and keeps the mask it replaced for restore_signals(). Runs in the parent,
 * called by ProcessPool::start() before the forks (see there why).
 */
void block_signals();

/**
 * Restores the mask that block_signals() replaced (nothing if it was not called); pending
 * signals are delivered now. Each process calls it once its handlers are in place: the parent in
 * ProcessPool::start(), a worker at the end of its EventLoop's constructor.
 */
void restore_signals();

/**
 * Reads the signal numbers waiting in the pipe into @p signals (up to @p capacity) with one
 * read(); returns how many, 0 when none. Never blocks. A signal waits at most once, so NSIG takes
 * everything. Every process's event loop calls it once per turn.
 */
std::size_t read_signals(int sig_pipe_read_fd, int* signals, std::size_t capacity);
