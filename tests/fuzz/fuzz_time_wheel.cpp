/**
 * @file fuzz_time_wheel.cpp
 * libFuzzer target: decodes the input as operations (add or refresh, remove, tick, destroy,
 * set what a callback does) on 16 timers of one TimeWheel and checks every step against a
 * reference model; any mismatch aborts. Callbacks themselves add, remove and destroy timers, so
 * the re-entrancy of tick() is fuzzed too. Pure: no clock, no sockets.
 *
 * Input: byte 0 -> slot count 1..8, byte 1 -> interval 1..10 ms, byte 2 -> whether the wheel dies
 * before its timers at the end, then one op byte each
 * (kind = byte % 8, timer = byte / 8 % 16) followed by the argument bytes that kind needs.
 */
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "time_wheel.h"

namespace {

constexpr int kTimers = 16;

/** What a timer's callback does to the wheel when it fires; set by the input. */
enum class Action { kNothing, kReAddSelf, kRemoveOther, kAddOther, kDestroySelf, kDestroyOther };

/** Stops the fuzzer with a message: the wheel and the model disagree. */
[[noreturn]] void mismatch(const char* what, int timer) {
  std::fprintf(stderr, "time wheel mismatch: %s (timer %d)\n", what, timer);
  std::abort();
}

/** The input, read one byte at a time; 0 once it is used up. */
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ == size_; }
  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/** One run: a wheel, its timers and the model they are checked against. */
class Harness {
 public:
  Harness(std::size_t slots, std::int64_t interval_ms)
      : interval_ms_(interval_ms),
        wheel_(std::in_place, slots, std::chrono::milliseconds(interval_ms)) {
    for (int i = 0; i < kTimers; ++i) build(i);
  }

  /** Decodes and runs one operation. */
  void step(Input& in) {
    const std::uint8_t op = in.next();
    const int i = op / 8 % kTimers;
    switch (op % 8) {
      case 0:
      case 1:
        add(i, small_timeout(in.next()));
        break;
      case 2:
        wheel_->remove(*timers_[i]);
        due_[i].reset();
        break;
      case 3:
      case 4:
        for (int n = in.next() % 16 + 1; n > 0; --n) tick();
        break;
      case 5:
        action_[i] = static_cast<Action>(in.next() % 6);
        target_[i] = in.next() % kTimers;
        timeout_[i] = small_timeout(in.next());
        break;
      case 6:
        destroy(i);
        break;
      default: {
        const int high = in.next();  // two statements: the order of reads is fixed
        const int low = in.next();
        add(i, (high << 8 | low) - 100);  // long: many turns of the wheel
        break;
      }
    }
    check();
  }

  /** Ends the run, destroying the wheel before its timers when @p wheel_first. */
  void finish(bool wheel_first) {
    if (!wheel_first) return;
    wheel_.reset();
    for (auto& t : timers_) {
      if (t->armed()) mismatch("armed after its wheel died", 0);
    }
  }

 private:
  static std::int64_t small_timeout(std::uint8_t b) { return std::int64_t{b} * 3 - 20; }

  /** The model's rule: fire on tick max(1, ceil(T / I)) + 1, counting the next tick as 1. */
  std::uint64_t expected_ticks(std::int64_t ms) const {
    if (ms <= interval_ms_) return 2;
    return static_cast<std::uint64_t>((ms + interval_ms_ - 1) / interval_ms_) + 1;
  }

  void build(int i) {
    timers_[i].emplace([this, i] { fire(i); });
  }

  void add(int i, std::int64_t ms) {
    wheel_->add(*timers_[i], std::chrono::milliseconds(ms));
    due_[i] = now_ + expected_ticks(ms);
  }

  void destroy(int i) {
    timers_[i].reset();  // the destructor of an armed timer unlinks it
    due_[i].reset();
    build(i);
  }

  void tick() {
    ++now_;
    wheel_->tick();
    for (int i = 0; i < kTimers; ++i) {
      if (due_[i] && *due_[i] <= now_) mismatch("due timer did not fire", i);
    }
  }

  /** Runs inside wheel_->tick(): checks that @p i is due now, then does its action. */
  void fire(int i) {
    if (!due_[i] || *due_[i] != now_) mismatch("fired when not due", i);
    if (timers_[i]->armed()) mismatch("armed inside its own callback", i);
    due_[i].reset();
    const int j = target_[i];
    switch (action_[i]) {
      case Action::kNothing:
        break;
      case Action::kReAddSelf:
        add(i, timeout_[i]);
        break;
      case Action::kRemoveOther:
        wheel_->remove(*timers_[j]);
        due_[j].reset();
        break;
      case Action::kAddOther:
        add(j, timeout_[i]);
        break;
      case Action::kDestroySelf:
        destroy(i);  // destroys the Timer (and the callback) that is running now
        break;
      case Action::kDestroyOther:
        destroy(j);
        break;
    }
    check();
  }

  /** The wheel and the model agree on which timers are armed. */
  void check() const {
    std::size_t armed = 0;
    for (int i = 0; i < kTimers; ++i) {
      if (timers_[i]->armed() != due_[i].has_value()) mismatch("armed() differs", i);
      armed += due_[i].has_value() ? 1 : 0;
    }
    if (wheel_->size() != armed) mismatch("size() differs", -1);
  }

  std::int64_t interval_ms_;
  std::uint64_t now_ = 0;
  std::optional<TimeWheel> wheel_;
  std::array<std::optional<Timer>, kTimers> timers_;
  std::array<std::optional<std::uint64_t>, kTimers> due_{};  // the model: tick it fires on
  std::array<Action, kTimers> action_{};
  std::array<int, kTimers> target_{};
  std::array<std::int64_t, kTimers> timeout_{};
};

}  // namespace

/** libFuzzer entry point: one input, one run. */
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Input in(data, size);
  const std::size_t slots = in.next() % 8 + 1;
  const std::int64_t interval_ms = in.next() % 10 + 1;
  const bool wheel_first = in.next() & 1;
  Harness harness(slots, interval_ms);
  while (!in.empty()) harness.step(in);
  harness.finish(wheel_first);
  return 0;
}
