/**
 * @file time_wheel_test.cpp
 * Unit tests of TimeWheel and Timer: the tick rule, every removal case, rotation, refresh, and
 * callbacks that remove, re-add or destroy timers while tick() fires them. Pure: no clock, no
 * sockets; a test advances time by calling tick().
 */
#include "time_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

/** Calls tick() @p n times. */
void tick_n(TimeWheel& wheel, int n) {
  for (int i = 0; i < n; ++i) wheel.tick();
}

/**
 * Adds one timer with @p timeout to @p wheel and returns the tick on which it fires, counting the
 * next tick as 1; 0 if it has not fired after @p max_ticks.
 */
int firing_tick(TimeWheel& wheel, milliseconds timeout, int max_ticks) {
  int now = 0;
  int fired_at = 0;
  Timer timer([&] { fired_at = now; });
  wheel.add(timer, timeout);
  while (fired_at == 0 && now < max_ticks) {
    ++now;
    wheel.tick();
  }
  return fired_at;
}

/** Three timers a, b, c added in that order with the same timeout: one slot holds a -> b -> c. */
class ThreeInOneSlot : public ::testing::Test {
 protected:
  TimeWheel wheel{8, 1000ms};
  std::string order;  // names of the timers in the order they fired
  Timer a{[this] { order += 'a'; }};
  Timer b{[this] { order += 'b'; }};
  Timer c{[this] { order += 'c'; }};

  void SetUp() override {
    for (Timer* t : {&a, &b, &c}) wheel.add(*t, 3000ms);  // all fire on tick 4
  }
};

TEST(TimeWheel, RejectsZeroSlotsAndNonPositiveInterval) {
  EXPECT_THROW(TimeWheel(0, 1000ms), std::invalid_argument);
  EXPECT_THROW(TimeWheel(60, 0ms), std::invalid_argument);
  EXPECT_THROW(TimeWheel(60, -5ms), std::invalid_argument);
}

// Rule: the timer fires on tick max(1, ceil(T/I)) + 1. Tick k comes between (k-1)*I and k*I
// after the add, so (k-1)*I >= T (never early) and k*I <= ceil(T/I)*I + I (one interval late).
// The bounds are checked on the tick the wheel actually fired on, for every timeout in steps of a
// tenth of a slot, and the table pins the tick for the edges.
TEST(TimeWheel, NeverFiresEarlyAndAtMostOneIntervalLate) {
  for (milliseconds timeout = 100ms; timeout <= 130000ms; timeout += 100ms) {
    TimeWheel wheel(60, 1000ms);
    const int fired = firing_tick(wheel, timeout, 300);
    ASSERT_GT(fired, 0) << timeout.count() << " ms never fired";
    const milliseconds earliest = (fired - 1) * wheel.interval();  // the add was just after a tick
    const milliseconds latest = fired * wheel.interval();          // ... or just before one
    EXPECT_GE(earliest, timeout) << "early: " << timeout.count() << " ms fired on tick " << fired;
    const milliseconds slots =
        ((timeout + wheel.interval() - 1ms) / wheel.interval()) * wheel.interval();
    EXPECT_LE(latest, std::max(slots, wheel.interval()) + wheel.interval())
        << "late: " << timeout.count() << " ms fired on tick " << fired;
  }
  struct Case {
    milliseconds timeout;
    int tick;
  };
  const Case cases[] = {{1000ms, 2},   {1001ms, 3},   {1500ms, 3},   {2000ms, 3},
                        {59000ms, 60}, {60000ms, 61}, {60001ms, 62}, {61000ms, 62}};
  for (const Case& c : cases) {
    TimeWheel wheel(60, 1000ms);
    EXPECT_EQ(firing_tick(wheel, c.timeout, 200), c.tick) << c.timeout.count() << " ms";
  }
}

TEST(TimeWheel, TimeoutBelowOneSlotWaitsAFullIntervalAndFiresOnTick2) {
  for (milliseconds timeout : {0ms, 1ms, 999ms, -3000ms}) {
    TimeWheel wheel(60, 1000ms);
    EXPECT_EQ(firing_tick(wheel, timeout, 10), 2) << timeout.count() << " ms";
  }
}

TEST(TimeWheel, TimeoutOfThreeTurnsUsesRotation) {
  TimeWheel wheel(4, 100ms);
  EXPECT_EQ(firing_tick(wheel, 1200ms, 100), 13);  // 3 turns of 4 slots, then the +1 tick
  TimeWheel one_slot(1, 100ms);                    // every timer in the same slot
  EXPECT_EQ(firing_tick(one_slot, 1200ms, 100), 13);
}

