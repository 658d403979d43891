/**
 * @file http_parser.h
 * HTTP/1.x request parser: a pure, incremental state machine (no sockets, no files).
 *
 * The shape of the classic parser in 游双's book (a main state CheckState driven by a line
 * scanner that returns LineStatus), with the limits and rejections of RFC 9110 / RFC 9112 for an
 * origin server of static files.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

/** Status codes the server can send; the numeric value is the HTTP status code. */
enum class HttpStatus : int {
  ok = 200,
  moved_permanently = 301,
  not_modified = 304,
  bad_request = 400,
  forbidden = 403,
  not_found = 404,
  method_not_allowed = 405,
  payload_too_large = 413,
  uri_too_long = 414,
  header_fields_too_large = 431,
  internal_server_error = 500,
  not_implemented = 501,
  version_not_supported = 505
};

/**
 * ASCII case-insensitive equality (header names, tokens); @p lower must be lower case. Pure;
 * runs in a worker.
 */
bool iequals(std::string_view s, std::string_view lower);

/** The methods we serve; every other method is refused by the parser (405 or 501). */
enum class Method { get, head };

/** What the server needs from a request once it has been parsed completely. */
struct HttpRequest {
  Method method = Method::get;  ///< GET or HEAD
  std::string target;           ///< Origin-form target ("/path?query"), always starts with '/'.
  int minor_version = 1;        ///< 0 for HTTP/1.0, 1 for HTTP/1.1.
  bool keep_alive = true;       ///< Whether the connection may carry another request.
  std::uint64_t content_length = 0;  ///< Body length; the body was read and discarded.
  /** If-Modified-Since as seconds since the epoch; -1 when absent, invalid or to be ignored. */
  time_t if_modified_since = -1;
};

/**
 * Frees the buffer of @p s, which must be empty. An idle connection keeps none of its buffers: a
 * request that grew one (an attacker's 16 KiB head) must not cost 16 KiB per idle connection for
 * as long as the timeout allows. The price, a few small allocations per request, is tens of
 * nanoseconds against the microseconds of its system calls.
 */
void release_buffer(std::string& s);

/**
 * Parses an HTTP-date in any of its three forms (RFC 9110 §5.6.7: IMF-fixdate, RFC 850,
 * asctime) into seconds since the epoch; -1 when @p text is not one. Pure; runs in a worker.
 */
time_t parse_http_date(std::string_view text);

/**
 * Incremental parser for one HTTP/1.x request at a time.
 *
 * Buffers at most the current line (bounded by the limits below) and counts the body without
 * storing it. After an error the caller answers with error() and closes the connection: the
 * parser does not resynchronise. Runs in a worker, one parser per connection.
 */
class HttpParser {
 public:
  /** Where the current request stands. */
  enum class Result { incomplete, complete, error };

  /** Longest request line, counting its line terminator (RFC 9112 §3: we choose 8 KiB) -> 414. */
  static constexpr std::size_t kMaxRequestLine = 8192;
  /** Longest header section, counting every field line, terminators and the empty line -> 431. */
  static constexpr std::size_t kMaxHeaderSection = 16384;
  /** Largest body we read and discard; a larger Content-Length -> 413. */
  static constexpr std::uint64_t kMaxBody = 1048576;
  /** Empty lines tolerated before the request line (RFC 9112 §2.2); one more -> 400. */
  static constexpr int kMaxLeadingEmptyLines = 4;

  /** A parser waiting for the first byte of a request. */
  HttpParser() = default;

  /**
   * Consumes bytes from data[0..len) and returns how many it consumed. It stops at the end
   * of a complete request (including its discarded body) or at an error, so the bytes of a
   * pipelined next request are left to the caller. Once the result is complete or error it
   * consumes nothing until reset(). Any split of the input gives the same result.
   */
  std::size_t feed(const char* data, std::size_t len);

  /** Incomplete until a whole request (or an error) has been seen. */
  Result result() const { return result_; }

  /** The parsed request; valid when result() == Result::complete. */
  const HttpRequest& request() const { return request_; }

  /** Why the request was refused; valid when result() == Result::error. */
  HttpStatus error() const { return error_; }

  /**
   * True when the request line (or its start) names HEAD; known as soon as it can be, so also
   * after an error: even an error answer to HEAD has no body (RFC 9110 §9.3.2).
   */
  bool is_head() const { return request_.method == Method::head; }

  /** Makes the parser ready for the next request on the same connection; frees its buffers. */
  void reset();

 private:
  /** Main state, as in the classic code: which part of the request we are in. */
  enum class CheckState { request_line, headers, content };
  /** What the line scanner found: a whole line, a bad byte or limit, or not yet a line end. */
  enum class LineStatus { ok, bad, open };

  LineStatus parse_line(const char* data, std::size_t len, std::size_t& pos);
  /** The line reached head_limit() without a terminator: 414 or 431. */
  LineStatus too_long();
  /** The byte after a CR: LF ends the line, anything else is a bare CR (400). */
  LineStatus end_of_crlf(char next, std::size_t& pos);
  /** False (and 400) when line_ followed by @p more cannot start a method; moves @p pos. */
  bool could_be_method(std::string_view more, std::size_t& pos);
  void process_line(std::string_view line);
  void parse_request_line(std::string_view line);
  /** Records HEAD as soon as the request line (or its start) names it. */
  void note_head(std::string_view request_line);
  void parse_method(std::string_view method);
  bool parse_target(std::string_view target);
  void parse_headers(std::string_view line);
  void parse_header_field(std::string_view name, std::string_view value);
  void parse_connection(std::string_view value);
  void end_of_headers();
  void parse_content(std::size_t len, std::size_t& pos);
  void fail(HttpStatus status);
  /** The limit head_bytes_ counts against: kMaxRequestLine, then kMaxHeaderSection. */
  std::size_t head_limit() const;

  CheckState check_state_ = CheckState::request_line;
  Result result_ = Result::incomplete;
  HttpStatus error_ = HttpStatus::ok;
  HttpRequest request_;
  std::string line_;            ///< The current line, without its terminator.
  std::size_t head_bytes_ = 0;  ///< Bytes of the request line, then of the header section.
  bool pending_cr_ = false;     ///< The last byte consumed was a CR; the next must be LF.
  int empty_lines_ = 0;
  bool host_seen_ = false;
  bool content_length_seen_ = false;
  bool transfer_encoding_seen_ = false;
  bool close_seen_ = false;
  bool keep_alive_seen_ = false;
  int if_modified_since_fields_ = 0;
  bool if_none_match_seen_ = false;
  HttpStatus refused_method_ = HttpStatus::ok;  ///< 405 or 501, answered once the head is read
  std::uint64_t body_left_ = 0;
};
