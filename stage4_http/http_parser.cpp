/**
 * @file http_parser.cpp
 * HttpParser: the request state machine. Pure code, run by a worker process for each
 * connection it serves.
 */
#include "http_parser.h"

#include <time.h>

#include <algorithm>
#include <cstring>

namespace {

/** tchar from RFC 9110 §5.6.2: the bytes allowed in a token (method, field name). */
bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

/** token = 1*tchar (RFC 9110 §5.6.2). */
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

/** RFC 9110 §5.5: a field value has no CTL except HTAB (so no NUL, CR, LF, DEL). */
bool is_field_value(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

/** Target bytes: no CTL and no SP (RFC 9112 §3.2); bytes >= 0x80 are left to path decoding. */
bool is_target_chars(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

/**
 * A request line starts with its method, a token. Returns the index in @p added (bytes about to
 * join @p line) of the first that cannot be part of it, or npos. So a TLS ClientHello sent to
 * this plain port is refused at its first byte, not when a line end or the size limit comes.
 */
std::size_t first_non_method_byte(std::string_view line, std::string_view added) {
  if (line.find(' ') != std::string_view::npos) return std::string_view::npos;  // method done
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (added[i] == ' ') return line.empty() && i == 0 ? 0 : std::string_view::npos;  // no method
    if (!is_tchar(static_cast<unsigned char>(added[i]))) return i;
  }
  return std::string_view::npos;
}

/** Removes optional whitespace (SP / HTAB, RFC 9110 §5.6.3) from both ends. */
std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/** Content-Length = 1*DIGIT (RFC 9110 §8.6); false on anything else or on overflow. */
bool parse_content_length(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  out = n;
  return true;
}

/**
 * HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), case-sensitive.
 * Returns ok with the minor version for 1.0 / 1.1, 505 for another valid version, else 400.
 */
HttpStatus parse_version(std::string_view v, int& minor) {
  const bool valid = v.size() == 8 && v.substr(0, 5) == "HTTP/" && v[5] >= '0' && v[5] <= '9' &&
                     v[6] == '.' && v[7] >= '0' && v[7] <= '9';
  if (!valid) return HttpStatus::bad_request;
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) return HttpStatus::version_not_supported;
  minor = v[7] - '0';
  return HttpStatus::ok;
}

}  // namespace

time_t parse_http_date(std::string_view text) {
  // IMF-fixdate, then the two obsolete forms a recipient must still accept. strptime follows
  // the C locale here: the server never calls setlocale().
  static constexpr const char* kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                             "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
  const std::string copy(text);  // strptime needs a NUL-terminated string
  for (const char* format : kFormats) {
    tm fields{};
    const char* end = strptime(copy.c_str(), format, &fields);
    if (end != nullptr && *end == '\0') return timegm(&fields);
  }
  return -1;
}

void release_buffer(std::string& s) { std::string().swap(s); }

