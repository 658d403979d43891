/**
 * @file http_client.h
 * A minimal HTTP/1.1 response reader for the integration tests of stages 4 and 5.
 */
#pragma once

#include <map>
#include <optional>
#include <string>

#include "harness.h"

namespace harness {

/** One parsed response. */
struct HttpResponse {
  int status = 0;                              ///< e.g. 200
  std::string status_line;                     ///< "HTTP/1.1 200 OK"
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  /** The header's value, or "" when absent. */
  std::string header(const std::string& lower_name) const;
};

/**
 * Reads one response from @p client: the head, then Content-Length bytes of body (none for a
 * response to HEAD, as @p to_head says). nullopt on timeout, EOF or a malformed head.
 */
std::optional<HttpResponse> read_response(Client& client, bool to_head = false,
                                          Millis deadline = kDeadline);

/**
 * A request the tests send: "METHOD target HTTP/1.1", a Host header, then @p fields (field lines,
 * each ending in CRLF) and the empty line. No body: append one after it.
 */
std::string request(const std::string& method, const std::string& target,
                    const std::string& fields = "");

/** "GET path HTTP/1.1" with a Host header (and "Connection: close" when @p close). */
std::string get_request(const std::string& path, bool close = false);

/** Opens a connection, sends one GET with Connection: close and reads the response. */
std::optional<HttpResponse> fetch(std::uint16_t port, const std::string& path);

/** Shrinks @p client's receive buffer to @p bytes, so that the server must wait for its reads. */
void shrink_receive_buffer(Client& client, int bytes);

/**
 * A slow reader: reads @p size bytes of body (starting with those already buffered) in chunks
 * of @p chunk, sleeping @p pause after each. The sleep is the reader's pace, not a wait for a
 * condition. Returns what arrived: fewer bytes only on EOF or timeout.
 */
std::string read_body_paced(Client& client, std::size_t size, std::size_t chunk, Millis pause);

}  // namespace harness

namespace harness {

/**
 * A temporary document root for HTTP tests, removed on destruction:
 *   www/index.html (612 bytes), www/empty.txt (0), www/ten_k.bin (10 KiB), www/one_mib.bin
 *   (1 MiB), www/sub/index.html, www/style.css, www/link_in -> index.html,
 *   www/link_out -> ../secret.txt, and secret.txt outside the root.
 */
class DocRoot {
 public:
  DocRoot();
  ~DocRoot();
  DocRoot(const DocRoot&) = delete;
  DocRoot& operator=(const DocRoot&) = delete;

  const std::string& root() const { return root_; }  ///< pass as --root
  /** Writes (or replaces) @p relative under the root with @p content. */
  void write(const std::string& relative, const std::string& content) const;
  /** The content of a file written by the constructor or write(). */
  std::string content(const std::string& relative) const;
  /** Deterministic bytes for file bodies. */
  static std::string pattern(std::size_t size);

 private:
  std::string base_;
  std::string root_;
};

}  // namespace harness
