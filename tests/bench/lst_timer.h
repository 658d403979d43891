/**
 * @file lst_timer.h
 * The classic ascending timer list (升序定时器链表, sort_timer_lst of 游双's book, chapter 11),
 * in a small correct form, only as a baseline for bench/timer_bench.cpp. Time is a tick count,
 * not time(NULL). Pure (no signals, no sockets); the server uses TimeWheel instead.
 *
 * Costs: add_timer and adjust_timer are O(n) because they walk to the insertion point; del_timer
 * is O(1); tick is O(k) for k expired timers, which sit at the head. A wheel makes add O(1).
 */
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

/** One timer of the list (the book's util_timer); the callback type matches Timer's. */
struct util_timer {
  long expire = 0;                ///< the tick on which it fires
  std::function<void()> cb_func;  ///< called once it has been unlinked
  util_timer* prev = nullptr;     ///< the previous timer, nullptr at the head
  util_timer* next = nullptr;     ///< the next timer, nullptr at the tail
};

/** A doubly-linked list kept sorted by expire, NULL-terminated, with head and tail pointers. */
class sort_timer_lst {
 public:
  /** Inserts @p timer in order, walking from the head: O(n). Equal expiries keep add order. */
  void add_timer(util_timer* timer) { add_from(timer, head_); }

  /**
   * Moves @p timer to its place for the new @p expire: O(n). The book walks on from the old
   * position, which is right only when the expiry grows; an earlier expiry walks from the head.
   */
  void adjust_timer(util_timer* timer, long expire) {
    util_timer* after = timer->next;
    const bool later = expire >= timer->expire;
    del_timer(timer);
    timer->expire = expire;
    add_from(timer, later ? after : head_);  // later and it was the tail: after == nullptr
  }

  /**
   * Unlinks @p timer: O(1). Without a sentinel the head and the tail are special cases: forget
   * `head_ = timer->next` and the list keeps a freed head (the classic bug TimeWheel avoids).
   */
  void del_timer(util_timer* timer) {
    if (timer->prev) {
      timer->prev->next = timer->next;
    } else {
      head_ = timer->next;
    }
    if (timer->next) {
      timer->next->prev = timer->prev;
    } else {
      tail_ = timer->prev;
    }
    timer->prev = timer->next = nullptr;
  }

  /** Fires every timer with expire <= @p now; they are at the head. O(k) for k fired. */
  void tick(long now) {
    while (head_ && head_->expire <= now) {
      util_timer* timer = head_;
      del_timer(timer);  // unlinked before the callback, as in TimeWheel
      timer->cb_func();
    }
  }

  /**
   * Benchmark helper, not in the book: inserts @p timers (unlinked) in one backward walk from
   * the tail, O(k log k) plus the nodes passed, so O(k) when they all expire last (re-armed
   * timers) and at most O(n + k log k). Builds and restores large lists without k walks, and
   * without touching (and so warming) the whole list before a timed tick.
   */
  void add_timers(std::vector<util_timer*> timers) {
    std::stable_sort(timers.begin(), timers.end(), [](const util_timer* a, const util_timer* b) {
      return a->expire < b->expire;
    });
    util_timer* position = nullptr;  // insert before this node; nullptr means at the tail
    for (auto it = timers.rbegin(); it != timers.rend(); ++it) {
      util_timer* before = position ? position->prev : tail_;
      while (before && before->expire > (*it)->expire) {
        position = before;
        before = before->prev;
      }
      insert_before(position, *it);
      position = *it;  // the next one expires no later: it goes before this one
    }
  }

 private:
  /** Inserts @p timer before the first node from @p start on that expires later. */
  void add_from(util_timer* timer, util_timer* start) {
    util_timer* position = start;
    while (position && position->expire <= timer->expire) position = position->next;
    insert_before(position, timer);
  }

  /** Links @p timer before @p position; a null position means at the tail. */
  void insert_before(util_timer* position, util_timer* timer) {
    timer->next = position;
    timer->prev = position ? position->prev : tail_;
    if (timer->prev) {
      timer->prev->next = timer;
    } else {
      head_ = timer;
    }
    if (position) {
      position->prev = timer;
    } else {
      tail_ = timer;
    }
  }

  util_timer* head_ = nullptr;
  util_timer* tail_ = nullptr;
};
