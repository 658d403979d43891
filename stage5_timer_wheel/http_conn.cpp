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

std::string HttpShared::stats() const {
  return "requests=" + std::to_string(requests) + " bytes_sent=" + std::to_string(bytes_sent);
}

HttpConn::HttpConn(UniqueFd fd, Shared& shared) : fd_(std::move(fd)), shared_(shared) {}

// The order matters: finish the response in flight before looking at the next request (answers
// go out in request order), and only read when nothing is waiting to be written.
bool HttpConn::process(std::uint32_t events) {
  // One read() fewer per request. A read that returns less than the buffer holds has emptied the
  // receive queue; under edge-triggered epoll, any byte that arrives after it raises a new
  // EPOLLIN event, so another read() now could only fail with EAGAIN: skip it and wait for that
  // event (nginx does the same: a short recv() clears rev->ready). Not when the peer hung up:
  // its FIN may sit behind the data we read and raises no new event, so read on until 0.
  const bool hung_up = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  bool drained = false;  // this call's last read() was short: the socket holds nothing more
  used_its_turn_ = false;
  made_progress_ = false;
  while (true) {
    if (responding_) {
      switch (write_response()) {
        case Progress::blocked:
          return true;  // EPOLLOUT will call us again; read nothing meanwhile
        case Progress::turn_used:
          used_its_turn_ = true;  // the loop calls us again after the others
          return true;
        case Progress::failed:
          return false;
        case Progress::done:
          finish_response();
          if (!keep_alive_) {
            drain_input();
            return false;
          }
      }
    }
    if (answer_buffered_request()) continue;
    if (peer_closed_) return false;  // every request that arrived has been answered
    if (drained) return true;        // wait for the next EPOLLIN edge

    const ssize_t n = read(fd_.get(), shared_.read_buffer, sizeof shared_.read_buffer);
    if (n > 0) {
      unparsed_.append(shared_.read_buffer, static_cast<std::size_t>(n));
      drained = !hung_up && static_cast<std::size_t>(n) < sizeof shared_.read_buffer;
    } else if (n == 0) {
      peer_closed_ = true;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;  // wait for the next EPOLLIN edge
    } else if (errno != EINTR) {
      return false;  // ECONNRESET and friends
    }
  }
}

// The response in flight goes out whole, then the connection closes as after "Connection:
// close". A request still arriving is dropped: the client may send it again elsewhere.
bool HttpConn::quit() {
  keep_alive_ = false;
  return responding_;
}

// Feeds buffered bytes to the parser; starts a response when a request is complete or refused.
// Returns true when a response was started.
bool HttpConn::answer_buffered_request() {
  const std::size_t used = parser_.feed(unparsed_.data(), unparsed_.size());
  unparsed_.erase(0, used);
  switch (parser_.result()) {
    case HttpParser::Result::incomplete:
      return false;
    case HttpParser::Result::complete:
      made_progress_ = true;
      start_response(&parser_.request(), HttpStatus::ok);
      return true;
    case HttpParser::Result::error:
      start_response(nullptr, parser_.error());
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

// request == nullptr means the parser refused the request with `status`; otherwise the status
// comes from finding the file.
void HttpConn::start_response(const HttpRequest* request, HttpStatus status) {
  head_.clear();
  head_sent_ = 0;
  file_offset_ = file_end_ = 0;
  responding_ = true;
  ++shared_.requests;
  // After a parse error we cannot tell where the next request starts: close after answering.
  keep_alive_ = request != nullptr && request->keep_alive;
  const int minor_version = request != nullptr ? request->minor_version : 1;
  // Known from the request line even when the parser refused the request: no body for HEAD.
  const bool is_head = parser_.request().method == Method::head;

  if (request != nullptr) {
    status = resolve_target(request->target, file_.relative);
    if (status == HttpStatus::ok) {
      open_under_root(shared_.root_fd, file_);
      status = file_.status;
    } else {
      file_.fd.reset();
    }
  }
  // RFC 9110 §13.1.3: not modified since the client's copy (to the second, as Last-Modified).
  if (status == HttpStatus::ok && request->if_modified_since >= 0 &&
      file_.mtime.tv_sec <= request->if_modified_since)
    status = HttpStatus::not_modified;
  if (status == HttpStatus::ok || status == HttpStatus::not_modified) {
    append_response_head(head_, status, static_cast<std::uint64_t>(file_.size),
                         content_type_for(file_.relative), &file_.mtime, keep_alive_,
                         shared_.worker_id, minor_version);
    if (is_head || status == HttpStatus::not_modified) {
      file_.fd.reset();
    } else {
      file_end_ = file_.size;
    }
  } else {
    const std::string_view page = error_page(status);
    const std::string location =
        status == HttpStatus::moved_permanently ? with_slash(request->target) : std::string();
    append_response_head(head_, status, page.size(), "text/html; charset=utf-8", nullptr,
                         keep_alive_, shared_.worker_id, minor_version, location);
    if (!is_head) head_.append(page);
  }
  log_verbose("%s -> %d", request != nullptr ? request->target.c_str() : "(bad request)",
              static_cast<int>(status));
}

HttpConn::Progress HttpConn::write_response() {
  while (head_sent_ < head_.size()) {
    // MSG_MORE: the file follows, so let the kernel put head and body in the same segments.
    const int flags = file_offset_ < file_end_ ? MSG_MORE : 0;
    const ssize_t n = send(fd_.get(), head_.data() + head_sent_, head_.size() - head_sent_, flags);
    if (n >= 0) {
      head_sent_ += static_cast<std::size_t>(n);
      shared_.bytes_sent += static_cast<std::uint64_t>(n);
      made_progress_ = true;
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
      made_progress_ = true;
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
