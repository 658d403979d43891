/**
 * @file http_conn.cpp
 * The request life cycle inside a worker: read, parse, open, write head, sendfile, repeat.
 */
#include "http_conn.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "http_response.h"
#include "log.h"
#include "trace.h"

std::string HttpShared::stats() const {
  return "requests=" + std::to_string(requests) + " bytes_sent=" + std::to_string(bytes_sent);
}

HttpConn::HttpConn(UniqueFd fd, Shared& shared) : fd_(std::move(fd)), shared_(shared) {}

// Answers go out in request order, so the response in flight is finished before the next
// buffered request is looked at, and the socket is read only when nothing waits to be written:
// a client that pipelines without reading is throttled by TCP, not by our memory.
bool HttpConn::process(std::uint32_t events) {
  used_its_turn_ = false;
  // A short read emptied the socket, and under edge-triggered epoll a later byte raises a new
  // event: skip the read() that could only fail with EAGAIN (nginx does the same). Not after a
  // hang-up, whose FIN raises no new event: read on until read() returns 0.
  const bool hung_up = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  bool socket_empty = false;
  for (;;) {
    if (responding_) {
      const Step step = send_response();
      if (step != Step::next) return step == Step::wait;
    }
    if (answer_buffered_request()) continue;
    if (peer_closed_) return false;  // every request that arrived has been answered
    if (socket_empty) return true;
    bool short_read = false;
    const Step step = read_more(short_read);
    if (step != Step::next) return step == Step::wait;
    socket_empty = short_read && !hung_up;
  }
}

HttpConn::Step HttpConn::send_response() {
  switch (write_response()) {
    case Progress::blocked:
      return Step::wait;  // EPOLLOUT calls process() again
    case Progress::turn_used:
      used_its_turn_ = true;  // the loop calls process() again after the others
      return Step::wait;
    case Progress::failed:
      return Step::close;
    case Progress::done:
      break;
  }
  finish_response();
  if (keep_alive_) return Step::next;
  drain_input();
  return Step::close;
}

