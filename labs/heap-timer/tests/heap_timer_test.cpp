/**
 * @file heap_timer_test.cpp
 * The grader of lab heap-timer (labs/heap-timer/README.md): the worker's timers as a min-heap,
 * under the wheel's name and interface. Compiled against the student's copy: every test drives
 * its TimeWheel (the heap) and Timer. With a clock, deadlines are exact: a timer fires on the
 * first advance() at or after now + timeout, earliest deadline first, equal deadlines in the
 * order they were armed. Without a clock, tick() is one interval and a timeout counts from the
 * next tick, as on the wheel. Pure: no sockets; a fake clock the tests move by hand.
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "time_wheel.h"

namespace {

using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using namespace std::chrono_literals;

/** A clock the test moves by hand, for a heap made with it. */
struct FakeClock {
  TimePoint now{};
  TimeWheel::Clock function() {
    return [this] { return now; };
  }
};

/** A connection that owns its timer, as in the server. */
struct Conn {
  explicit Conn(std::function<void()> on_idle) : timer(std::move(on_idle)) {}
  Timer timer;
};

/** A heap on a fake clock, and timers that record their names in the order they fire. */
class HeapTimer : public ::testing::Test {
 protected:
  /** A new timer called @p name; the fixture owns it. */
  Timer& make(char name) {
    timers_.push_back(std::make_unique<Timer>([this, name] { order += name; }));
    return *timers_.back();
  }

  // For the tests that destroy timers: in place, so a heap that still holds a destroyed timer
  // fails the test instead of crashing the grader. Declared first: they outlive the heap.
  std::array<std::optional<Timer>, 10> in_place;
  std::array<std::optional<Conn>, 4> conns;
  FakeClock clock;
  TimeWheel heap{64, 1000ms, clock.function()};
  std::string order;  // names of the timers in the order they fired

 private:
  std::vector<std::unique_ptr<Timer>> timers_;
};

// Exact: due at now + T to the millisecond, wherever now falls inside the 1 s interval. The wheel
// rounds up to its slots and fires up to a second later.
TEST_F(HeapTimer, FiresAtItsExactDeadlineNeverEarlier) {
  for (milliseconds timeout : {1ms, 20ms, 999ms, 1000ms, 1500ms, 2999ms, 61001ms}) {
    clock.now += 1234ms;  // anywhere in an interval
    heap.advance();
    const std::size_t before = order.size();
    heap.add(make('x'), timeout);
    clock.now += timeout - 1ms;
    heap.advance();
    EXPECT_EQ(order.size(), before) << timeout.count() << " ms: fired 1 ms early";
    clock.now += 1ms;
    heap.advance();
    EXPECT_EQ(order.size(), before + 1) << timeout.count() << " ms: not fired at its deadline";
  }
  EXPECT_EQ(heap.size(), 0u);
}

TEST_F(HeapTimer, FiresInDeadlineOrderThenInArmingOrder) {
  const std::pair<char, milliseconds> timers[] = {{'a', 300ms}, {'b', 100ms}, {'c', 200ms},
                                                  {'d', 100ms}, {'e', 300ms}, {'f', 150ms}};
  for (const auto& [name, timeout] : timers) heap.add(make(name), timeout);
  clock.now += 1s;  // all due at once: one advance() must still fire them in deadline order
  heap.advance();
  EXPECT_EQ(order, "bdfcae");
}

// A refresh is a new deadline in the same heap: later (the entry sinks) or earlier (it rises).
TEST_F(HeapTimer, RefreshMovesTheDeadlineLaterOrEarlier) {
  std::vector<Timer*> timers;
  for (int i = 0; i < 15; ++i) {  // 'a' due at 100 ms ... 'o' at 1500 ms
    timers.push_back(&make(static_cast<char>('a' + i)));
    heap.add(*timers.back(), milliseconds(100 * (i + 1)));
  }
  clock.now += 10ms;
  heap.add(*timers[14], 40ms);    // 'o': from last to first (50 ms)
  heap.add(*timers[0], 2000ms);   // 'a': from first to last (2010 ms)
  heap.add(*timers[7], 1000ms);   // 'h': from 800 ms to 1010 ms, after 'j'
  EXPECT_EQ(heap.size(), 15u) << "a refresh must not add a second entry";
  clock.now = TimePoint{} + 50ms;
  heap.advance();
  EXPECT_EQ(order, "o");
  clock.now = TimePoint{} + 2009ms;
  heap.advance();
  EXPECT_EQ(order, "obcdefgijhklmn");
  EXPECT_TRUE(timers[0]->armed());
  clock.now += 1ms;
  heap.advance();
  EXPECT_EQ(order, "obcdefgijhklmna");
}