TEST(TimeWheel, TimerWithRotationStaysInSlotWhileADueOneFires) {
  TimeWheel wheel(4, 100ms);
  std::string order;
  Timer soon([&] { order += 's'; });
  Timer later([&] { order += 'l'; });
  wheel.add(later, 1200ms);  // tick 13: slot 1, rotation 3
  wheel.add(soon, 400ms);    // tick 5:  slot 1, rotation 1
  tick_n(wheel, 5);
  EXPECT_EQ(order, "s");
  EXPECT_TRUE(later.armed());
  EXPECT_EQ(wheel.size(), 1u);
  tick_n(wheel, 7);
  EXPECT_EQ(order, "s");  // slot 1 came up on ticks 1, 5 and 9: rotation 3 -> 0
  wheel.tick();
  EXPECT_EQ(order, "sl");
  EXPECT_FALSE(later.armed());
}

TEST_F(ThreeInOneSlot, AllFireInAddOrder) {
  tick_n(wheel, 3);
  EXPECT_EQ(order, "");
  EXPECT_EQ(wheel.size(), 3u);
  wheel.tick();
  EXPECT_EQ(order, "abc");
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_FALSE(a.armed() || b.armed() || c.armed());
}

TEST_F(ThreeInOneSlot, RemoveHead) {
  wheel.remove(a);
  EXPECT_FALSE(a.armed());
  EXPECT_EQ(wheel.size(), 2u);
  tick_n(wheel, 4);
  EXPECT_EQ(order, "bc");
}

TEST_F(ThreeInOneSlot, RemoveMiddle) {
  wheel.remove(b);
  tick_n(wheel, 4);
  EXPECT_EQ(order, "ac");
}

TEST_F(ThreeInOneSlot, RemoveTailThenAddAppendsAfterTheNewTail) {
  wheel.remove(c);
  Timer d([this] { order += 'd'; });
  wheel.add(d, 3000ms);
  tick_n(wheel, 4);
  EXPECT_EQ(order, "abd");
}

TEST_F(ThreeInOneSlot, RemoveAllLeavesAnEmptySlotThatStillWorks) {
  wheel.remove(a);
  wheel.remove(c);
  wheel.remove(b);  // the only node left
  EXPECT_EQ(wheel.size(), 0u);
  wheel.add(a, 3000ms);
  tick_n(wheel, 4);
  EXPECT_EQ(order, "a");
}

TEST(TimeWheel, RemoveOnlyTimerAndRemoveIsSafeOnUnarmedTimers) {
  TimeWheel wheel(8, 1000ms);
  int fired = 0;
  Timer t([&] { ++fired; });
  wheel.remove(t);  // never armed
  wheel.add(t, 2000ms);
  wheel.remove(t);
  wheel.remove(t);  // twice
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(wheel.size(), 0u);
  tick_n(wheel, 20);
  EXPECT_EQ(fired, 0);
}

TEST(TimeWheel, ReAddPostponesRefresh) {
  TimeWheel wheel(8, 1000ms);
  int fired_at = 0;
  int now = 0;
  Timer t([&] { fired_at = now; });
  wheel.add(t, 5000ms);  // would fire on tick 6
  for (now = 1; now <= 3; ++now) wheel.tick();
  wheel.add(t, 5000ms);  // re-armed after tick 3: fires on tick 3 + 6
  EXPECT_EQ(wheel.size(), 1u);
  for (now = 4; now <= 20 && fired_at == 0; ++now) wheel.tick();
  EXPECT_EQ(fired_at, 9);
}

TEST(TimeWheel, TenThousandTimersFireInOneTick) {
  TimeWheel wheel(60, 1000ms);
  std::vector<int> fired;
  std::deque<Timer> timers;  // a deque never moves its elements
  for (int i = 0; i < 10000; ++i) timers.emplace_back([&fired, i] { fired.push_back(i); });
  for (Timer& t : timers) wheel.add(t, 2000ms);
  EXPECT_EQ(wheel.size(), 10000u);
  tick_n(wheel, 2);
  EXPECT_TRUE(fired.empty());
  wheel.tick();
  ASSERT_EQ(fired.size(), 10000u);
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));  // in add order
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimeWheel, CallbackRemovesAnotherTimerDueInTheSameTick) {
  TimeWheel wheel(8, 1000ms);
  std::string order;
  Timer b([&] { order += 'b'; });
  Timer a([&] {
    order += 'a';
    wheel.remove(b);
  });
  wheel.add(a, 1000ms);
  wheel.add(b, 1000ms);
  tick_n(wheel, 2);
  EXPECT_EQ(order, "a");
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimeWheel, CallbackReAddsAnotherTimerDueInTheSameTick) {
  TimeWheel wheel(8, 1000ms);
  std::string order;
  Timer b([&] { order += 'b'; });
  Timer a([&] {
    order += 'a';
    wheel.add(b, 1000ms);  // postponed: fires two ticks later instead of now
  });
  wheel.add(a, 1000ms);
  wheel.add(b, 1000ms);
  tick_n(wheel, 2);
  EXPECT_EQ(order, "a");
  EXPECT_TRUE(b.armed());
  tick_n(wheel, 2);
  EXPECT_EQ(order, "ab");
}

