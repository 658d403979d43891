/**
 * @file timer_bench.cpp
 * Google Benchmark: add, remove, refresh (re-arm) and tick of TimeWheel against the sorted list
 * of the book (bench/lst_timer.h) and a min-heap with handles (bench/heap_timer.h), each
 * prefilled with n = 1k, 10k, 100k and 1M timers. Pure user-space code: no signals, no sockets.
 *
 * How to read it: the Time column is nanoseconds per ONE operation (per tick for "tick"). Each
 * benchmark iteration times a batch of operations with a steady clock, then undoes them untimed
 * so the structure stays at n timers, and reports batch time / batch size (UseManualTime). The
 * CPU column therefore includes the untimed setup and means nothing here. Iteration counts are
 * fixed per structure and size, so the O(n) list stays within the time budget.
 *
 * Workload: every timer expires 2..61 ticks from now (uniform), as on a 60 x 1 s wheel; a tick
 * fires about n/60 timers, which are re-armed 61 ticks ahead (untimed). All three structures use
 * the same std::function callback, so only the data structure differs.
 */
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench/heap_timer.h"
#include "bench/lst_timer.h"
#include "time_wheel.h"

namespace {

constexpr int kMinTicks = 2;
constexpr int kMaxTicks = 61;

/** TimeWheel, 60 slots x 1 s; a timeout of (ticks - 1) s fires on tick `ticks`. */
class WheelTimers {
 public:
  explicit WheelTimers(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) timers_.emplace_back([this, i] { fired.push_back(i); });
  }
  void add(std::size_t i, int ticks) { wheel_.add(timers_[i], std::chrono::seconds(ticks - 1)); }
  void remove(std::size_t i) { wheel_.remove(timers_[i]); }
  void refresh(std::size_t i, int ticks) { add(i, ticks); }
  void tick() { wheel_.tick(); }
  /** Adds timers @p ids with @p ticks each (untimed setup). */
  void add_many(const std::vector<std::size_t>& ids, const std::vector<int>& ticks) {
    for (std::size_t k = 0; k < ids.size(); ++k) add(ids[k], ticks[k]);
  }
  std::vector<std::size_t> fired;  ///< ids fired since the caller last cleared it

 private:
  TimeWheel wheel_{60, std::chrono::seconds(1)};
  std::deque<Timer> timers_;  // a deque never moves its elements
};

/** The book's sorted list; time is a tick counter. */
class ListTimers {
 public:
  explicit ListTimers(std::size_t count) : timers_(count) {
    for (std::size_t i = 0; i < count; ++i) timers_[i].cb_func = [this, i] { fired.push_back(i); };
  }
  void add(std::size_t i, int ticks) {
    timers_[i].expire = now_ + ticks;
    list_.add_timer(&timers_[i]);
  }
  void remove(std::size_t i) { list_.del_timer(&timers_[i]); }
  void refresh(std::size_t i, int ticks) { list_.adjust_timer(&timers_[i], now_ + ticks); }
  void tick() { list_.tick(++now_); }
  /** One walk for all of them: building 1M timers one add_timer at a time would be O(n^2). */
  void add_many(const std::vector<std::size_t>& ids, const std::vector<int>& ticks) {
    std::vector<util_timer*> batch;
    for (std::size_t k = 0; k < ids.size(); ++k) {
      timers_[ids[k]].expire = now_ + ticks[k];
      batch.push_back(&timers_[ids[k]]);
    }
    list_.add_timers(std::move(batch));
  }
  std::vector<std::size_t> fired;

 private:
  sort_timer_lst list_;
  std::vector<util_timer> timers_;
  long now_ = 0;
};

/** The min-heap with handles; time is a tick counter. */
class HeapTimers {
 public:
  explicit HeapTimers(std::size_t count) : timers_(count) {
    for (std::size_t i = 0; i < count; ++i) timers_[i].cb_func = [this, i] { fired.push_back(i); };
  }
  void add(std::size_t i, int ticks) {
    timers_[i].expire = now_ + ticks;
    heap_.add_timer(&timers_[i]);
  }
  void remove(std::size_t i) { heap_.del_timer(&timers_[i]); }
  void refresh(std::size_t i, int ticks) { heap_.adjust_timer(&timers_[i], now_ + ticks); }
  void tick() { heap_.tick(++now_); }
  void add_many(const std::vector<std::size_t>& ids, const std::vector<int>& ticks) {
    for (std::size_t k = 0; k < ids.size(); ++k) add(ids[k], ticks[k]);
  }
  std::vector<std::size_t> fired;

