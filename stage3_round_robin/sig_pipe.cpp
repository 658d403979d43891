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
// Set by the handler when the pipe is full and a signal's byte does not fit; read_signals()
// reports such a signal once. Without it, a pipe full of SIGUSR1 bytes would swallow the SIGTERM
// that comes after them: repeats of one signal may merge, different signals must not.
volatile sig_atomic_t g_dropped[NSIG];

/** The handler installed by add_sig(): runs in whichever process receives the signal. */
void sig_handler(int sig) {
  // write() may change errno, and the code we interrupted may be about to read errno.
  const int saved_errno = errno;
  // One byte, not the first byte of an int (that is the high byte on a big-endian machine).
  // Signal numbers on Linux are at most 64, so they fit.
  const unsigned char byte = static_cast<unsigned char>(sig);
  // The write end is nonblocking: if the pipe is full, the write fails rather than blocking the
  // process forever inside its handler, and a flag keeps the signal instead of the byte. The
  // pipe is not empty, so the loop will read it and then see the flag.
  if (write(g_sig_pipe_write_fd, &byte, 1) < 0) g_dropped[sig] = 1;
  errno = saved_errno;
}

/** Sets @p handler for @p sig: the common part of add_sig, ignore_sig and default_sig. */
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
  for (auto& dropped : g_dropped) dropped = 0;  // they were signals for the old pipe's reader
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
  std::size_t count = 0;
  for (ssize_t i = 0; i < n; ++i) signals[count++] = bytes[i];  // n is -1 (EAGAIN) when empty
  // After the bytes: a signal whose byte found the pipe full. Any left over (no room) stay
  // flagged for the next call.
  for (int sig = 1; sig < NSIG && count < capacity; ++sig) {
    if (g_dropped[sig]) {
      g_dropped[sig] = 0;
      signals[count++] = sig;
    }
  }
  return count;
}