TEST(TimeWheel, CallbackReAddsItself) {
  TimeWheel wheel(8, 1000ms);
  int fired = 0;
  std::optional<Timer> t;
  t.emplace([&] {
    ++fired;
    EXPECT_FALSE(t->armed());  // disarmed before its callback runs
    wheel.add(*t, 1000ms);     // every 2 ticks
  });
  wheel.add(*t, 1000ms);
  tick_n(wheel, 10);
  EXPECT_EQ(fired, 5);
  EXPECT_TRUE(t->armed());
  EXPECT_EQ(wheel.size(), 1u);
}

/** A connection that owns its timer, as in the server; run under ASan to see use-after-free. */
struct Conn {
  explicit Conn(std::function<void()> on_idle) : timer(std::move(on_idle)) {}
  std::string name;
  Timer timer;
};

TEST(TimeWheel, CallbackDestroysTheOwnerOfItsTimerAndOfAnotherDueTimer) {
  TimeWheel wheel(8, 1000ms);
  std::map<int, std::unique_ptr<Conn>> conns;
  std::vector<int> closed;
  for (int id = 0; id < 3; ++id) {
    conns[id] = std::make_unique<Conn>([&conns, &closed, id] {
      closed.push_back(id);
      conns.erase(id);              // destroys the Timer whose callback is running
      if (id == 0) conns.erase(1);  // and the armed, due timer of connection 1
    });
    wheel.add(conns[id]->timer, 2000ms);
  }
  tick_n(wheel, 3);
  EXPECT_EQ(closed, (std::vector<int>{0, 2}));
  EXPECT_TRUE(conns.empty());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimeWheel, DestroyingAnArmedTimerUnlinksIt) {
  TimeWheel wheel(8, 1000ms);
  std::string order;
  Timer a([&] { order += 'a'; });
  auto b = std::make_unique<Timer>([&] { order += 'b'; });
  Timer c([&] { order += 'c'; });
  wheel.add(a, 1000ms);
  wheel.add(*b, 1000ms);
  wheel.add(c, 1000ms);
  b.reset();  // the middle node: its neighbours must now point to each other
  EXPECT_EQ(wheel.size(), 2u);
  tick_n(wheel, 2);
  EXPECT_EQ(order, "ac");
}

TEST(TimeWheel, DestroyingTheWheelDisarmsItsTimers) {
  Timer t([] {});
  {
    TimeWheel wheel(8, 1000ms);
    wheel.add(t, 3000ms);
    EXPECT_TRUE(t.armed());
  }
  EXPECT_FALSE(t.armed());  // and t's destructor will not touch the dead wheel
}

TEST(TimeWheel, TimerArmedInAnotherWheelIsRejected) {
  TimeWheel first(8, 1000ms);
  TimeWheel second(8, 1000ms);
  Timer t([] {});
  first.add(t, 1000ms);
  EXPECT_THROW(second.remove(t), std::logic_error);
  EXPECT_THROW(second.add(t, 1000ms), std::logic_error);
  EXPECT_EQ(first.size(), 1u);
  EXPECT_EQ(second.size(), 0u);
}

// The reference model: timer index -> the tick on which it must fire. Random operations on both,
// compared after every step. A fixed seed makes a failure reproducible.
/** A clock the test moves by hand, for a wheel made with it. */
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  TimeWheel::Clock function() {
    return [this] { return now; };
  }
};

