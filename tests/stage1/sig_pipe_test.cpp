/**
 * @file sig_pipe_test.cpp
 * Unit tests of the signal pipe (stage 1 onwards): a raised signal becomes its number on the pipe.
 */
#include "sig_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

namespace {

TEST(SigPipe, RaisedSignalArrivesAsItsNumberAndErrnoIsUnchanged) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR2);
  errno = ENOTTY;  // the handler must restore whatever the interrupted code had
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(errno, ENOTTY);
  int signals[8];
  ASSERT_EQ(read_signals(pipe_read_end.get(), signals, 8), 1u);
  EXPECT_EQ(signals[0], SIGUSR2);
  EXPECT_EQ(read_signals(pipe_read_end.get(), signals, 8), 0u) << "the pipe should now be empty";
  default_sig(SIGUSR2);
}

TEST(SigPipe, SeveralSignalsArriveInOrder) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR1);
  add_sig(SIGUSR2);
  raise(SIGUSR1);
  raise(SIGUSR2);
  raise(SIGUSR1);
  int signals[8];
  ASSERT_EQ(read_signals(pipe_read_end.get(), signals, 8), 3u);
  EXPECT_EQ(signals[0], SIGUSR1);
  EXPECT_EQ(signals[1], SIGUSR2);
  EXPECT_EQ(signals[2], SIGUSR1);
  default_sig(SIGUSR1);
  default_sig(SIGUSR2);
}

TEST(SigPipe, ReadEndIsNonblockingAndCloseOnExec) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  EXPECT_TRUE(fcntl(pipe_read_end.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(pipe_read_end.get(), F_GETFD) & FD_CLOEXEC);
  int signals[8];
  EXPECT_EQ(read_signals(pipe_read_end.get(), signals, 8), 0u) << "an empty pipe must not block";
}

// With a blocking write end, the handler would block forever once the pipe is full (64 KiB)
// and this test would hang until the suite's deadline kills it.
TEST(SigPipe, HandlerNeverBlocksWhenThePipeIsFull) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR2);
  const int pipe_size = fcntl(pipe_read_end.get(), F_GETPIPE_SZ);
  ASSERT_GT(pipe_size, 0);
  for (int i = 0; i < pipe_size + 1000; ++i) raise(SIGUSR2);
  std::size_t total = 0;
  int signals[64];
  while (std::size_t n = read_signals(pipe_read_end.get(), signals, 64)) total += n;
  EXPECT_EQ(total, static_cast<std::size_t>(pipe_size))
      << "the extra signals are dropped, not blocked on";
  default_sig(SIGUSR2);
}

TEST(SigPipe, SecondSetUpReplacesTheWriteEnd) {
  UniqueFd first = set_up_sig_pipe();
  UniqueFd second = set_up_sig_pipe();
  add_sig(SIGUSR2);
  raise(SIGUSR2);
  int signals[8];
  EXPECT_EQ(read_signals(first.get(), signals, 8), 0u);
  EXPECT_EQ(read_signals(second.get(), signals, 8), 1u);
  default_sig(SIGUSR2);
}

}  // namespace
