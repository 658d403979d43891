/**
 * @file heap_timer.h
 * A binary min-heap of timers with handles (each timer knows its index in the array), only as a
 * baseline for bench/timer_bench.cpp. Time is a tick count. Pure (no signals, no sockets).
 *
 * Costs: add, del and adjust are O(log n); tick is O(k log n) for k expired timers. The book's
 * time_heap (chapter 11) has no handles, so it cannot delete: it clears the callback and leaves
 * the node until it reaches the top. The array entries carry the expiry, so that comparisons
 * stay inside the array instead of following a pointer per step.
 */
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

/** One timer of the heap; index is its handle (kNotInHeap when unarmed). */
struct heap_timer {
  /** The index of a timer that is not in the heap. */
  static constexpr std::size_t kNotInHeap = static_cast<std::size_t>(-1);
  long expire = 0;                 ///< the tick on which it fires
  std::function<void()> cb_func;   ///< called once it has left the heap
  std::size_t index = kNotInHeap;  ///< its place in the heap array: the handle
};

/** A binary min-heap ordered by expire. */
class time_heap {
 public:
  /** Adds @p timer (unarmed): O(log n). */
  void add_timer(heap_timer* timer) {
    heap_.push_back({timer->expire, timer});
    timer->index = heap_.size() - 1;
    sift_up(timer->index);
  }

  /** Removes @p timer (armed): the last entry takes its place and moves up or down. O(log n). */
  void del_timer(heap_timer* timer) {
    const std::size_t i = timer->index;
    const Entry last = heap_.back();
    heap_.pop_back();
    timer->index = heap_timer::kNotInHeap;
    if (i == heap_.size()) return;  // it was the last entry
    place(i, last);
    restore(i);
  }

  /** Gives @p timer (armed) a new @p expire and moves it up or down: O(log n). */
  void adjust_timer(heap_timer* timer, long expire) {
    timer->expire = expire;
    heap_[timer->index].expire = expire;
    restore(timer->index);
  }

  /** Fires every timer with expire <= @p now, smallest first. O(k log n) for k fired. */
  void tick(long now) {
    while (!heap_.empty() && heap_[0].expire <= now) {
      heap_timer* timer = heap_[0].timer;
      del_timer(timer);  // out of the heap before the callback
      timer->cb_func();
    }
  }

 private:
  struct Entry {
    long expire;
    heap_timer* timer;
  };

  void place(std::size_t i, Entry entry) {
    heap_[i] = entry;
    entry.timer->index = i;
  }

  /** Moves entry @p i up if it is smaller than its parent, otherwise down. */
  void restore(std::size_t i) {
    if (i > 0 && heap_[i].expire < heap_[(i - 1) / 2].expire) {
      sift_up(i);
    } else {
      sift_down(i);
    }
  }

  void sift_up(std::size_t i) {
    const Entry entry = heap_[i];
    while (i > 0 && entry.expire < heap_[(i - 1) / 2].expire) {
      place(i, heap_[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
    place(i, entry);
  }

  void sift_down(std::size_t i) {
    const Entry entry = heap_[i];
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= heap_.size()) break;
      if (child + 1 < heap_.size() && heap_[child + 1].expire < heap_[child].expire) ++child;
      if (entry.expire <= heap_[child].expire) break;
      place(i, heap_[child]);
      i = child;
    }
    place(i, entry);
  }

  std::vector<Entry> heap_;
};