 private:
  time_heap heap_;
  std::vector<heap_timer> timers_;
  long now_ = 0;
};

using Clock = std::chrono::steady_clock;

/** Random expiries and ids for the workload; fixed seed, generated outside the timed part. */
class Workload {
 public:
  /** Ids will be drawn below @p n. */
  explicit Workload(std::size_t n) : ids_(n), next_(n) { std::iota(ids_.begin(), ids_.end(), 0); }

  /** @p count expiries, 2..61 ticks from now. */
  std::vector<int> ticks(std::size_t count) {
    std::uniform_int_distribution<int> pick(kMinTicks, kMaxTicks);
    std::vector<int> result(count);
    for (int& t : result) t = pick(rng_);
    return result;
  }

  /** @p count distinct random ids (count <= n): the next window of a shuffled permutation. */
  std::vector<std::size_t> distinct_ids(std::size_t count) {
    if (next_ + count > ids_.size()) {
      std::shuffle(ids_.begin(), ids_.end(), rng_);
      next_ = 0;
    }
    next_ += count;
    return {ids_.begin() + (next_ - count), ids_.begin() + next_};
  }

 private:
  std::mt19937_64 rng_{42};
  std::vector<std::size_t> ids_;
  std::size_t next_;
};

/** 0, 1, ..., n - 1. */
std::vector<std::size_t> first_ids(std::size_t n) {
  std::vector<std::size_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  return ids;
}

/** Reports the time of one operation: @p start to now, divided by @p ops. */
void report(benchmark::State& state, Clock::time_point start, std::size_t ops) {
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  state.SetIterationTime(elapsed.count() / static_cast<double>(ops));
}

template <class Timers>
void bm_add(benchmark::State& state, std::size_t n, std::size_t batch) {
  Timers timers(n + batch);
  Workload work(n);
  timers.add_many(first_ids(n), work.ticks(n));
  for (auto _ : state) {
    const std::vector<int> ticks = work.ticks(batch);
    const auto start = Clock::now();
    for (std::size_t k = 0; k < batch; ++k) timers.add(n + k, ticks[k]);
    report(state, start, batch);
    for (std::size_t k = 0; k < batch; ++k) timers.remove(n + k);
  }
}

template <class Timers>
void bm_remove(benchmark::State& state, std::size_t n, std::size_t batch) {
  Timers timers(n);
  Workload work(n);
  timers.add_many(first_ids(n), work.ticks(n));
  for (auto _ : state) {
    const std::vector<std::size_t> ids = work.distinct_ids(batch);
    const auto start = Clock::now();
    for (std::size_t id : ids) timers.remove(id);
    report(state, start, batch);
    timers.add_many(ids, work.ticks(batch));
  }
}

template <class Timers>
void bm_refresh(benchmark::State& state, std::size_t n, std::size_t batch) {
  Timers timers(n);
  Workload work(n);
  timers.add_many(first_ids(n), work.ticks(n));
  for (auto _ : state) {
    const std::vector<std::size_t> ids = work.distinct_ids(batch);
    const std::vector<int> ticks = work.ticks(batch);
    const auto start = Clock::now();
    for (std::size_t k = 0; k < batch; ++k) timers.refresh(ids[k], ticks[k]);
    report(state, start, batch);
  }
}

template <class Timers>
void bm_tick(benchmark::State& state, std::size_t n, std::size_t /*batch*/) {
  Timers timers(n);
  Workload work(n);
  timers.add_many(first_ids(n), work.ticks(n));
  std::size_t fired = 0;
  for (auto _ : state) {
    timers.fired.clear();
    const auto start = Clock::now();
    timers.tick();
    report(state, start, 1);
    fired += timers.fired.size();
    timers.add_many(timers.fired, std::vector<int>(timers.fired.size(), kMaxTicks));
  }
  state.counters["fired/tick"] =
      static_cast<double>(fired) / static_cast<double>(state.iterations());
}

/** Batch size and number of batches: enough samples, bounded run time for the O(n) list. */
struct Plan {
  std::size_t batch;
  benchmark::IterationCount batches;
};

