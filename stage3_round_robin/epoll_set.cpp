/**
 * @file epoll_set.cpp
 * The epoll set with the signal pipe in it.
 */
#include "epoll_set.h"

#include <errno.h>

#include "log.h"
#include "sig_pipe.h"
#include "trace.h"

void EpollSet::create() {
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) die("epoll_create1");
  sig_pipe_ = set_up_sig_pipe();
  if (!watch(sig_pipe_.get(), EPOLLIN | EPOLLET)) die("epoll_ctl");
}

bool EpollSet::watch(int fd, std::uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.fd = fd;
  return epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) == 0;
}

bool EpollSet::unwatch(int fd) { return epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) == 0; }

int EpollSet::wait(epoll_event* events, int max, int timeout_ms) {
  int n = epoll_wait(epoll_.get(), events, max, timeout_ms);
  if (n == -1 && errno == EINTR) n = 0;
  TRACE("wake", R"("events":%d)", n);
  return n;
}