// The wheel follows the clock, not the number of alarms: one advance() after a long gap makes
// every tick that was due, so a stopped worker meets its deadlines as soon as it runs again.
TEST(ClockedWheel, AdvanceMakesOneTickPerIntervalOfTheClock) {
  FakeClock clock;
  TimeWheel wheel(8, 1s, clock.function());
  int fired = 0;
  Timer timer([&] { ++fired; });
  wheel.add(timer, 2s);  // tick 3, due at 3 s
  clock.now += 2999ms;
  EXPECT_EQ(wheel.advance(), 2u);
  EXPECT_EQ(fired, 0) << "early";
  clock.now += 1ms;
  EXPECT_EQ(wheel.advance(), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(wheel.advance(), 0u) << "no time passed, no tick";
}

TEST(ClockedWheel, AGapOfManyIntervalsIsCaughtUpAtOnce) {
  FakeClock clock;
  TimeWheel wheel(8, 1s, clock.function());
  int fired = 0;
  Timer a([&] { ++fired; });
  Timer b([&] { ++fired; });
  wheel.add(a, 2s);
  wheel.add(b, 30s);  // several turns of an 8-slot wheel
  clock.now += 25s;   // a stopped worker, continued
  EXPECT_EQ(wheel.advance(), 25u);
  EXPECT_EQ(fired, 1);
  clock.now += 6s;
  wheel.advance();
  EXPECT_EQ(fired, 2);
}

// The book's wheel counts from the ticks it has made: a timer added while the wheel lags
// behind the clock (alarms merged, a long turn) would fire early by the lag.
TEST(ClockedWheel, AnAddWhileTheWheelLagsIsNeverEarly) {
  FakeClock clock;
  TimeWheel wheel(8, 1s, clock.function());
  int fired = 0;
  Timer timer([&] { ++fired; });
  clock.now += 5500ms;   // five ticks due, none made yet
  wheel.add(timer, 2s);  // deadline: 7.5 s
  clock.now += 1999ms;
  wheel.advance();
  EXPECT_EQ(fired, 0) << "fired before its deadline";
  clock.now += 1s;  // 8.5 s: at most one interval late
  wheel.advance();
  EXPECT_EQ(fired, 1);
}

// Random adds, refreshes and clock steps: every timer fires at or after its deadline, and by the
// first advance() one interval after it (timeouts are whole intervals here).
TEST(ClockedWheel, RandomStepsNeverEarlyAtMostOneIntervalLate) {
  FakeClock clock;
  TimeWheel wheel(16, 100ms, clock.function());
  std::mt19937 random(12345);
  struct Armed {
    std::unique_ptr<Timer> timer;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;
  };
  std::vector<Armed> timers(50);
  bool last_step = false;  // the final jump of 10 s fires what is left, late by design
  for (auto& armed : timers)
    armed.timer = std::make_unique<Timer>([&armed, &clock, &last_step] {
      EXPECT_GE(clock.now, armed.deadline) << "early";
      if (!last_step) {
        EXPECT_LE(clock.now, armed.deadline + 100ms + 349ms) << "late";  // + one clock step
      }
      armed.fired = true;
    });
  for (int step = 0; step < 5000; ++step) {
    Armed& armed = timers[random() % timers.size()];
    const milliseconds timeout(100 * (1 + random() % 40));  // whole intervals, at least one
    armed.deadline = clock.now + timeout;
    armed.fired = false;
    wheel.add(*armed.timer, timeout);
    clock.now += milliseconds(random() % 350);
    wheel.advance();
  }
  last_step = true;
  clock.now += 10s;
  wheel.advance();
  for (const auto& armed : timers) EXPECT_TRUE(armed.fired);
}

TEST(TimeWheel, RandomOperationsMatchAReferenceModel) {
  constexpr int kTimers = 200;
  constexpr std::int64_t kInterval = 10;  // ms
  TimeWheel wheel(16, milliseconds(kInterval));
  std::map<int, std::uint64_t> due;  // the model
  std::uint64_t now = 0;
  std::vector<int> fired;
  std::array<std::optional<Timer>, kTimers> timers;
  for (int i = 0; i < kTimers; ++i) timers[i].emplace([&fired, i] { fired.push_back(i); });

  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> pick_op(0, 99);
  std::uniform_int_distribution<int> pick_timer(0, kTimers - 1);
  std::uniform_int_distribution<std::int64_t> pick_timeout(-20, 700);  // up to 4+ turns
  for (int step = 0; step < 20000; ++step) {
    const int op = pick_op(rng);
    const int i = pick_timer(rng);
    if (op < 40) {  // add or refresh
      const std::int64_t t = pick_timeout(rng);
      wheel.add(*timers[i], milliseconds(t));
      due[i] = now + (t <= kInterval ? 2 : (t + kInterval - 1) / kInterval + 1);
    } else if (op < 55) {
      wheel.remove(*timers[i]);
      due.erase(i);
    } else if (op < 60) {  // destroy and rebuild: the destructor path
      timers[i].reset();
      timers[i].emplace([&fired, i] { fired.push_back(i); });
      due.erase(i);
    } else {
      ++now;
      fired.clear();
      wheel.tick();
      std::vector<int> expected;
      for (auto it = due.begin(); it != due.end();) {
        if (it->second == now) {
          expected.push_back(it->first);
          it = due.erase(it);
        } else {
          ++it;
        }
      }
      std::sort(fired.begin(), fired.end());
      ASSERT_EQ(fired, expected) << "at tick " << now << ", step " << step;
    }
    ASSERT_EQ(wheel.size(), due.size()) << "step " << step;
    for (int k = 0; k < kTimers; ++k) ASSERT_EQ(timers[k]->armed(), due.count(k) == 1);
  }
}

}  // namespace
