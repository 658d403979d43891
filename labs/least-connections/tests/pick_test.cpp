/**
 * @file
 * The grader of lab least-connections (labs/least-connections/README.md), its unit: the pick
 * function alone, on a process table built by hand. Compiled against the student's copy: it
 * calls least_connections() and sets ChildProcess::open_connections (processpool.h).
 */
#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "processpool.h"

namespace {

/** A table of live, accepting, answering workers with these open connection counts. */
std::vector<ChildProcess> table(std::initializer_list<int> open) {
  std::vector<ChildProcess> workers(open.size());
  int i = 0;
  for (int count : open) {
    workers[i].pid = 1000 + i;  // any positive pid: alive; the function sends no signal
    workers[i].open_connections = count;
    ++i;
  }
  return workers;
}

TEST(LeastConnectionsPick, TakesTheWorkerWithTheFewestOpenConnections) {
  EXPECT_EQ(least_connections(table({3, 1, 2}), 0), 1);
  EXPECT_EQ(least_connections(table({0, 5, 5}), 1), 0);  // wherever the turn starts
  EXPECT_EQ(least_connections(table({7, 6, 5, 4}), 0), 3);
}

// A dead, full or silent worker with nothing open would be the least loaded: it must not win.
TEST(LeastConnectionsPick, SkipsUnavailableWorkersHoweverIdle) {
  auto workers = table({0, 0, 0, 4});
  workers[0].pid = -1;           // dead and reaped
  workers[1].accepting = false;  // full
  workers[2].silent = true;      // frozen
  EXPECT_EQ(least_connections(workers, 0), 3);
  workers[3].pid = -1;
  EXPECT_EQ(least_connections(workers, 0), -1) << "no worker is available";
}

// Among equally loaded workers, the first in turn from start, wrapping round: round robin.
TEST(LeastConnectionsPick, BreaksTiesInTurnFromStart) {
  const auto equal = table({1, 1, 1});
  EXPECT_EQ(least_connections(equal, 0), 0);
  EXPECT_EQ(least_connections(equal, 1), 1);
  EXPECT_EQ(least_connections(equal, 2), 2);
  const auto two_least = table({1, 2, 2, 1});
  EXPECT_EQ(least_connections(two_least, 0), 0);
  EXPECT_EQ(least_connections(two_least, 1), 3);  // 1, 2, 3: the first least is 3
  EXPECT_EQ(least_connections(two_least, 3), 3);
}

}  // namespace
