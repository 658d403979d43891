/**
 * @file trace_test.cpp
 * `--trace FILE` (every stage): the command line, tracing off by default, and the events of
 * chapter 1 (start, wake, signal caught and read, accept, close, exit) in a valid order, from a
 * real server driven over real sockets. The format is that of notes/tracing.md.
 */
#include <gtest/gtest.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <map>

#include "harness.h"
#include "trace_file.h"

namespace {

using harness::Client;
using harness::ServerConfig;
using harness::ServerProcess;
using harness::TraceDir;
using harness::TraceEvent;

/** The events of @p trace without the wake-ups (one per loop turn: their number varies). */
[[maybe_unused]] std::vector<std::string> names_without_wakes(const std::vector<TraceEvent>& trace,
                                                              pid_t pid) {
  std::vector<std::string> names;
  for (const TraceEvent& event : trace)
    if (event.pid() == pid && event.ev() != "wake") names.push_back(event.ev() + event.get("sig"));
  return names;
}

/** Per process, the timestamps never go back, and its first event is "start". */
void expect_each_process_in_order(const std::vector<TraceEvent>& trace) {
  std::map<pid_t, long long> last;
  for (const TraceEvent& event : trace) {
    const auto seen = last.find(event.pid());
    if (seen == last.end())
      EXPECT_EQ(event.ev(), "start") << "first event of a process: " << event.line;
    else
      EXPECT_GE(event.number("t_ns"), seen->second) << event.line;
    last[event.pid()] = event.number("t_ns");
  }
}

TEST(Trace, OptionIsInTheHelp) {
  const auto result = harness::run_server_to_exit({"--help"});
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_NE(result.out.find("--trace FILE"), std::string::npos) << result.out;
}

TEST(Trace, EmptyFileNameIsAUsageError) {
  const auto result = harness::run_server_to_exit({"--trace", ""});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("--trace needs a file name"), std::string::npos) << result.err;
}

TEST(Trace, MissingFileNameIsAUsageError) {
  const auto result = harness::run_server_to_exit({"--port", "0", "--trace"});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("--trace"), std::string::npos) << result.err;
}

TEST(Trace, FileThatCannotBeOpenedIsAStartUpError) {
  TraceDir dir;
  const std::string path = dir.path("no-such-directory/trace.jsonl");
  const auto result = harness::run_server_to_exit({"--port", "0", "--trace", path});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_EQ(result.err, "server: --trace " + path + ": No such file or directory\n");
}

// Off by default: a server run without --trace, from an empty directory, writes no file there
// (nor anywhere else it could: it holds no descriptor it did not hold before tracing existed).
TEST(Trace, OffByDefaultWritesNothing) {
  TraceDir dir;
  char previous[4096];
  ASSERT_NE(getcwd(previous, sizeof previous), nullptr);
  ASSERT_EQ(chdir(dir.path("").c_str()), 0);
  {
    ServerProcess server;
    EXPECT_EQ(chdir(previous), 0);
    ASSERT_TRUE(server.ready()) << server.stderr_text();
    Client client(server.port());
    ASSERT_TRUE(harness::first_exchange(client));
    server.signal(SIGUSR1);
    ASSERT_TRUE(server.wait_for_stderr("stats:"));
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait_exit(), 0);
  }
  DIR* listing = opendir(dir.path("").c_str());
  ASSERT_NE(listing, nullptr);
  int entries = 0;
  while (const dirent* entry = readdir(listing)) entries += entry->d_name[0] != '.';
  closedir(listing);
  EXPECT_EQ(entries, 0) << "a file appeared in the server's working directory";
}

// One connection, then SIGUSR1, then SIGTERM. The connection's accept and close come from the
// process that served it (the server in chapter 1, a worker later), with the same fd; each signal
// is caught (in the handler) before it is read (in the loop), and a wake-up comes in between.
TEST(Trace, ConnectionAndSignalsAreRecordedInOrder) {
  TraceDir dir;
#if STAGE == 1
  ServerProcess server(ServerConfig{{"--trace", dir.path()}});
#else
  ServerProcess server(ServerConfig{{"--workers", "1", "--trace", dir.path()}});
#endif
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  {
    Client client(server.port());
    ASSERT_TRUE(harness::first_exchange(client));
  }
  auto is = [](const char* ev) { return [ev](const TraceEvent& e) { return e.ev() == ev; }; };
  harness::wait_for_trace(dir.path(), is("close"));
  server.signal(SIGUSR1);
  harness::wait_for_trace(dir.path(), [&](const TraceEvent& e) {
    return e.pid() == server.pid() && e.ev() == "signal_read" && e.get("sig") == "USR1";
  });
  const auto trace = harness::stop_and_read_trace(server, dir.path());
  ASSERT_FALSE(trace.empty());
  expect_each_process_in_order(trace);
  const auto accepts = harness::events_named(trace, "accept");
  const auto closes = harness::events_named(trace, "close");
  ASSERT_EQ(accepts.size(), 1u);
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].pid(), accepts[0].pid());
  EXPECT_EQ(closes[0].get("fd"), accepts[0].get("fd"));
  EXPECT_EQ(closes[0].get("why"), "over");
  EXPECT_GT(accepts[0].number("port"), 0);
  for (const char* sig : {"USR1", "TERM"}) {
    const auto signal_is = [&](const char* ev) {
      return [&, ev](const TraceEvent& e) {
        return e.pid() == server.pid() && e.ev() == ev && e.get("sig") == sig;
      };
    };
    const int caught = harness::find_event(trace, signal_is("signal_caught"));
    const int wake = harness::find_event(
        trace, [&](const TraceEvent& e) { return e.pid() == server.pid() && e.ev() == "wake"; },
        caught + 1);
    const int read = harness::find_event(trace, signal_is("signal_read"));
    ASSERT_GE(caught, 0) << sig;
    EXPECT_LT(caught, wake) << sig;
    EXPECT_LT(wake, read) << sig;
  }
#if STAGE == 1
  // Chapter 1 has one process: its whole story, exactly.
  EXPECT_EQ(names_without_wakes(trace, server.pid()),
            (std::vector<std::string>{"start", "accept", "close", "signal_caughtUSR1",
                                      "signal_readUSR1", "signal_caughtTERM", "signal_readTERM",
                                      "exit"}));
  EXPECT_EQ(trace.back().get("why"), "got SIGTERM");
  EXPECT_EQ(trace.front().get("role"), "single");
#else
  EXPECT_EQ(trace.front().get("role"), "parent");
  EXPECT_EQ(accepts[0].get("role"), "worker");
#endif
}

}  // namespace
