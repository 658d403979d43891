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
#include "trace.h"

namespace {

// The handler can only reach the pipe through a global. An int is read and written atomically on
// every platform Linux runs on; the handler only reads it.
volatile sig_atomic_t g_sig_pipe_write_fd = -1;
// Owns that write end so that a second set_up_sig_pipe() closes the old one.
UniqueFd g_write_end;
// g_waiting[sig] is 1 while a byte for sig sits in the pipe. Repeats of a signal merge into that
// byte, as the kernel merges a standard signal that arrives while it is pending, so the pipe
// holds at most one byte per signal: a flood can neither fill it nor hide a SIGTERM behind it.
volatile sig_atomic_t g_waiting[NSIG];

/** The handler installed by add_sig(): runs in whichever process receives the signal. */
void sig_handler(int sig) {
  if (tracing()) trace_signal_caught(sig);  // async-signal-safe, keeps errno: see trace.cpp
  if (g_waiting[sig]) return;  // its byte is still in the pipe; the loop has yet to act on it
  // write() may change errno, and the code we interrupted may be about to read errno.
  const int saved_errno = errno;
  // One byte, not the first byte of an int (that is the high byte on a big-endian machine).
  // Signal numbers on Linux are at most 64, so they fit.
  const unsigned char byte = static_cast<unsigned char>(sig);
  // The write end is nonblocking, so a handler can never block the process; with at most one
  // byte per signal the pipe never fills, and a failed write leaves the next signal free to try.
  if (write(g_sig_pipe_write_fd, &byte, 1) == 1) g_waiting[sig] = 1;
  errno = saved_errno;
}

/** Sets @p handler for @p sig: the common part of add_sig and ignore_sig. */
void install(int sig, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  // SA_RESTART restarts slow system calls interrupted by the handler. epoll_wait is never
  // restarted (it fails with EINTR whatever the flags): EpollSet::wait handles that.
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
  for (auto& waiting : g_waiting) waiting = 0;  // those bytes were in the old pipe
  return UniqueFd(ends[0]);
}

void add_sig(int sig) { install(sig, sig_handler); }

void ignore_sig(int sig) { install(sig, SIG_IGN); }

// By default these end the process (or, the last three, stop it): one `kill` typed at the wrong
// pid, a terminal hang-up of a background job, or a write beyond a file-size limit would take
// the server down. A fault signal stays deadly: ignoring it would only repeat the fault.
void ignore_stray_signals() {
  for (int sig : {SIGUSR2, SIGALRM, SIGXFSZ, SIGPROF, SIGVTALRM, SIGIO, SIGPWR, SIGSTKFLT, SIGTSTP,
                  SIGTTIN, SIGTTOU})
    ignore_sig(sig);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) ignore_sig(sig);
}

std::size_t read_signals(int sig_pipe_read_fd, int* signals, std::size_t capacity) {
  unsigned char bytes[NSIG];
  if (capacity > sizeof bytes) capacity = sizeof bytes;
  ssize_t n;
  do {
    n = read(sig_pipe_read_fd, bytes, capacity);
  } while (n == -1 && errno == EINTR);
  std::size_t count = 0;
  for (ssize_t i = 0; i < n; ++i) {  // n is -1 (EAGAIN) when empty
    // From now on a new signal writes a new byte: it came after this one, so it asks for the
    // action again. One that came before (while the byte waited) is served by this action.
    g_waiting[bytes[i]] = 0;
    TRACE("signal_read", R"("sig":"%s")", trace_signal_name(bytes[i]));
    signals[count++] = bytes[i];
  }
  return count;
}
