/**
 * @file time_wheel.cpp
 * The time wheel: slot arithmetic, two list operations, and a tick() that callbacks cannot break.
 */
#include "time_wheel.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

Timer::Timer(std::function<void()> on_expire)
    : prev_(this), next_(this), on_expire_(std::move(on_expire)) {}

Timer::~Timer() {
  if (armed()) wheel_->remove(*this);
}

bool Timer::armed() const { return wheel_ != nullptr; }

TimeWheel::TimeWheel(std::size_t slot_count, std::chrono::milliseconds interval, Clock clock)
    : interval_(interval),
      clock_(std::move(clock)),
      origin_(clock_ ? clock_() : std::chrono::steady_clock::time_point()) {
  if (slot_count == 0) throw std::invalid_argument("TimeWheel: slot_count must be at least 1");
  if (interval.count() <= 0) throw std::invalid_argument("TimeWheel: interval must be > 0");
  slots_.reserve(slot_count);
  for (std::size_t i = 0; i < slot_count; ++i) slots_.push_back(std::make_unique<Timer>(nullptr));
}

TimeWheel::~TimeWheel() {
  for (auto& sentinel : slots_) {
    while (sentinel->next_ != sentinel.get()) {
      Timer& t = *sentinel->next_;
      unlink(t);
      t.wheel_ = nullptr;
    }
  }
}

// Tick k comes (k-1)*I + d after add(), where 0 < d <= I is the wait for the next tick. Never
// early needs (k-1)*I >= T: k = ceil(T/I) + 1, at least 2, at most one interval late (the proof,
// and the book's early rule: notes/05-timer-wheel.md).
std::uint64_t TimeWheel::ticks_until_expiry(std::chrono::milliseconds timeout) const {
  if (timeout <= interval_) return 2;
  const auto whole = static_cast<std::uint64_t>(timeout / interval_);  // both > 0 here
  const bool part = (timeout % interval_).count() != 0;
  return whole + (part ? 1 : 0) + 1;
}

std::uint64_t TimeWheel::current_tick() const {
  if (!clock_) return ticks_;
  const auto elapsed = clock_() - origin_;
  const auto by_clock = elapsed.count() > 0 ? static_cast<std::uint64_t>(elapsed / interval_) : 0;
  return std::max(ticks_, by_clock);
}

void TimeWheel::add(Timer& t, std::chrono::milliseconds timeout) {
  if (t.armed()) remove(t);  // refresh = remove + add, both O(1)
  // Counted from the next tick(): the ticks the wheel is behind the clock, then the timeout's.
  const std::uint64_t ticks = current_tick() - ticks_ + ticks_until_expiry(timeout);
  const std::size_t n = slots_.size();
  // Tick k processes slot (cur_ + k) % n; that slot comes up (k-1)/n times before tick k, and
  // each of those visits decrements the rotation instead of firing.
  t.slot_ = (cur_ + ticks % n) % n;
  t.rotation_ = (ticks - 1) / n;
  link_before(*slots_[t.slot_], t);  // append at the tail: timers of a slot fire in add order
  t.wheel_ = this;
  ++size_;
}

void TimeWheel::remove(Timer& t) {
  if (!t.armed()) return;
  if (t.wheel_ != this) throw std::logic_error("TimeWheel: timer is armed in another wheel");
  unlink(t);
  t.wheel_ = nullptr;
  --size_;
}

void TimeWheel::tick() noexcept {
  ++ticks_;
  cur_ = (cur_ + 1) % slots_.size();
  Timer& slot = *slots_[cur_];

  // Phase 1: move the due timers to a local list (no callback runs, so the slot cannot change).
  // They stay armed: a phase-2 callback may still remove, re-add or destroy them.
  Timer expired(nullptr);  // the sentinel of the local list
  for (Timer* t = slot.next_; t != &slot;) {
    Timer* next = t->next_;
    if (t->rotation_ > 0) {
      --t->rotation_;
    } else {
      unlink(*t);
      link_before(expired, *t);
    }
    t = next;
  }

  // Phase 2: pop, disarm and fire one by one; a timer removed by an earlier callback has left
  // the list and does not fire.
  while (expired.next_ != &expired) {
    Timer& t = *expired.next_;
    unlink(t);
    t.wheel_ = nullptr;
    --size_;
    // Call a copy: the callback may destroy t's owner, and with it t.on_expire_, while it runs.
    std::function<void()> on_expire = t.on_expire_;
    on_expire();  // t may be gone now: do not touch it
  }
}

std::uint64_t TimeWheel::advance() noexcept {
  const std::uint64_t due = current_tick();  // callbacks may add timers: they count from here
  const std::uint64_t made = due - ticks_;
  while (ticks_ < due) tick();
  return made;
}

std::size_t TimeWheel::size() const { return size_; }

std::chrono::milliseconds TimeWheel::interval() const { return interval_; }

// Every list has a sentinel, so every timer has a real prev and next: the head, the tail and the
// only timer unlink with the same two writes, and the classic head-deletion case cannot arise.
void TimeWheel::unlink(Timer& t) {
  t.prev_->next_ = t.next_;
  t.next_->prev_ = t.prev_;
  t.prev_ = &t;
  t.next_ = &t;
}

/** Links @p t, which must be unlinked, just before @p position (before a sentinel: at the tail). */
void TimeWheel::link_before(Timer& position, Timer& t) {
  t.prev_ = position.prev_;
  t.next_ = &position;
  position.prev_->next_ = &t;
  position.prev_ = &t;
}
