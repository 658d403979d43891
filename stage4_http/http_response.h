/**
 * @file http_response.h
 * Pure helpers that build response header blocks and error pages (RFC 9110, RFC 9112).
 *
 * Run by a worker process for every response. They append to a caller-owned buffer, so a
 * response head costs at most one allocation (the connection frees it once idle).
 */
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "http_parser.h"

/** The reason phrase for a status, e.g. "Not Found" (RFC 9110 §15). Runs in a worker. */
std::string_view reason_phrase(HttpStatus status);

/**
 * The Content-Type for a file name, chosen by its extension, case-insensitively. Text
 * types carry "; charset=utf-8"; unknown extensions get application/octet-stream. Runs in a
 * worker.
 */
std::string_view content_type_for(std::string_view path);

/**
 * The current time as an IMF-fixdate (RFC 9110 §5.6.7), for the Date header. Cached: it is
 * recomputed only when the second changes (CLOCK_REALTIME_COARSE). The view stays valid
 * until the next call; not thread-safe (one worker process, one thread).
 */
std::string_view http_date_now();

/**
 * Appends a complete response header block, ending in CRLF CRLF, to `out`:
 * status line, Date, Server: prefork/1.0, Content-Length, Content-Type, Last-Modified
 * (when `last_modified` is not null), Location (when `location` is not empty, for 301),
 * Allow: GET, HEAD (for 405, RFC 9110 §15.5.6),
 * Connection: close (when !keep_alive) or Connection: keep-alive (when keeping an
 * HTTP/1.0 connection open, RFC 9112 Appendix C.2.2), X-Worker: N (when worker_id >= 0).
 * The status line always says HTTP/1.1, the version we implement; `minor_version` is the
 * request's (0 or 1) and only decides the keep-alive header. Pass 1 for error responses.
 * Runs in a worker, once per response.
 */
void append_response_head(std::string& out, HttpStatus status, std::uint64_t content_length,
                          std::string_view content_type, const timespec* last_modified,
                          bool keep_alive, int worker_id, int minor_version = 1,
                          std::string_view location = {});

/**
 * A short static HTML body for an error status or a redirection (text/html; charset=utf-8);
 * empty for 200 and 304. Runs in a worker.
 */
std::string_view error_page(HttpStatus status);
