/**
 * @file echo_test.cpp
 * The echo service (stages 1-3): byte-exact echo, concurrency, and back-pressure.
 */
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>

#include "harness.h"

namespace {

using harness::Client;
using harness::Millis;
using harness::ServerProcess;

std::string pattern(std::size_t size, unsigned seed) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + seed * 7) % 251);
  return data;
}

TEST(Echo, BannerThenEchoRoundTrip) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client(server.port());
  const auto banner = client.read_line();
  ASSERT_TRUE(banner.has_value());
  EXPECT_EQ(banner->rfind("hello from ", 0), 0u) << *banner;
  EXPECT_TRUE(harness::echo_round_trip(client, "hello, echo\n"));
  EXPECT_TRUE(harness::echo_round_trip(client, std::string("\0binary\xff", 8)));
}

TEST(Echo, HundredConcurrentClientsEachEcho64KiBByteExact) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  constexpr int kClients = 100;
  std::atomic<int> exact{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Client client(server.port());
      if (!client.read_line()) return;
      const std::string data = pattern(64 * 1024, static_cast<unsigned>(i));
      // Send and read concurrently: the server echoes at most its buffer size ahead of us.
      std::thread sender([&] { client.send_all(data); });
      const std::string echoed = client.read_exact(data.size());
      sender.join();
      if (echoed == data) ++exact;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(exact.load(), kClients);
}

/** Resident memory of the server: the process and its workers, in KiB. */
long server_rss_kib(const ServerProcess& server) {
  long total = harness::rss_kib(server.pid());
  for (pid_t child : harness::children_of(server.pid())) total += harness::rss_kib(child);
  return total;
}

// A client that sends and never reads must be throttled (the server stops reading from it),
// not buffered without limit, and must not delay anybody else. The kernel's socket buffers on
// loopback may absorb much of the 10 MiB; the server's own memory must not.
TEST(Echo, ClientThatNeverReadsDoesNotStallOthersOrGrowMemory) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ASSERT_TRUE(harness::serves_a_new_client(server.port()));
  const long rss_before = server_rss_kib(server);

  Client hog(server.port());
  ASSERT_TRUE(hog.connected());
  const std::string ten_mib = pattern(10 * 1024 * 1024, 1);
  std::thread hog_thread([&] { hog.send_all(ten_mib, Millis(1500)); });

  // While the hog is blocked, others are served promptly.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(harness::serves_a_new_client(server.port()));
  hog_thread.join();
  EXPECT_TRUE(harness::serves_a_new_client(server.port()));
  const long rss_after = server_rss_kib(server);
  EXPECT_LT(rss_after - rss_before, 4 * 1024)
      << "RSS grew from " << rss_before << " to " << rss_after << " KiB";
}

// Out of fds, accept() fails with EMFILE while clients wait in the backlog. The server must
// neither spin (retrying, or level-triggered on the listening socket) nor die, and must greet
// the waiting clients as soon as connections close.
TEST(Echo, OutOfFdsNeitherSpinsNorDiesAndServesOnceConnectionsClose) {
#if STAGE >= 2
  // Two workers, whatever the CPU count: 40 clients must fill them both under 24 fds each.
  ServerProcess server(harness::ServerConfig{{"--workers", "2"}, 24});
#else
  ServerProcess server(harness::ServerConfig{{}, 24});
#endif
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto server_cpu = [&] {  // the process and its workers
    double total = harness::cpu_seconds(server.pid());
    for (pid_t child : harness::children_of(server.pid())) total += harness::cpu_seconds(child);
    return total;
  };
  std::deque<Client> clients;
  for (int i = 0; i < 40; ++i) clients.emplace_back(server.port());  // more than 24 fds allow
  ASSERT_TRUE(server.wait_for_stderr("pausing until a connection closes")) << server.stderr_text();
  const double cpu_before = server_cpu();
  for (int i = 0; i < 10; ++i) {
    clients.emplace_back(server.port());      // each arrival wakes the server once more
    std::this_thread::sleep_for(Millis(50));  // pacing the arrivals, not waiting for a condition
  }
  EXPECT_LT(server_cpu() - cpu_before, 0.2) << "the server spins at EMFILE";
  // Hang up the first half: the rest, waiting in the backlog, must now be greeted and echoed,
  // each one as soon as the one before it hangs up and frees an fd.
  for (int i = 0; i < 25; ++i) clients.pop_front();
  int served = 0;
  while (!clients.empty() && harness::first_exchange(clients.front())) {
    ++served;
    clients.pop_front();  // hangs up, freeing an fd for the next one
  }
  EXPECT_EQ(served, 25) << server.stderr_text();
}

TEST(Echo, EchoesEverythingBeforeClosingAfterClientHalfClose) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client(server.port());
  ASSERT_TRUE(client.read_line().has_value());
  const std::string data = pattern(200 * 1024, 3);
  std::thread sender([&] {
    client.send_all(data);
    client.shutdown_write();
  });
  const auto echoed = client.read_to_eof();
  sender.join();
  ASSERT_TRUE(echoed.has_value()) << "the server did not close after echoing";
  EXPECT_TRUE(*echoed == data) << "got " << echoed->size() << " of " << data.size() << " bytes";
}

// SIGQUIT lets a connection finish its echo: the server reads nothing more, but waits while the
// client does not read what it already echoed, and exits once that has gone out.
TEST(Echo, SigquitWaitsUntilTheBufferedEchoIsOut) {
  ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  Client client(server.port());
  ASSERT_TRUE(client.read_line().has_value());
  ASSERT_TRUE(harness::fill_echo_buffer(client));
  server.signal(SIGQUIT);
  ASSERT_TRUE(server.wait_for_stderr("finishing 1 connections")) << server.stderr_text();
  EXPECT_FALSE(server.wait_exit(Millis(300)).has_value()) << "it did not wait for its echo";
  // Read until the server closes (it may reset: it never read all we sent).
  const auto echoed = client.read_to_eof(Millis(5000));
  ASSERT_TRUE(echoed.has_value());
  EXPECT_GT(echoed->size(), 0u);
  EXPECT_EQ(*echoed, std::string(echoed->size(), 'x'));
  EXPECT_EQ(server.wait_exit(Millis(2000)), std::optional<int>(0)) << server.stderr_text();
  EXPECT_NE(server.stderr_text().find("got SIGQUIT: closed 0 connections"), std::string::npos)
      << server.stderr_text();
}

}  // namespace