bool iequals(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::size_t HttpParser::feed(const char* data, std::size_t len) {
  std::size_t pos = 0;
  while (result_ == Result::incomplete) {
    if (check_state_ == CheckState::content) {
      parse_content(len, pos);
      break;  // either the body is complete or the input is used up
    }
    // open: need more bytes; bad: fail() has already recorded why.
    if (parse_line(data, len, pos) != LineStatus::ok) break;
    process_line(line_);
    line_.clear();
  }
  return pos;
}

void HttpParser::reset() {
  // First free what a large request grew: assigning a short string keeps a string's capacity.
  release_buffer(line_);
  release_buffer(request_.target);
  *this = HttpParser();  // then every field back to its initialiser
}

/** The byte budget of the current unit: one request line, or the whole header section. */
std::size_t HttpParser::head_limit() const {
  return check_state_ == CheckState::request_line ? kMaxRequestLine : kMaxHeaderSection;
}

/**
 * The line scanner. Appends bytes to line_ until a line terminator: CRLF, or a bare LF
 * (RFC 9112 §2.2 lets a recipient accept it). A CR not followed by LF is an error. Every
 * consumed byte counts in head_bytes_, checked against head_limit() as soon as it is reached,
 * so line_ never holds more than the limit.
 */
HttpParser::LineStatus HttpParser::parse_line(const char* data, std::size_t len, std::size_t& pos) {
  const std::size_t limit = head_limit();
  for (;;) {
    if (head_bytes_ >= limit) return too_long();
    if (pos == len) return LineStatus::open;
    if (pending_cr_) return end_of_crlf(data[pos], pos);
    // Copy up to a CR or LF, but never past what the limit still allows.
    const std::string_view reach(data + pos, std::min(len - pos, limit - head_bytes_));
    const std::size_t n = std::min(reach.find_first_of("\r\n"), reach.size());
    if (check_state_ == CheckState::request_line && !could_be_method(reach.substr(0, n), pos))
      return LineStatus::bad;
    line_.append(reach.data(), n);
    pos += n;
    head_bytes_ += n;
    if (n == reach.size()) continue;  // no terminator within reach: more input, or the limit
    ++head_bytes_;
    if (data[pos++] == '\n') return LineStatus::ok;
    pending_cr_ = true;  // the LF may come in the next read
  }
}

HttpParser::LineStatus HttpParser::too_long() {
  if (check_state_ == CheckState::request_line) {
    note_head(line_);  // the start of the line is enough to know
    fail(HttpStatus::uri_too_long);
  } else {
    fail(HttpStatus::header_fields_too_large);
  }
  return LineStatus::bad;
}

HttpParser::LineStatus HttpParser::end_of_crlf(char next, std::size_t& pos) {
  if (next != '\n') {  // a bare CR (RFC 9112 §2.2)
    fail(HttpStatus::bad_request);
    return LineStatus::bad;
  }
  ++pos;
  ++head_bytes_;
  pending_cr_ = false;
  return LineStatus::ok;
}

bool HttpParser::could_be_method(std::string_view more, std::size_t& pos) {
  const std::size_t bad = first_non_method_byte(line_, more);
  if (bad == std::string_view::npos) return true;
  pos += bad + 1;
  fail(HttpStatus::bad_request);
  return false;
}

/** Hands a complete line to the part of the request it belongs to: request line or headers. */
void HttpParser::process_line(std::string_view line) {
  if (check_state_ == CheckState::request_line) {
    parse_request_line(line);
  } else {
    parse_headers(line);
  }
}

/** request-line = method SP request-target SP HTTP-version (RFC 9112 §3). */
void HttpParser::parse_request_line(std::string_view line) {
  if (line.empty()) {  // RFC 9112 §2.2: ignore at least one empty line before the request
    if (++empty_lines_ > kMaxLeadingEmptyLines) return fail(HttpStatus::bad_request);
    head_bytes_ = 0;
    return;
  }
  note_head(line);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  // Exactly single spaces: an extra SP lands in the method, target or version and fails there.
  if (sp1 == std::string_view::npos || sp1 == sp2) return fail(HttpStatus::bad_request);
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  // Syntax first (400), then the version (505), then the form of the target (400), unless the
  // method is one we refuse anyway: "OPTIONS * HTTP/1.1" is refused for its method, after the
  // head (see parse_method()).
  if (!is_token(method) || !is_target_chars(target)) return fail(HttpStatus::bad_request);
  const HttpStatus version_status = parse_version(version, request_.minor_version);
  if (version_status != HttpStatus::ok) return fail(version_status);
  parse_method(method);
  if (refused_method_ == HttpStatus::ok && !parse_target(target))
    return fail(HttpStatus::bad_request);
  check_state_ = CheckState::headers;
  head_bytes_ = 0;
}

// Before any refusal of the request line, so that even an error answer to HEAD has no body.
void HttpParser::note_head(std::string_view request_line) {
  if (request_line.rfind("HEAD ", 0) == 0) request_.method = Method::head;
}

/**
 * Methods are case-sensitive (RFC 9110 §9.1): GET and HEAD are served, the other standard ones
 * get 405, the rest 501. The refusal waits for the end of the head: a broken framing must be
 * answered 400 (or 501) whatever the method (RFC 9112 §6.3), and nginx judges it first too.
 */
void HttpParser::parse_method(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"POST",    "PUT",   "DELETE", "CONNECT",
                                                "OPTIONS", "TRACE", "PATCH"};
  if (method == "GET") {
    request_.method = Method::get;
  } else if (method == "HEAD") {
    request_.method = Method::head;
  } else {
    const bool known = std::find(std::begin(kKnown), std::end(kKnown), method) != std::end(kKnown);
    refused_method_ = known ? HttpStatus::method_not_allowed : HttpStatus::not_implemented;
  }
}

/**
 * Accepts origin-form and absolute-form (RFC 9112 §3.2.1, §3.2.2) and stores the
 * origin-form part. Called for GET and HEAD only, for which the other two forms are malformed.
 */
