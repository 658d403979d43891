/**
 * @file http_response.cpp
 * Response heads, dates, content types and error pages. Pure except for reading the clock
 * in http_date_now(); run by a worker process for every response.
 */
#include "http_response.h"

#include <stdio.h>
#include <string.h>

#include <charconv>

namespace {

constexpr std::size_t kDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

/** Appends an unsigned integer in decimal without allocating a temporary string. */
void append_number(std::string& out, std::uint64_t n) {
  char buf[20];
  const auto result = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, result.ptr);
}

/** Formats @p t as an IMF-fixdate into buf[0..kDateLength). */
void format_http_date(time_t t, char* buf) {
  // English names whatever the locale; years clamped to the four digits the format has room for.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  constexpr time_t kMin = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr time_t kMax = 253402300799;  // 9999-12-31T23:59:59Z
  t = t < kMin ? kMin : (t > kMax ? kMax : t);
  tm parts{};
  gmtime_r(&t, &parts);
  char text[64];
  snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[parts.tm_wday],
           parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
           parts.tm_min, parts.tm_sec);
  memcpy(buf, text, kDateLength);
}

/** One row of kMimeTypes: a file extension and its Content-Type. */
struct MimeType {
  std::string_view extension;
  std::string_view type;
};

// A linear scan over a table this short beats hashing; sort by frequency if it grows.
constexpr MimeType kMimeTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},  // RFC 9239
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},  // RFC 8259 §11: UTF-8 by definition, no charset parameter
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"svg", "image/svg+xml"},
    {"ico", "image/x-icon"},
    {"webp", "image/webp"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"xml", "text/xml; charset=utf-8"},
};

// Cache for http_date_now(): one per worker process, defined here and not in the header.
time_t cached_second = -1;
char cached_date[kDateLength];

}  // namespace

std::string_view reason_phrase(HttpStatus status) {
  switch (status) {
    case HttpStatus::ok:
      return "OK";
    case HttpStatus::moved_permanently:
      return "Moved Permanently";
    case HttpStatus::not_modified:
      return "Not Modified";
    case HttpStatus::bad_request:
      return "Bad Request";
    case HttpStatus::forbidden:
      return "Forbidden";
    case HttpStatus::not_found:
      return "Not Found";
    case HttpStatus::method_not_allowed:
      return "Method Not Allowed";
    case HttpStatus::payload_too_large:
      return "Content Too Large";  // RFC 9110 §15.5.14 renamed "Payload Too Large"
    case HttpStatus::uri_too_long:
      return "URI Too Long";
    case HttpStatus::header_fields_too_large:
      return "Request Header Fields Too Large";  // RFC 6585 §5
    case HttpStatus::internal_server_error:
      return "Internal Server Error";
    case HttpStatus::not_implemented:
      return "Not Implemented";
    case HttpStatus::version_not_supported:
      return "HTTP Version Not Supported";
  }
  return "Unknown";
}

std::string_view content_type_for(std::string_view path) {
  constexpr std::string_view kDefault = "application/octet-stream";
  const std::size_t dot = path.rfind('.');
  const std::size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return kDefault;
  }
  const std::string_view extension = path.substr(dot + 1);
  for (const MimeType& mime : kMimeTypes) {
    if (iequals(extension, mime.extension)) return mime.type;
  }
  return kDefault;
}

std::string_view http_date_now() {
  timespec now{};
  // The coarse clock is a vDSO read with no syscall; its few-ms lag is far below 1 s.
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) != 0) now.tv_sec = time(nullptr);
  if (now.tv_sec != cached_second) {
    format_http_date(now.tv_sec, cached_date);
    cached_second = now.tv_sec;
  }
  return std::string_view(cached_date, kDateLength);
}

void append_response_head(std::string& out, HttpStatus status, std::uint64_t content_length,
                          std::string_view content_type, const timespec* last_modified,
                          bool keep_alive, int worker_id, int minor_version,
                          std::string_view location) {
  out.append("HTTP/1.1 ");  // our version, also to a 1.0 client (RFC 9110 §6.2)
  append_number(out, static_cast<std::uint64_t>(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\nDate: ");
  out.append(http_date_now());
  out.append("\r\nServer: prefork/1.0\r\nContent-Length: ");
  append_number(out, content_length);
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  out.append("\r\n");
  if (last_modified != nullptr) {
    char buf[kDateLength];
    format_http_date(last_modified->tv_sec, buf);
    out.append("Last-Modified: ");
    out.append(buf, kDateLength);
    out.append("\r\n");
  }
  if (!location.empty()) {
    out.append("Location: ");
    out.append(location);
    out.append("\r\n");
  }
  if (status == HttpStatus::method_not_allowed) out.append("Allow: GET, HEAD\r\n");
  if (!keep_alive) out.append("Connection: close\r\n");
  // HTTP/1.0 persistence is opt-in on both sides: echo keep-alive or the client closes.
  if (keep_alive && minor_version == 0) out.append("Connection: keep-alive\r\n");
  if (worker_id >= 0) {
    out.append("X-Worker: ");
    append_number(out, static_cast<std::uint64_t>(worker_id));
    out.append("\r\n");
  }
  out.append("\r\n");
}

std::string_view error_page(HttpStatus status) {
  // Spelled out, not built at run time: the pages are static data shared by every response.
  switch (status) {
    case HttpStatus::ok:
    case HttpStatus::not_modified:  // a 304 never has a body
      return "";
    case HttpStatus::moved_permanently:
      return "<html><head><title>301 Moved Permanently</title></head>"
             "<body><h1>301 Moved Permanently</h1></body></html>\n";
    case HttpStatus::bad_request:
      return "<html><head><title>400 Bad Request</title></head>"
             "<body><h1>400 Bad Request</h1></body></html>\n";
    case HttpStatus::forbidden:
      return "<html><head><title>403 Forbidden</title></head>"
             "<body><h1>403 Forbidden</h1></body></html>\n";
    case HttpStatus::not_found:
      return "<html><head><title>404 Not Found</title></head>"
             "<body><h1>404 Not Found</h1></body></html>\n";
    case HttpStatus::method_not_allowed:
      return "<html><head><title>405 Method Not Allowed</title></head>"
             "<body><h1>405 Method Not Allowed</h1></body></html>\n";
    case HttpStatus::payload_too_large:
      return "<html><head><title>413 Content Too Large</title></head>"
             "<body><h1>413 Content Too Large</h1></body></html>\n";
    case HttpStatus::uri_too_long:
      return "<html><head><title>414 URI Too Long</title></head>"
             "<body><h1>414 URI Too Long</h1></body></html>\n";
    case HttpStatus::header_fields_too_large:
      return "<html><head><title>431 Request Header Fields Too Large</title></head>"
             "<body><h1>431 Request Header Fields Too Large</h1></body></html>\n";
    case HttpStatus::internal_server_error:
      return "<html><head><title>500 Internal Server Error</title></head>"
             "<body><h1>500 Internal Server Error</h1></body></html>\n";
    case HttpStatus::not_implemented:
      return "<html><head><title>501 Not Implemented</title></head>"
             "<body><h1>501 Not Implemented</h1></body></html>\n";
    case HttpStatus::version_not_supported:
      return "<html><head><title>505 HTTP Version Not Supported</title></head>"
             "<body><h1>505 HTTP Version Not Supported</h1></body></html>\n";
  }
  return "";
}
