/**
 * @file http_conn.h
 * The per-connection "user" class: one HTTP/1.1 connection serving static files.
 */
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "http_parser.h"
#include "path_resolve.h"
#include "unique_fd.h"

/** What every connection of one worker shares: the document root, the worker id, counters. */
struct HttpShared {
  /** State for worker @p worker serving files under the directory @p root. */
  HttpShared(int root, int worker) : root_fd(root), worker_id(worker) {}

  int root_fd;    ///< the document root, opened once by the parent (O_PATH) and inherited
  int worker_id;  ///< sent in X-Worker
  std::uint64_t requests = 0;    ///< responses started by this worker
  std::uint64_t bytes_sent = 0;  ///< response bytes (heads and bodies) written by this worker
  /**
   * Scratch space for read(): a worker runs one connection at a time, so one buffer serves all
   * of them; a connection keeps only what a read brought beyond its current request.
   */
  char read_buffer[16 * 1024];

  /** The connection-specific part of the stats line, e.g. "requests=12 bytes_sent=9000". */
  std::string stats() const;
};

/**
 * One HTTP/1.1 connection (the classic http_conn), owned by the worker's event loop from accept
 * to close. Requests are parsed by HttpParser as bytes arrive (any split, pipelining); each is
 * answered in order: a head built into a reused string, then the file sent with sendfile(2)
 * straight from the page cache, across as many writes as the socket needs.
 *
 * Back-pressure: while a response is unfinished, the connection reads nothing more, so a client
 * that pipelines without reading is throttled by TCP instead of growing our buffers. What a
 * single read() brings beyond the current request waits in a buffer of at most 16 KiB.
 */
class HttpConn {
 public:
  /** The per-process state all connections of this type share. */
  using Shared = HttpShared;

  /** Takes ownership of an accepted, nonblocking socket. */
  HttpConn(UniqueFd fd, Shared& shared);

  /**
   * Does all the I/O the socket allows now (called on every epoll event for this fd, with the
   * event's mask in @p events): writes the pending response, answers buffered requests, reads
   * more. Returns false when the connection is over (closed by the peer, "Connection: close", or
   * an error); the loop then closes it.
   */
  bool process(std::uint32_t events);

  /**
   * True when the last process() stopped because the response used its share of the turn
   * (kMaxBytesPerTurn) while the socket could take more: the loop calls process() again after
   * the other ready connections, since edge-triggered epoll will not report this one again.
   */
  bool has_more() const { return used_its_turn_; }

  /**
   * SIGQUIT's graceful stop: starts no new request. Returns true while a response is still being
   * sent; process() then returns false once it is out.
   */
  bool quit();

 private:
  /** How far write_response() got: all sent, socket full (EAGAIN), turn used, or peer gone. */
  enum class Progress { done, blocked, turn_used, failed };
  /** What process() does next: go on in this call, wait for the next event, or close. */
  enum class Step { next, wait, close };

  /**
   * Most bytes of a file one connection sends per loop turn (nginx: sendfile_max_chunk, 2 MiB).
   * Without a bound, a client that reads as fast as we send keeps the worker in one sendfile loop
   * until the whole file is out, and the worker's other connections wait. 1 MiB is about 0.1 to
   * 0.3 ms of copying, so a turn stays short; smaller shares cost 1 MiB files extra loop turns.
   */
  static constexpr std::size_t kMaxBytesPerTurn = 1024 * 1024;

  /** Goes on with the response in flight; next once it is out and the connection stays open. */
  Step send_response();
  /** One read() into unparsed_; @p short_read when it brought less than the buffer holds. */
  Step read_more(bool& short_read);
  /** Sends the rest of the head, then the file with sendfile(), until done or blocked. */
  Progress write_response();
  /** Feeds buffered bytes to the parser; true when that started a response. */
  bool answer_buffered_request();
  /** Starts the response to a complete request: its file, a 304, or the error finding it gave. */
  void answer(const HttpRequest& request);
  /** Starts the error response to a request the parser refused with @p status. */
  void refuse(HttpStatus status);
  /** Resets the response state for a new response (@p keep_alive: the connection stays). */
  void begin_response(bool keep_alive);
  /** Resolves @p target and opens it under the root into file_; ok or why not. */
  HttpStatus open_file(const std::string& target);
  /** Appends the head and (unless @p is_head) the page of an error or redirect @p status. */
  void append_error(HttpStatus status, bool is_head, int minor_version,
                    const std::string& location);
  /** Closes the file and resets the parser, ready for the next request. */
  void finish_response();
  /** Before a close: stops writing and reads what the client sent, so close() sends no RST. */
  void drain_input();

  UniqueFd fd_;
  Shared& shared_;
  HttpParser parser_;
  std::string unparsed_;  // bytes read but not yet fed to the parser (pipelining)
  std::string head_;      // response head (and error body) being written
  std::size_t head_sent_ = 0;
  OpenedFile file_;             // the file being sent, if any
  off_t file_offset_ = 0;       // next byte of file_ to send
  off_t file_end_ = 0;          // Content-Length promised for file_
  bool responding_ = false;     // a response is being written
  bool keep_alive_ = true;      // false: close after the current response
  bool peer_closed_ = false;    // read() returned 0
  bool used_its_turn_ = false;  // see has_more()
};
