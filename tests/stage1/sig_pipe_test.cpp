/**
 * @file sig_pipe_test.cpp
 * Unit tests of the signal pipe (stage 1 onwards): a raised signal becomes its number on the pipe.
 */
#include "sig_pipe.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <vector>

namespace {

TEST(SigPipe, RaisedSignalArrivesAsItsNumber) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR2);
  ASSERT_EQ(raise(SIGUSR2), 0);
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

/** Raises @p sig until the signal pipe behind @p pipe_read_end is full. */
void fill_pipe(const UniqueFd& pipe_read_end, int sig) {
  const int pipe_size = fcntl(pipe_read_end.get(), F_GETPIPE_SZ);
  ASSERT_GT(pipe_size, 0);
  for (int i = 0; i < pipe_size; ++i) raise(sig);
}

/** Every signal number read_signals() reports until the pipe is drained, in order. */
std::vector<int> drain(const UniqueFd& pipe_read_end) {
  std::vector<int> all;
  int signals[64];
  while (std::size_t n = read_signals(pipe_read_end.get(), signals, 64))
    all.insert(all.end(), signals, signals + n);
  return all;
}

// With a blocking write end, the handler would block forever once the pipe is full (64 KiB)
// and this test would hang until the suite's deadline kills it.
TEST(SigPipe, HandlerNeverBlocksWhenThePipeIsFull) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR2);
  fill_pipe(pipe_read_end, SIGUSR2);
  for (int i = 0; i < 1000; ++i) raise(SIGUSR2);  // each of these finds the pipe full
  const std::vector<int> all = drain(pipe_read_end);
  const auto pipe_size = static_cast<std::size_t>(fcntl(pipe_read_end.get(), F_GETPIPE_SZ));
  ASSERT_EQ(all.size(), pipe_size + 1) << "the 1000 extra SIGUSR2 merge into one, like a "
                                          "standard signal that arrives while it is pending";
  EXPECT_EQ(all.back(), SIGUSR2);
  default_sig(SIGUSR2);
}

// The classic handler drops the byte on a full pipe: a stop request behind a storm of SIGUSR1
// would be lost, and the server would never stop.
TEST(SigPipe, ADifferentSignalIsNotLostWhenThePipeIsFull) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR1);
  add_sig(SIGUSR2);
  fill_pipe(pipe_read_end, SIGUSR1);
  raise(SIGUSR2);
  const std::vector<int> all = drain(pipe_read_end);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back(), SIGUSR2);
  EXPECT_EQ(std::count(all.begin(), all.end(), SIGUSR2), 1);
  default_sig(SIGUSR1);
  default_sig(SIGUSR2);
}

// errno only changes when the handler's write fails, so the pipe must be full for this test to
// be able to fail: the failed write sets errno to EAGAIN, and the handler must put back ENOTTY.
TEST(SigPipe, ErrnoIsUnchangedEvenWhenTheHandlersWriteFails) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR2);
  fill_pipe(pipe_read_end, SIGUSR2);
  errno = ENOTTY;  // what the interrupted code had
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(errno, ENOTTY);
  drain(pipe_read_end);
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
