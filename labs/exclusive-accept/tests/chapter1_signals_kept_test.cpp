/**
 * @file chapter1_signals_kept_test.cpp
 * Chapter 1's signal tests as the grader of lab exclusive-accept (labs/exclusive-accept/README.md)
 * runs them: all but one, which asks the parent for the line that reports dropped log lines.
 * The parent logged a line per hand-off; now it logs nothing per connection, so it has dropped
 * nothing, and only the worker's next line can report the worker's drops. lab.conf names test
 * files, not tests, so this file includes the chapter's file, renames that test DISABLED_, and
 * adds the same test asking the worker.
 */
#define AStderrPipeNobodyReadsNeverStopsTheServer DISABLED_AStderrPipeNobodyReadsNeverStopsTheServer

#include "../../../tests/stage1/signals_test.cpp"

namespace {

// Logging never blocks serving: with stderr a pipe that nobody reads, lines are dropped (and
// counted), never waited for. The worker's next line that fits reports its drops.
TEST(Logging, AStderrPipeNobodyReadsNeverStopsTheWorker) {
  FdPair pipe_ends;
  ASSERT_TRUE(open_pipe(pipe_ends));
  ServerProcess server(verbose_into(pipe_ends.write_end, 1));
  ASSERT_TRUE(server.ready());
  for (int i = 0; i < 3000; ++i) {
    const auto start = Clock::now();
    ASSERT_TRUE(harness::serves_a_new_client(server.port())) << "connection " << i;
    ASSERT_LT(since(start), Millis(1000)) << "connection " << i;
  }
  EXPECT_FALSE(fcntl(pipe_ends.write_end, F_GETFL) & O_NONBLOCK)
      << "the server changed the blocking mode of a pipe it shares with its shell";
  const std::vector<pid_t> workers = harness::children_of(server.pid());
  ASSERT_EQ(workers.size(), 1u);
  std::string text = read_available(pipe_ends.read_end);  // room for the worker's next line
  text.clear();
  kill(workers[0], SIGUSR1);
  harness::wait_until([&] {
    text += read_available(pipe_ends.read_end);
    return text.find("stats:") != std::string::npos;
  });
  EXPECT_NE(text.find("log lines dropped"), std::string::npos) << text;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(), std::optional<int>(0));
}

}  // namespace
