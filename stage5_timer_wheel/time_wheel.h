/**
 * @file time_wheel.h
 * A time wheel (时间轮) that closes idle connections: O(1) add, refresh and remove.
 *
 * Pure and single-threaded: no signals, no sockets; the clock is handed in (tests pass a fake).
 * Each worker's EventLoop owns one and advances it after a batch of I/O events.
 *
 * Costs and the alternatives not taken: a list sorted by expiry (the classic lst_timer) is O(n)
 * per add or refresh, a min-heap O(log n). tick() walks one slot, including timers with whole
 * turns still to wait; a hierarchical wheel (as in the Linux kernel) would skip those at the
 * price of cascading, which timeouts of about one turn do not need. Resolution is one interval.
 */
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

class TimeWheel;

/**
 * One timer, owned by its user; the wheel only links to it. Not copyable or movable, because the
 * wheel holds its address. Destroying an armed timer removes it from its wheel. In the server,
 * each connection has one, kept next to it by the worker's event loop.
 */
class Timer {
 public:
  /** Makes an unarmed timer that will call @p on_expire when it fires. */
  explicit Timer(std::function<void()> on_expire);
  /** Removes the timer from its wheel if it is armed. */
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /** True while the timer is in a wheel, waiting to fire. False again once it fired. */
  bool armed() const;

 private:
  friend class TimeWheel;

  // Intrusive circular doubly-linked list. An unlinked timer points to itself, so a lone Timer
  // is also an empty list: that is exactly what a slot's sentinel is.
  Timer* prev_;
  Timer* next_;
  TimeWheel* wheel_ = nullptr;  ///< the wheel it is armed in; nullptr when unarmed
  std::size_t slot_ = 0;        ///< the slot whose list holds it (for reading in a debugger)
  std::uint64_t rotation_ = 0;  ///< full turns of the wheel still to wait when its slot comes up
  std::function<void()> on_expire_;
};

/**
 * A ring of slots, each one a list of the timers that expire when tick() reaches it.
 * Not copyable or movable (timers point to it). Destroying the wheel disarms its timers.
 * In the server, each worker's EventLoop owns one and ticks it.
 */
class TimeWheel {
 public:
  /** Where the wheel reads the time, if it is given one: a monotonic clock, or a test's. */
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /**
   * Makes a wheel of @p slot_count slots that advances by @p interval per tick(); the classic
   * one is 60 slots x 1 s. With @p clock (the server passes std::chrono::steady_clock::now),
   * advance() follows it and add() counts from its now. Throws std::invalid_argument for 0
   * slots or an interval <= 0.
   */
  TimeWheel(std::size_t slot_count, std::chrono::milliseconds interval, Clock clock = nullptr);
  /** Disarms every timer still in the wheel (their destructors will then not touch it). */
  ~TimeWheel();
  TimeWheel(const TimeWheel&) = delete;
  TimeWheel& operator=(const TimeWheel&) = delete;

  /**
   * Arms @p t to fire after at least @p timeout; if it is already armed, re-arms it (this is
   * "refresh": a connection that made progress gets a new deadline). O(1). It fires on tick
   * ticks_until_expiry(timeout), counted from the tick the clock is in: never early, at most one
   * interval late. Throws std::logic_error if @p t is armed in another wheel.
   */
  void add(Timer& t, std::chrono::milliseconds timeout);

  /**
   * Disarms @p t if it is armed; does nothing if not, so it is safe to call twice. O(1).
   * Throws std::logic_error if @p t is armed in another wheel.
   */
  void remove(Timer& t);

  /**
   * Advances one slot and fires the timers due in it, in the order they were added. Time is
   * proportional to the number of timers in that slot. Callbacks may add, remove or destroy any
   * timer (their own included) and may destroy the object that owns their timer; they must not
   * throw (tick is noexcept) and must not destroy the wheel.
   */
  void tick() noexcept;

  /**
   * With a clock: ticks once for every whole interval the clock has moved since the wheel was
   * made and that was not ticked yet, so every deadline that passed meanwhile is met now, even
   * after a stop or a long turn. Returns the number of ticks; 0 without a clock. The cost is
   * one tick() per interval caught up (a stop of an hour on 1 s slots: 3600 short ticks).
   */
  std::uint64_t advance() noexcept;

  /** The number of armed timers. */
  std::size_t size() const;

  /** The time one tick stands for. */
  std::chrono::milliseconds interval() const;

  /**
   * On which tick a timer added now with @p timeout fires, counting the next tick() as 1:
   * max(1, ceil(timeout / interval)) + 1, so at least 2.
   */
  std::uint64_t ticks_until_expiry(std::chrono::milliseconds timeout) const;

 private:
  /** Takes @p t out of the list that holds it (O(1)); @p t then points to itself. */
  static void unlink(Timer& t);
  /** The tick the wheel is in: the ticks done, or more if the clock has moved further. */
  std::uint64_t current_tick() const;
  static void link_before(Timer& position, Timer& t);

  // One sentinel per slot, through unique_ptr because a Timer cannot move.
  std::vector<std::unique_ptr<Timer>> slots_;
  std::chrono::milliseconds interval_;
  Clock clock_;
  std::chrono::steady_clock::time_point origin_;  ///< the clock when the wheel was made
  std::uint64_t ticks_ = 0;                       ///< tick() calls so far
  std::size_t cur_ = 0;                           ///< the slot that the last tick() processed
  std::size_t size_ = 0;  ///< armed timers, including those picked for firing but not yet fired
};
