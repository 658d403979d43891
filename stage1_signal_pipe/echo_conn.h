/**
 * @file echo_conn.h
 * The per-connection "user" class of this chapter: a nonblocking echo with a bounded buffer.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "unique_fd.h"

/**
 * What every connection of one process shares: the greeting and the counters SIGUSR1 prints.
 * One per serving process: the server in chapter 1, each worker from chapter 2 on.
 */
struct EchoShared {
  std::string banner;              ///< sent first on every connection, e.g. "hello from pid 4711\n"
  std::uint64_t bytes_echoed = 0;  ///< bytes written back to clients by this process

  /** The connection-specific part of the stats line, e.g. "bytes_echoed=5120". */
  std::string stats() const;
};

/**
 * One echo connection, owned by the event loop from accept to close (the classic "user" T).
 * Everything a client sends is written back unchanged. At most kBufferSize bytes wait to be
 * echoed: when the buffer is full the connection stops reading, so a client that sends without
 * reading is throttled by TCP flow control instead of growing our memory. Runs in the process
 * that accepted it: the server in chapter 1, a worker from chapter 2 on.
 *
 * The fd is registered edge-triggered for both EPOLLIN and EPOLLOUT, so process() must do all
 * the I/O it can each time it is called: read until EAGAIN (or the buffer is full), write until
 * EAGAIN (or the buffer is empty).
 */
class EchoConn {
 public:
  /** The per-process state all connections of this type share. */
  using Shared = EchoShared;
  /** Bytes that may wait to be echoed; bounds the memory of one connection. */
  static constexpr std::size_t kBufferSize = 16 * 1024;

  /** Takes ownership of an accepted, nonblocking socket and queues the banner. */
  EchoConn(UniqueFd fd, Shared& shared);

  /**
   * Does all the I/O the socket allows now (called on every epoll event for this fd).
   * Returns false when the connection is over (peer closed and everything echoed, or an error):
   * the loop then closes it.
   */
  bool process();

  /**
   * SIGQUIT's graceful stop: reads nothing more. Returns true while bytes already read are still
   * to be echoed; process() then returns false once they are out.
   */
  bool quit();

 private:
  /** What one read() did: brought bytes (or was interrupted), saw EOF, found none, failed. */
  enum class ReadResult { got_data, peer_closed, would_block, failed };

  /** One read() into the free end of the buffer, moving pending bytes to the front if needed. */
  ReadResult read_some();
  /** Writes pending bytes until none are left or EAGAIN; false when the peer is gone. */
  bool write_pending();
  /** Bytes read (or of the banner) and not yet written back. */
  std::size_t pending() const { return end_ - start_; }

  UniqueFd fd_;
  Shared& shared_;
  std::unique_ptr<char[]> buffer_;  // kBufferSize bytes; bytes [start_, end_) wait to be sent
  std::size_t start_ = 0;
  std::size_t end_ = 0;
  std::size_t banner_left_ = 0;  // banner bytes not yet written
  bool done_reading_ = false;    // the peer closed, or we quit: echo what is left, then close
};