TEST_F(HeapTimer, RemoveFromTheMiddleKeepsTheOrderOfTheRest) {
  std::vector<int> deadlines(31);
  std::iota(deadlines.begin(), deadlines.end(), 1);
  std::shuffle(deadlines.begin(), deadlines.end(), std::mt19937(5));
  std::vector<Timer*> timers;
  std::map<int, char> expected;  // deadline -> name of the timers not removed
  std::vector<int> removed;      // every third timer, and the earliest (the root)
  for (int i = 0; i < 31; ++i) {
    const char name = static_cast<char>('A' + i);
    timers.push_back(&make(name));
    heap.add(*timers.back(), milliseconds(10 * deadlines[i]));
    if (i % 3 == 1 || deadlines[i] == 1) {
      removed.push_back(i);
    } else {
      expected[deadlines[i]] = name;
    }
  }
  for (int i : removed) {
    heap.remove(*timers[i]);
    EXPECT_FALSE(timers[i]->armed());
    heap.remove(*timers[i]);  // twice is harmless
  }
  EXPECT_EQ(heap.size(), expected.size());
  clock.now += 1s;
  heap.advance();
  std::string want;
  for (const auto& entry : expected) want += entry.second;
  EXPECT_EQ(order, want);
  EXPECT_EQ(heap.size(), 0u);
}

TEST_F(HeapTimer, DestroyingAnArmedTimerUnlinksIt) {
  for (int i = 0; i < 10; ++i) {
    const char name = static_cast<char>('a' + i);
    in_place[i].emplace([this, name] { order += name; });
    heap.add(*in_place[i], milliseconds(100 * (10 - i)));  // 'j' first, 'a' last
  }
  for (int i : {4, 0, 9, 6}) {
    const std::size_t before = heap.size();
    in_place[i].reset();
    EXPECT_EQ(heap.size(), before - 1) << "timer " << i << " is still in the heap";
  }
  clock.now += 2s;
  heap.advance();
  EXPECT_EQ(order, "ihfdcb");
}

TEST_F(HeapTimer, ACallbackThatDestroysAnotherDueTimerStopsItFiring) {
  const milliseconds timeouts[] = {100ms, 100ms, 200ms, 150ms};
  for (int id = 0; id < 4; ++id) {
    conns[id].emplace([this, id] {
      order += static_cast<char>('0' + id);
      conns[id].reset();              // destroys the Timer whose callback is running
      if (id == 0) conns[1].reset();  // and the armed, due timer of connection 1
      if (id == 3) conns[2].reset();  // and that of connection 2, due after it
    });
    heap.add(conns[id]->timer, timeouts[id]);
  }
  clock.now += 1s;
  heap.advance();
  EXPECT_EQ(order, "03");
  for (const auto& conn : conns) EXPECT_FALSE(conn.has_value());
  EXPECT_EQ(heap.size(), 0u);
}

// Every deadline a callback sets lies after the time being processed, or a callback that re-arms
// with 0 would fire again and again inside one advance(). The counter bounds the test, not the
// heap: a heap that loops fires 1000 times.
TEST_F(HeapTimer, ATimerArmedByACallbackIsNotDueInTheSameAdvance) {
  int self = 0;
  int other = 0;
  Timer b([&] { ++other; });
  std::optional<Timer> a;
  a.emplace([&] {
    if (++self < 1000) heap.add(*a, 0ms);
    if (self == 1) heap.add(b, -5ms);  // b is due in this advance too: pushed back instead
  });
  heap.add(*a, 100ms);
  heap.add(b, 100ms);
  clock.now += 100ms;
  heap.advance();
  EXPECT_EQ(self, 1);
  EXPECT_EQ(other, 0);
  EXPECT_TRUE(a->armed());
  EXPECT_TRUE(b.armed());
  EXPECT_EQ(heap.size(), 2u);
  clock.now += 1ms;
  heap.advance();
  EXPECT_EQ(self, 2);
  EXPECT_EQ(other, 1);
}

