/**
 * @file main.cpp
 * Test runner entry point: makes this process a child subreaper, then runs GoogleTest.
 *
 * As a subreaper, workers orphaned by a test (the server parent was SIGKILLed) are re-parented to
 * this process instead of init, so the harness can see them exit and reap them: no zombie, no
 * stray process survives the suite.
 */
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "harness.h"

int main(int argc, char** argv) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  signal(SIGPIPE, SIG_IGN);  // a server that closes on us must fail a test, not kill the runner
  // Tests open a thousand connections or more: take every fd the hard limit allows.
  // As root the hard limit itself may be raised; elsewhere that fails and the hard limit stays.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    const rlimit wanted{65536, 65536};
    if (files.rlim_max >= wanted.rlim_max || setrlimit(RLIMIT_NOFILE, &wanted) != 0) {
      files.rlim_cur = files.rlim_max;
      setrlimit(RLIMIT_NOFILE, &files);
    }
  }
  testing::InitGoogleTest(&argc, argv);
  const int status = RUN_ALL_TESTS();
  harness::reap_adopted_children();
  return status;
}
