/**
 * @file trace_http_test.cpp
 * HTTP as the trace records it (stage 4 onwards): one keep-alive connection with two pipelined
 * requests, then a file of 3 MiB that goes out in several turns (at most 1 MiB a turn).
 */
#include <gtest/gtest.h>

#include "harness.h"
#include "http_client.h"
#include "trace_file.h"

namespace {

using harness::Client;
using harness::DocRoot;
using harness::ServerConfig;
using harness::ServerProcess;
using harness::TraceDir;
using harness::TraceEvent;

constexpr long long kBig = 3 * 1024 * 1024;
constexpr long long kShare = 1024 * 1024;  // HttpConn::kMaxBytesPerTurn

TEST(TraceHttp, PipelinedRequestsAndALargeFileOnOneConnection) {
  DocRoot docroot;
  docroot.write("big.bin", DocRoot::pattern(kBig));
  TraceDir dir;
  ServerProcess server(
      ServerConfig{{"--workers", "1", "--root", docroot.root(), "--trace", dir.path()}});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  {
    Client client(server.port());
    ASSERT_TRUE(client.send_all(harness::get_request("/index.html") +
                                harness::get_request("/missing")));
    ASSERT_EQ(harness::read_response(client)->status, 200);
    ASSERT_EQ(harness::read_response(client)->status, 404);
    ASSERT_TRUE(client.send_all(harness::get_request("/big.bin")));
    const auto big = harness::read_response(client);
    ASSERT_TRUE(big.has_value());
    ASSERT_EQ(big->body.size(), static_cast<std::size_t>(kBig));
  }
  const auto trace = harness::stop_and_read_trace(server, dir.path());
  ASSERT_FALSE(trace.empty());
  const auto accepts = harness::events_named(trace, "accept");
  ASSERT_EQ(accepts.size(), 1u);
  const std::string fd = accepts[0].get("fd");
  // The requests, in the order they were sent, on the one connection.
  std::vector<std::string> requests;
  for (const TraceEvent& e : harness::events_named(trace, "request")) {
    EXPECT_EQ(e.get("fd"), fd) << e.line;
    requests.push_back(e.get("method") + " " + e.get("target") + " " + e.get("status"));
  }
  EXPECT_EQ(requests, (std::vector<std::string>{"GET /index.html 200", "GET /missing 404",
                                                "GET /big.bin 200"}));
  // After the big request: every turn sends at most its share, and it takes several turns.
  const int big_request = harness::find_event(
      trace, [](const TraceEvent& e) { return e.get("target") == "/big.bin"; });
  long long body_turns = 0, bytes = 0;
  for (int i = big_request + 1; i < static_cast<int>(trace.size()); ++i) {
    if (trace[i].ev() != "sent") continue;
    EXPECT_EQ(trace[i].get("fd"), fd);
    EXPECT_LE(trace[i].number("bytes"), kShare + 1024) << trace[i].line;  // a share and a head
    ++body_turns;
    bytes += trace[i].number("bytes");
  }
  EXPECT_GE(body_turns, 3);
  EXPECT_GT(bytes, kBig);  // the body and its head
  const auto closes = harness::events_named(trace, "close");
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0].get("fd"), fd);
  EXPECT_EQ(closes[0].get("why"), "over");
}

}  // namespace