/**
 * Adds one timer with @p timeout to an unclocked @p heap and returns the tick on which it fires,
 * counting the next tick as 1; 0 if it has not fired after @p max_ticks.
 */
int firing_tick(TimeWheel& heap, milliseconds timeout, int max_ticks) {
  int now = 0;
  int fired_at = 0;
  Timer timer([&] { fired_at = now; });
  heap.add(timer, timeout);
  while (fired_at == 0 && now < max_ticks) {
    ++now;
    heap.tick();
  }
  return fired_at;
}

// Without a clock the heap knows the time only to an interval, so a timeout counts from the next
// tick (never early), and fires on tick ceil(T / I) + 1 as on the wheel: timer_bench.cpp checks
// its structures against each other on that rule. Inside a tick, the deadlines still set the
// order.
TEST_F(HeapTimer, WithoutAClockATimeoutCountsFromTheNextTick) {
  const std::pair<milliseconds, int> cases[] = {{1ms, 2},     {1000ms, 2},   {1001ms, 3},
                                                {2000ms, 3},  {2500ms, 4},   {59000ms, 60},
                                                {60000ms, 61}, {60001ms, 62}};
  for (const auto& [timeout, tick] : cases) {
    TimeWheel ticked(64, 1000ms);
    EXPECT_EQ(firing_tick(ticked, timeout, 100), tick) << timeout.count() << " ms";
  }
  TimeWheel ticked(64, 1000ms);
  ticked.add(make('a'), 2500ms);  // both on tick 4; b's deadline is earlier
  ticked.add(make('b'), 2100ms);
  for (int i = 0; i < 3; ++i) ticked.tick();
  EXPECT_EQ(order, "");
  ticked.tick();
  EXPECT_EQ(order, "ba");
}

// The reference model: a std::multimap from deadline to timer, whose equal keys stay in the order
// they were inserted, as equal deadlines must fire. Random adds, refreshes, removes, destructions
// and clock steps on both; the timers fired by each advance() compared in order, and the armed
// set after every step. A fixed seed makes a failure reproducible.
TEST_F(HeapTimer, RandomOperationsMatchAMultimapModel) {
  constexpr int kTimers = 100;
  using Model = std::multimap<TimePoint, int>;
  Model model;
  std::array<std::optional<Model::iterator>, kTimers> entry;  // each armed timer's place in it
  std::vector<int> fired;
  std::array<std::optional<Timer>, kTimers> timers;
  for (int i = 0; i < kTimers; ++i) timers[i].emplace([&fired, i] { fired.push_back(i); });
  const auto disarm = [&](int i) {
    if (entry[i]) model.erase(*entry[i]);
    entry[i].reset();
  };

  std::mt19937 rng(20240917);
  std::uniform_int_distribution<int> pick_op(0, 99);
  std::uniform_int_distribution<int> pick_timer(0, kTimers - 1);
  std::uniform_int_distribution<int> pick_tens(1, 30);  // timeouts of 10..300 ms: many ties
  std::uniform_int_distribution<int> pick_step(0, 40);
  for (int step = 0; step < 10000; ++step) {
    const int op = pick_op(rng);
    const int i = pick_timer(rng);
    if (op < 45) {  // add or refresh
      const milliseconds timeout(10 * pick_tens(rng));
      heap.add(*timers[i], timeout);
      disarm(i);
      entry[i] = model.emplace(clock.now + timeout, i);
    } else if (op < 60) {
      heap.remove(*timers[i]);
      disarm(i);
    } else if (op < 65) {  // destroy and rebuild: the destructor path
      timers[i].reset();
      timers[i].emplace([&fired, i] { fired.push_back(i); });
      disarm(i);
    } else {
      clock.now += milliseconds(pick_step(rng));
      fired.clear();
      heap.advance();
      std::vector<int> expected;
      while (!model.empty() && model.begin()->first <= clock.now) {
        expected.push_back(model.begin()->second);
        disarm(model.begin()->second);
      }
      ASSERT_EQ(fired, expected) << "step " << step;
    }
    ASSERT_EQ(heap.size(), model.size()) << "step " << step;
    for (int k = 0; k < kTimers; ++k) ASSERT_EQ(timers[k]->armed(), entry[k].has_value());
  }
}

}  // namespace
