/**
 * @file
 * The unit test of lab stats-reset (labs/stats-reset/README.md), compiled against the student's
 * copy: it calls EchoShared::reset_stats(), which the starting point does not have.
 */
#include <gtest/gtest.h>

#include "echo_conn.h"

// The unit: EchoShared forgets what it counted, and keeps its banner.
TEST(StatsReset, EchoSharedResetStatsZeroesTheCounter) {
  EchoShared shared;
  shared.banner = "hello\n";
  shared.bytes_echoed = 42;
  shared.reset_stats();
  EXPECT_EQ(shared.bytes_echoed, 0u);
  EXPECT_EQ(shared.banner, "hello\n");
  EXPECT_EQ(shared.stats(), "bytes_echoed=0");
}
