/**
 * @file fail_fork.cpp
 * A preloaded library for the tests (LD_PRELOAD): fork() fails with EAGAIN once it has succeeded
 * $FAIL_FORK_AFTER times, the way it fails on a system out of processes or memory. The tests run
 * as root, which RLIMIT_NPROC does not bind, so this is how a test makes a real fork fail.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

/** Replaces glibc's fork() in the server process it is preloaded into. */
extern "C" pid_t fork() {
  static int calls = 0;
  const char* after = getenv("FAIL_FORK_AFTER");
  if (after != nullptr && ++calls > atoi(after)) {
    errno = EAGAIN;
    return -1;
  }
  using Fork = pid_t (*)();
  static const Fork real_fork = reinterpret_cast<Fork>(dlsym(RTLD_NEXT, "fork"));
  return real_fork();
}
