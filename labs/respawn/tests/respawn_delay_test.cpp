/**
 * @file respawn_delay_test.cpp
 * The grader of lab respawn (labs/respawn/README.md), its unit: the back-off of a crash loop.
 * Compiled against the student's copy: it calls ProcessPool::respawn_delay().
 */
#include <gtest/gtest.h>

#include <chrono>
#include <climits>

#include "processpool.h"

namespace {

using std::chrono::milliseconds;

// No failure at start-up, no wait; then 100 ms, doubling with each failure in a row.
TEST(RespawnDelay, NoneAfterALongLifeThenDoublingFromOneHundredMs) {
  EXPECT_EQ(ProcessPool::respawn_delay(0), milliseconds(0));
  EXPECT_EQ(ProcessPool::respawn_delay(1), milliseconds(100));
  EXPECT_EQ(ProcessPool::respawn_delay(2), milliseconds(200));
  EXPECT_EQ(ProcessPool::respawn_delay(3), milliseconds(400));
  EXPECT_EQ(ProcessPool::respawn_delay(4), milliseconds(800));
  EXPECT_EQ(ProcessPool::respawn_delay(5), milliseconds(1600));
  EXPECT_EQ(ProcessPool::respawn_delay(6), milliseconds(3200));
}

// The cap holds however long the crash loop has lasted: 100 ms shifted left by the count of
// failures overflows long before INT_MAX, so the doubling must stop at the cap.
TEST(RespawnDelay, CappedAtFiveSecondsWithoutOverflow) {
  for (int failures : {7, 8, 10, 31, 32, 63, 64, 65, 1000, 1 << 20, INT_MAX})
    EXPECT_EQ(ProcessPool::respawn_delay(failures), milliseconds(5000)) << failures << " failures";
  for (int failures = 1; failures < 200; ++failures)
    EXPECT_GE(ProcessPool::respawn_delay(failures), ProcessPool::respawn_delay(failures - 1))
        << "the delay shrank at " << failures << " failures";
}

}  // namespace