enum class Op { kAdd, kRemove, kRefresh, kTick };

Plan plan_for(Op op, bool linear, std::size_t n) {
  if (op == Op::kTick) return {1, n >= 1000000 ? 30 : 120};  // one tick per iteration
  const std::size_t batch = std::min<std::size_t>(1000, n / 10);
  if (!linear) return {batch, static_cast<benchmark::IterationCount>(2000000 / batch)};
  if (op == Op::kRemove) return {batch, n <= 1000 ? 200 : 20};  // each batch undone by an O(n) walk
  // List add and refresh walk about n/2 nodes per call.
  if (n <= 1000) return {100, 2000};
  if (n <= 10000) return {100, 200};
  if (n <= 100000) return {10, 100};
  return {2, 20};
}

/** The benchmark function of @p op for the structure @p Timers. */
template <class Timers>
auto function_for(Op op) {
  switch (op) {
    case Op::kAdd:
      return bm_add<Timers>;
    case Op::kRemove:
      return bm_remove<Timers>;
    case Op::kRefresh:
      return bm_refresh<Timers>;
    case Op::kTick:
      break;
  }
  return bm_tick<Timers>;
}

/** Registers one benchmark "op/structure/n". */
template <class Timers>
void register_one(Op op, const char* op_name, const char* structure, bool linear, std::size_t n) {
  const Plan plan = plan_for(op, linear, n);
  const std::string name = std::string(op_name) + "/" + structure + "/" + std::to_string(n);
  benchmark::RegisterBenchmark(name.c_str(), function_for<Timers>(op), n, plan.batch)
      ->UseManualTime()
      ->Iterations(plan.batches)
      ->Unit(benchmark::kNanosecond);
}

/**
 * Runs the same random operations on the three structures and aborts unless every tick fires the
 * same timers: the comparison is only fair between correct structures.
 */
void check_structures_agree() {
  constexpr std::size_t kCount = 500;
  WheelTimers wheel(kCount);
  ListTimers list(kCount);
  HeapTimers heap(kCount);
  std::vector<bool> armed(kCount);
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> pick_id(0, kCount - 1);
  std::uniform_int_distribution<int> pick_ticks(kMinTicks, kMaxTicks + 70);  // rotations too
  for (int step = 0; step < 50000; ++step) {
    const std::size_t id = pick_id(rng);
    const int ticks = pick_ticks(rng);
    switch (rng() % 4) {
      case 0:
        if (armed[id]) break;
        wheel.add(id, ticks);
        list.add(id, ticks);
        heap.add(id, ticks);
        armed[id] = true;
        break;
      case 1:
        if (!armed[id]) break;
        wheel.remove(id);
        list.remove(id);
        heap.remove(id);
        armed[id] = false;
        break;
      case 2:
        if (!armed[id]) break;
        wheel.refresh(id, ticks);
        list.refresh(id, ticks);
        heap.refresh(id, ticks);
        break;
      default:
        for (auto* fired : {&wheel.fired, &list.fired, &heap.fired}) fired->clear();
        wheel.tick();
        list.tick();
        heap.tick();
        for (auto* fired : {&wheel.fired, &list.fired, &heap.fired}) {
          std::sort(fired->begin(), fired->end());
        }
        if (wheel.fired != list.fired || wheel.fired != heap.fired) {
          std::fprintf(stderr, "timer_bench: the structures disagree at step %d\n", step);
          std::abort();
        }
        for (std::size_t fired_id : wheel.fired) armed[fired_id] = false;
    }
  }
}

}  // namespace

/** Checks the three structures against each other, then runs every benchmark. */
int main(int argc, char** argv) {
  check_structures_agree();
  const std::pair<Op, const char*> ops[] = {
      {Op::kAdd, "add"}, {Op::kRemove, "remove"}, {Op::kRefresh, "refresh"}, {Op::kTick, "tick"}};
  for (const auto& [op, op_name] : ops) {
    for (std::size_t n : {1000, 10000, 100000, 1000000}) {
      register_one<WheelTimers>(op, op_name, "wheel", false, n);
      register_one<HeapTimers>(op, op_name, "heap", false, n);
      register_one<ListTimers>(op, op_name, "list", true, n);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
