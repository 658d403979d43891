/**
 * @file time_wheel.cpp
 * The time wheel: slot arithmetic, the two list operations, and a tick() that callbacks cannot
 * break. Pure (no signals, no sockets, no clock); each worker process owns one wheel.
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

/*
 * The rule for ticks. The wheel has no clock: add() happens at an unknown moment inside the
 * current interval, so the next tick is d away with 0 < d <= I (I = interval). Counting that
 * next tick as 1, tick k comes (k-1)*I + d after the add.
 *
 * - Never early: (k-1)*I + d >= T must hold for every d > 0, hence (k-1)*I >= T, hence
 *   k = ceil(T/I) + 1. The rule k = ceil(T/I) fires after (ceil(T/I)-1)*I + d, which for an add
 *   just before a tick is almost a whole interval early (a 60 s timeout on 1 s slots fires after
 *   59 s and a bit); rounding T/I down, as wheels that ignore the remainder do, is earlier still.
 * - At most one interval late: the timer fires after ceil(T/I)*I + d <= ceil(T/I)*I + I. When T is
 *   a whole number of intervals (the server: --timeout in seconds, 1 s slots) that is T + I;
 *   otherwise T rounded up to a whole interval, plus I.
 * - A timeout of 0, below one interval, or negative still waits at least one full interval:
 *   k = 2, so it fires on the 2nd tick, after more than I and at most 2I. Letting 0 fire on the
 *   next tick, possibly microseconds away, would make "0" mean "at a random moment".
 *
 * With a clock, tick number j is due when the clock has moved j*I since the wheel was made, and
 * advance() makes every due tick, late ones at once. An add() at a moment when the clock is in
 * tick b (b*I <= elapsed < (b+1)*I) goes to tick b + k, even if the wheel is behind: counting
 * from the ticks *done* would be early by as many intervals as the wheel lags (the book's wheel,
 * one tick per SIGALRM, lags after every lost alarm or long turn). Tick b + k is due at
 * (b+k)*I, more than (k-1)*I >= T after the add: still never early, by the same argument.
 */
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

  // Phase 1: move the due timers into a local list; decrement the others' rotation. No callback
  // runs here, so nothing can change the slot under our feet. The moved timers stay armed, so a
  // callback in phase 2 can still remove, re-add or destroy them, with the same O(1) unlink.
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

  // Phase 2: pop and fire one by one. A timer removed by an earlier callback has left the list
  // and does not fire; one re-added went to another slot (or to this slot with a full turn to
  // wait). Each timer is disarmed before its callback, which may then re-arm or destroy it.
  while (expired.next_ != &expired) {
    Timer& t = *expired.next_;
    unlink(t);
    t.wheel_ = nullptr;
    --size_;
    // Call a copy: the callback may destroy the object that owns t, and with it t.on_expire_,
    // while it runs. The copy costs no allocation for a lambda that captures a pointer or two.
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

/*
 * Why a sentinel. The classic wheel keeps a bare pointer to the first node of each slot and ends
 * each list with NULL. Removing a node is then four cases: the head must also rewrite slots[i]
 * and clear the new head's prev; the tail has no next to fix; the only node does both; a middle
 * node does neither. Forget the head case (or take the general path, prev->next = next, with
 * prev == NULL) and you crash, or leave slots[i] pointing at a freed node: the famous
 * head-deletion bug. With a sentinel every node has a real prev and a real next, and removing
 * the head, the tail, the only or a middle node is the same two pointer writes.
 */
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
