/**
 * @file sig_pipe.cpp
 * The self-pipe trick: the only work done inside a signal handler is one write(2).
 */
#include "sig_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "log.h"

namespace {

// The handler can only reach the pipe through a global. An int is read and written atomically on
// every platform Linux runs on; the handler only reads it.
volatile sig_atomic_t g_sig_pipe_write_fd = -1;
// Owns that write end so that a second set_up_sig_pipe() closes the old one.
UniqueFd g_write_end;

/** The handler installed by add_sig(): runs in whichever process receives the signal. */
void sig_handler(int sig) {
  // write() may change errno, and the code we interrupted may be about to read errno.
  const int saved_errno = errno;
  // One byte, not the first byte of an int (that is the high byte on a big-endian machine).
  // Signal numbers on Linux are at most 64, so they fit.
  const unsigned char byte = static_cast<unsigned char>(sig);
  // The write end is nonblocking: if the pipe is full, the byte is dropped rather than
  // blocking the process forever inside its handler. The loop already has bytes to read.
  if (write(g_sig_pipe_write_fd, &byte, 1) < 0) {
  }
  errno = saved_errno;
}

void install(int sig, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  // SA_RESTART restarts slow system calls interrupted by the handler. epoll_wait is never
  // restarted (it fails with EINTR whatever the flags), so the loop still checks for EINTR.
  action.sa_flags = SA_RESTART;
  // Block every other signal while the handler runs: handlers never interleave.
  sigfillset(&action.sa_mask);
  // Not inside assert(): under NDEBUG an assert's expression is not evaluated at all.
  if (sigaction(sig, &action, nullptr) == -1) die("sigaction");
}

}  // namespace

UniqueFd set_up_sig_pipe() {
  int ends[2];
  if (pipe2(ends, O_NONBLOCK | O_CLOEXEC) == -1) die("pipe2");
  // Point the handler at the new pipe before closing the old one, so that no signal can be
  // written to a closed (and possibly reused) fd number.
  g_sig_pipe_write_fd = ends[1];
  g_write_end.reset(ends[1]);
  return UniqueFd(ends[0]);
}

void add_sig(int sig) { install(sig, sig_handler); }

void ignore_sig(int sig) { install(sig, SIG_IGN); }

void default_sig(int sig) { install(sig, SIG_DFL); }

std::size_t read_signals(int sig_pipe_read_fd, int* signals, std::size_t capacity) {
  unsigned char bytes[64];
  if (capacity > sizeof bytes) capacity = sizeof bytes;
  ssize_t n;
  do {
    n = read(sig_pipe_read_fd, bytes, capacity);
  } while (n == -1 && errno == EINTR);
  if (n <= 0) return 0;  // EAGAIN: empty
  for (ssize_t i = 0; i < n; ++i) signals[i] = bytes[i];
  return static_cast<std::size_t>(n);
}