bool HttpParser::parse_target(std::string_view target) {
  if (!target.empty() && target[0] == '/') {
    request_.target.assign(target.data(), target.size());
    return true;
  }
  std::size_t scheme_len = 0;
  if (iequals(target.substr(0, 7), "http://")) scheme_len = 7;
  if (iequals(target.substr(0, 8), "https://")) scheme_len = 8;
  if (scheme_len == 0) return false;
  const std::string_view rest = target.substr(scheme_len);
  const std::size_t path_start = rest.find_first_of("/?");
  if (path_start == 0 || rest.empty()) return false;  // no host
  if (path_start == std::string_view::npos) {
    request_.target.assign("/");
    return true;
  }
  const std::string_view path = rest.substr(path_start);
  request_.target.assign(path[0] == '?' ? "/" : "");
  request_.target.append(path.data(), path.size());
  return true;
}

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
void HttpParser::parse_headers(std::string_view line) {
  if (line.empty()) return end_of_headers();
  // obs-fold (RFC 9112 §5.2), or whitespace before the first field (§2.2): reject.
  if (line[0] == ' ' || line[0] == '\t') return fail(HttpStatus::bad_request);
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(HttpStatus::bad_request);
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = line.substr(colon + 1);
  // A name is a token, so "Host :" fails here as RFC 9112 §5.1 requires.
  if (!is_token(name) || !is_field_value(value)) return fail(HttpStatus::bad_request);
  parse_header_field(name, trim_ows(value));
}

/** Acts on the few fields that matter to an origin server of static files. */
void HttpParser::parse_header_field(std::string_view name, std::string_view value) {
  if (iequals(name, "host")) {
    if (host_seen_) return fail(HttpStatus::bad_request);  // RFC 9112 §3.2
    host_seen_ = true;
    return;
  }
  if (iequals(name, "content-length")) {
    // RFC 9112 §6.3: duplicates (even equal) and non-digits are framing errors.
    if (content_length_seen_) return fail(HttpStatus::bad_request);
    content_length_seen_ = true;
    if (!parse_content_length(value, request_.content_length)) fail(HttpStatus::bad_request);
    return;
  }
  if (iequals(name, "transfer-encoding")) {
    transfer_encoding_seen_ = true;  // judged at the end of the section, see end_of_headers()
    return;
  }
  if (iequals(name, "if-modified-since")) {
    // RFC 9110 §13.1.3: an invalid date, or more than one, and the field is ignored.
    if (++if_modified_since_fields_ == 1) request_.if_modified_since = parse_http_date(value);
    return;
  }
  if (iequals(name, "if-none-match")) if_none_match_seen_ = true;  // it would take precedence
  if (iequals(name, "connection")) parse_connection(value);
}

/** Connection = #connection-option (RFC 9110 §7.6.1): a comma list, case-insensitive. */
void HttpParser::parse_connection(std::string_view value) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view option = trim_ows(value.substr(0, comma));
    if (iequals(option, "close")) close_seen_ = true;
    if (iequals(option, "keep-alive")) keep_alive_seen_ = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

/** The empty line: decide the framing (RFC 9112 §6.3) and persistence (§9.3). */
void HttpParser::end_of_headers() {
  if (request_.minor_version == 1 && !host_seen_) return fail(HttpStatus::bad_request);
  // Both framings at once is the classic request-smuggling vector (RFC 9112 §6.1).
  if (transfer_encoding_seen_ && content_length_seen_) return fail(HttpStatus::bad_request);
  if (transfer_encoding_seen_) return fail(HttpStatus::not_implemented);
  if (refused_method_ != HttpStatus::ok) return fail(refused_method_);
  if (request_.content_length > kMaxBody) return fail(HttpStatus::payload_too_large);
  if (if_modified_since_fields_ > 1 || if_none_match_seen_) request_.if_modified_since = -1;
  request_.keep_alive =
      request_.minor_version == 1 ? !close_seen_ : keep_alive_seen_ && !close_seen_;
  body_left_ = request_.content_length;
  check_state_ = CheckState::content;
  if (body_left_ == 0) result_ = Result::complete;
}

/** The body is counted and discarded, never stored. */
void HttpParser::parse_content(std::size_t len, std::size_t& pos) {
  const std::uint64_t available = len - pos;
  const std::uint64_t n = std::min(body_left_, available);
  pos += static_cast<std::size_t>(n);
  body_left_ -= n;
  if (body_left_ == 0) result_ = Result::complete;
}

/** Records why the request is refused; feed() then consumes nothing until reset(). */
void HttpParser::fail(HttpStatus status) {
  result_ = Result::error;
  error_ = status;
}
