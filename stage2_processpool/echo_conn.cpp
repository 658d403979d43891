/**
 * @file echo_conn.cpp
 * Echo with back-pressure: read only while there is room, write until the socket is full.
 */
#include "echo_conn.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

std::string EchoShared::stats() const { return "bytes_echoed=" + std::to_string(bytes_echoed); }

EchoConn::EchoConn(UniqueFd fd, Shared& shared)
    : fd_(std::move(fd)), shared_(shared), buffer_(std::make_unique<char[]>(kBufferSize)) {
  // The banner goes out on the first EPOLLOUT event, which epoll reports as soon as the fd is
  // registered. The banner is short, so it always fits.
  end_ = banner_left_ = shared_.banner.copy(buffer_.get(), kBufferSize);
}

bool EchoConn::process() {
  while (true) {
    if (!write_pending()) return false;
    if (done_reading_) return pending() > 0;    // keep the connection until the echo is out
    if (pending() == kBufferSize) return true;  // full: wait for EPOLLOUT, read nothing more
    switch (read_some()) {
      case ReadResult::got_data:
      case ReadResult::peer_closed:
        break;  // go round: echo what came in
      case ReadResult::would_block:
        return true;  // wait for the next edge
      case ReadResult::failed:
        return false;
    }
  }
}

bool EchoConn::quit() {
  done_reading_ = true;
  return pending() > 0;
}

EchoConn::ReadResult EchoConn::read_some() {
  if (start_ > 0 && end_ == kBufferSize) {  // make room at the end (at most kBufferSize bytes)
    memmove(buffer_.get(), buffer_.get() + start_, pending());
    end_ -= start_;
    start_ = 0;
  }
  const ssize_t n = read(fd_.get(), buffer_.get() + end_, kBufferSize - end_);
  if (n > 0) {
    end_ += static_cast<std::size_t>(n);
    return ReadResult::got_data;
  }
  if (n == 0) {
    done_reading_ = true;
    return ReadResult::peer_closed;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::would_block;
  if (errno == EINTR) return ReadResult::got_data;  // nothing read; the caller simply tries again
  return ReadResult::failed;
}

bool EchoConn::write_pending() {
  while (pending() > 0) {
    // write() may take only part of the buffer: advance by what it took and try again.
    const ssize_t n = write(fd_.get(), buffer_.get() + start_, pending());
    if (n > 0) {
      const std::size_t written = static_cast<std::size_t>(n);
      const std::size_t banner_part = written < banner_left_ ? written : banner_left_;
      banner_left_ -= banner_part;
      shared_.bytes_echoed += written - banner_part;  // the banner is not an echo
      start_ += written;
      continue;
    }
    if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // EPOLLOUT will come
    if (n == -1 && errno == EINTR) continue;
    return false;  // EPIPE, ECONNRESET: the peer is gone
  }
  start_ = end_ = 0;
  return true;
}