HttpConn::Step HttpConn::read_more(bool& short_read) {
  const ssize_t n = read(fd_.get(), shared_.read_buffer, sizeof shared_.read_buffer);
  if (n > 0) {
    unparsed_.append(shared_.read_buffer, static_cast<std::size_t>(n));
    short_read = static_cast<std::size_t>(n) < sizeof shared_.read_buffer;
    return Step::next;
  }
  if (n == 0) {
    peer_closed_ = true;
    return Step::next;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return Step::wait;
  return errno == EINTR ? Step::next : Step::close;  // ECONNRESET and friends: close
}

// The response in flight goes out whole, then the connection closes as after "Connection:
// close". A request still arriving is dropped: the client may send it again elsewhere.
bool HttpConn::quit() {
  keep_alive_ = false;
  return responding_;
}

bool HttpConn::answer_buffered_request() {
  const std::size_t used = parser_.feed(unparsed_.data(), unparsed_.size());
  unparsed_.erase(0, used);
  switch (parser_.result()) {
    case HttpParser::Result::incomplete:
      return false;
    case HttpParser::Result::complete:
      answer(parser_.request());
      return true;
    case HttpParser::Result::error:
      refuse(parser_.error());
      return true;
  }
  return false;
}

namespace {
/** "/docs?x=1" -> "/docs/?x=1": where a directory named without its slash really is. */
std::string with_slash(const std::string& target) {
  const std::size_t query = std::min(target.find('?'), target.size());
  return target.substr(0, query) + "/" + target.substr(query);
}
}  // namespace

void HttpConn::answer(const HttpRequest& request) {
  begin_response(request.keep_alive);
  HttpStatus status = open_file(request.target);
  // RFC 9110 §13.1.3: not modified since the client's copy (to the second, as Last-Modified).
  if (status == HttpStatus::ok && request.if_modified_since >= 0 &&
      file_.mtime.tv_sec <= request.if_modified_since)
    status = HttpStatus::not_modified;
  const bool is_head = request.method == Method::head;
  if (status == HttpStatus::ok || status == HttpStatus::not_modified) {
    append_response_head(head_, status, static_cast<std::uint64_t>(file_.size),
                         content_type_for(file_.relative), &file_.mtime, keep_alive_,
                         shared_.worker_id, request.minor_version);
    if (is_head || status == HttpStatus::not_modified)
      file_.fd.reset();
    else
      file_end_ = file_.size;
  } else {
    const std::string location =
        status == HttpStatus::moved_permanently ? with_slash(request.target) : std::string();
    append_error(status, is_head, request.minor_version, location);
  }
  TRACE("request", R"("fd":%d,"method":"%s","target":%s,"status":%d)", fd_.get(),
        is_head ? "HEAD" : "GET", json_string(request.target).c_str(), static_cast<int>(status));
  log_verbose("%s -> %d", request.target.c_str(), static_cast<int>(status));
}

// After a parse error nobody knows where the next request would start: answer, then close.
void HttpConn::refuse(HttpStatus status) {
  begin_response(false);
  append_error(status, parser_.is_head(), 1, {});
  TRACE("request", R"("fd":%d,"status":%d)", fd_.get(), static_cast<int>(status));
  log_verbose("(bad request) -> %d", static_cast<int>(status));
}

void HttpConn::begin_response(bool keep_alive) {
  head_.clear();
  head_sent_ = 0;
  file_offset_ = file_end_ = 0;
  responding_ = true;
  keep_alive_ = keep_alive;
  ++shared_.requests;
}

HttpStatus HttpConn::open_file(const std::string& target) {
  const HttpStatus status = resolve_target(target, file_.relative);
  if (status != HttpStatus::ok) {
    file_.fd.reset();
    return status;
  }
  open_under_root(shared_.root_fd, file_);
  return file_.status;
}

void HttpConn::append_error(HttpStatus status, bool is_head, int minor_version,
                            const std::string& location) {
  const std::string_view page = error_page(status);
  append_response_head(head_, status, page.size(), "text/html; charset=utf-8", nullptr, keep_alive_,
                       shared_.worker_id, minor_version, location);
  if (!is_head) head_.append(page);
}

HttpConn::Progress HttpConn::write_response() {
  while (head_sent_ < head_.size()) {
    // MSG_MORE: the file follows, so let the kernel put head and body in the same segments.
    const int flags = file_offset_ < file_end_ ? MSG_MORE : 0;
    const ssize_t n = send(fd_.get(), head_.data() + head_sent_, head_.size() - head_sent_, flags);
    if (n >= 0) {
      head_sent_ += static_cast<std::size_t>(n);
      shared_.bytes_sent += static_cast<std::uint64_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Progress::blocked;
    } else if (errno != EINTR) {
      return Progress::failed;
    }
  }
  std::size_t share = kMaxBytesPerTurn;  // of this turn, for this connection
  while (file_offset_ < file_end_) {
    if (share == 0) return Progress::turn_used;
    // sendfile advances file_offset_ by what it sent; a partial send is the normal case.
    const auto left = static_cast<std::size_t>(file_end_ - file_offset_);
    const ssize_t n = sendfile(fd_.get(), file_.fd.get(), &file_offset_, std::min(left, share));
    if (n > 0) {
      share -= static_cast<std::size_t>(n);
      shared_.bytes_sent += static_cast<std::uint64_t>(n);
    } else if (n == 0) {
      // The file shrank after we promised its old length: we cannot keep the promise, so the
      // only honest thing left is to close (the client sees a short body).
      log_line("%s: file shrank while being sent, closing", file_.relative.c_str());
      return Progress::failed;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Progress::blocked;
    } else if (errno != EINTR) {
      return Progress::failed;
    }
  }
  return Progress::done;
}

void HttpConn::finish_response() {
  responding_ = false;
  file_.fd.reset();
  parser_.reset();
  // An idle connection keeps no buffer (see release_buffer); pipelined bytes stay.
  release_buffer(head_);
  release_buffer(file_.relative);
  if (unparsed_.empty()) release_buffer(unparsed_);
}

// Closing a socket that still holds unread input sends RST instead of FIN, and an RST can make
// the client drop the response we just wrote. Reading what is already here avoids that in the
// common case (an error answered before the rest of the request was read).
void HttpConn::drain_input() {
  shutdown(fd_.get(), SHUT_WR);
  for (int reads = 0; reads < 4; ++reads) {  // bounded: a client cannot keep us here
    if (read(fd_.get(), shared_.read_buffer, sizeof shared_.read_buffer) <= 0) break;
  }
}
