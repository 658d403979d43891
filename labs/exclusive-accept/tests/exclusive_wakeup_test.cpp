/**
 * @file exclusive_wakeup_test.cpp
 * The grader of lab exclusive-accept (labs/exclusive-accept/README.md), its unit: the events the
 * workers watch the listening socket with. Compiled against the student's copy: it uses
 * kListenEvents (event_loop.h) and make_listen_socket() (net.h), and four threads stand in for
 * four workers, each blocked in epoll_wait on an epoll instance of its own.
 */
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

#include "event_loop.h"
#include "harness.h"
#include "net.h"

namespace {

constexpr int kWaiters = 4;

/** The port that @p listen_fd is bound to. */
std::uint16_t port_of(int listen_fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) == -1) return 0;
  return ntohs(address.sin_port);
}

// One connection arrives while four epoll instances, each holding the listening socket with
// kListenEvents, are blocked in epoll_wait. Nobody accepts, so a waiter woken by anything but
// this connection would be seen too. Shared EPOLLIN wakes all four (the herd); EPOLLEXCLUSIVE
// wakes one.
TEST(ExclusiveWakeup, OneConnectionWakesOneOfFourBlockedWaiters) {
  const UniqueFd listener = make_listen_socket("127.0.0.1", 0);
  std::array<UniqueFd, kWaiters> epolls;
  for (UniqueFd& epoll : epolls) {
    epoll.reset(epoll_create1(EPOLL_CLOEXEC));
    ASSERT_TRUE(epoll);
    epoll_event event{};
    event.events = kListenEvents;
    event.data.fd = listener.get();
    ASSERT_EQ(epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listener.get(), &event), 0)
        << "kListenEvents cannot register a listening socket: " << strerror(errno);
  }
  std::array<std::atomic<pid_t>, kWaiters> tids{};
  std::array<std::atomic<bool>, kWaiters> woken{};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&, i] {
      tids[i] = static_cast<pid_t>(syscall(SYS_gettid));
      epoll_event event{};
      // The timeout ends the waiters that are never woken; it is the test's deadline.
      woken[i] = epoll_wait(epolls[i].get(), &event, 1, 500) == 1;
    });
  }
  // Asleep ('S') after publishing its id, a waiter can only be asleep in epoll_wait.
  const bool all_asleep = harness::wait_until([&] {
    for (const auto& tid : tids)
      if (tid == 0 || harness::process_state(tid) != 'S') return false;
    return true;
  });
  harness::Client client(port_of(listener.get()));
  for (std::thread& waiter : waiters) waiter.join();
  ASSERT_TRUE(all_asleep) << "the waiters never blocked in epoll_wait";
  ASSERT_TRUE(client.connected());
  int count = 0;
  for (const auto& one : woken) count += one ? 1 : 0;
  EXPECT_EQ(count, 1) << "one connection woke " << count << " of " << kWaiters
                      << " waiting workers (the thundering herd, 惊群)";
}

}  // namespace
