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

TEST(SigPipe, RaisedSignalArrivesAsItsNumber) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR2);
  ASSERT_EQ(raise(SIGUSR2), 0);
  int signals[8];
  ASSERT_EQ(read_signals(pipe_read_end.get(), signals, 8), 1u);
  EXPECT_EQ(signals[0], SIGUSR2);
  EXPECT_EQ(read_signals(pipe_read_end.get(), signals, 8), 0u) << "the pipe should now be empty";
  signal(SIGUSR2, SIG_DFL);
}

// A signal whose byte is still waiting merges into it, as the kernel merges a standard signal
// that arrives while it is pending; once read, the next one writes a new byte.
TEST(SigPipe, DifferentSignalsArriveInOrderAndARepeatMergesWithItsWaitingByte) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR1);
  add_sig(SIGUSR2);
  raise(SIGUSR1);
  raise(SIGUSR2);
  raise(SIGUSR1);
  int signals[8];
  ASSERT_EQ(read_signals(pipe_read_end.get(), signals, 8), 2u);
  EXPECT_EQ(signals[0], SIGUSR1);
  EXPECT_EQ(signals[1], SIGUSR2);
  raise(SIGUSR1);
  ASSERT_EQ(read_signals(pipe_read_end.get(), signals, 8), 1u) << "read, so a new byte";
  EXPECT_EQ(signals[0], SIGUSR1);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

TEST(SigPipe, ReadEndIsNonblockingAndCloseOnExec) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  EXPECT_TRUE(fcntl(pipe_read_end.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(fcntl(pipe_read_end.get(), F_GETFD) & FD_CLOEXEC);
  int signals[8];
  EXPECT_EQ(read_signals(pipe_read_end.get(), signals, 8), 0u) << "an empty pipe must not block";
}

// The classic handler writes a byte per signal: a flood fills the 64 KiB pipe, and then either
// the handler blocks (a blocking write end) or the SIGTERM behind the flood is lost (the byte
// dropped). Here a flood leaves one byte, and the loop reads everything with one read().
TEST(SigPipe, AFloodLeavesOneByteAndADifferentSignalBehindItIsNotLost) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  add_sig(SIGUSR1);
  add_sig(SIGUSR2);
  for (int i = 0; i < 100000; ++i) raise(SIGUSR1);
  raise(SIGUSR2);
  int signals[NSIG];
  ASSERT_EQ(read_signals(pipe_read_end.get(), signals, NSIG), 2u);
  EXPECT_EQ(signals[0], SIGUSR1);
  EXPECT_EQ(signals[1], SIGUSR2);
  EXPECT_EQ(read_signals(pipe_read_end.get(), signals, NSIG), 0u);
  signal(SIGUSR1, SIG_DFL);
  signal(SIGUSR2, SIG_DFL);
}

// errno only changes when the handler's write fails, so the write must fail for this test to be
// able to fail: with the read end closed it fails with EPIPE, and the handler must put back
// ENOTTY.
TEST(SigPipe, ErrnoIsUnchangedEvenWhenTheHandlersWriteFails) {
  UniqueFd pipe_read_end = set_up_sig_pipe();
  pipe_read_end.reset();
  struct sigaction ignore {
  }, saved{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &saved);  // the failed write would raise SIGPIPE
  add_sig(SIGUSR2);
  errno = ENOTTY;  // what the interrupted code had
  ASSERT_EQ(raise(SIGUSR2), 0);
  EXPECT_EQ(errno, ENOTTY);
  signal(SIGUSR2, SIG_DFL);
  sigaction(SIGPIPE, &saved, nullptr);
}

TEST(SigPipe, SecondSetUpReplacesTheWriteEnd) {
  UniqueFd first = set_up_sig_pipe();
  UniqueFd second = set_up_sig_pipe();
  add_sig(SIGUSR2);
  raise(SIGUSR2);
  int signals[8];
  EXPECT_EQ(read_signals(first.get(), signals, 8), 0u);
  EXPECT_EQ(read_signals(second.get(), signals, 8), 1u);
  signal(SIGUSR2, SIG_DFL);
}

}  // namespace
