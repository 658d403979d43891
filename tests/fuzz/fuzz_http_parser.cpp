/**
 * @file fuzz_http_parser.cpp
 * libFuzzer target for HttpParser. Treats the input as one connection's byte stream
 * (pipelined requests included) and checks that feeding it whole, split at a point chosen
 * by the input, and one byte at a time all give the same sequence of results, and that
 * every complete request has a sane target that resolve_target() can handle.
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http_parser.h"
#include "path_resolve.h"

namespace {

/** One decided request on the connection, as seen by the caller. */
struct Event {
  HttpParser::Result result;
  int status;
  std::string target;
  int minor_version;
  bool keep_alive;
  std::uint64_t content_length;
  std::size_t end_offset;  // stream offset just after this request (or its error byte)

  bool operator==(const Event& o) const {
    return result == o.result && status == o.status && target == o.target &&
           minor_version == o.minor_version && keep_alive == o.keep_alive &&
           content_length == o.content_length && end_offset == o.end_offset;
  }
  bool operator!=(const Event& o) const { return !(*this == o); }
};

[[noreturn]] void die(const char* why) {
  std::fprintf(stderr, "invariant broken: %s\n", why);
  std::abort();
}

void check_request(const HttpRequest& r) {
  if (r.target.empty() || r.target[0] != '/') die("target not origin-form");
  for (char ch : r.target) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) die("CTL or SP in target");
  }
  if (r.minor_version != 0 && r.minor_version != 1) die("bad minor version");
  if (r.content_length > HttpParser::kMaxBody) die("body over the limit accepted");
  std::string relative;
  if (resolve_target(r.target, relative) == HttpStatus::ok &&
      (relative.empty() || relative[0] == '/')) {
    die("resolved path not relative");
  }
}

/** Runs the stream through one parser, delivered in chunks of at most `chunk` bytes. */
std::vector<Event> run(const char* data, std::size_t size, std::size_t first_cut,
                       std::size_t chunk) {
  std::vector<Event> events;
  HttpParser parser;
  std::size_t offset = 0;
  while (offset < size) {
    std::size_t piece = offset < first_cut ? first_cut - offset : chunk;
    if (piece > size - offset) piece = size - offset;
    const std::size_t n = parser.feed(data + offset, piece);
    if (n > piece) die("consumed more than given");
    offset += n;
    if (parser.result() == HttpParser::Result::incomplete) {
      if (n != piece) die("incomplete but did not consume everything");
      continue;
    }
    Event e{parser.result(), 0, "", 0, false, 0, offset};
    if (parser.result() == HttpParser::Result::error) {
      e.status = static_cast<int>(parser.error());
      events.push_back(e);
      return events;  // the connection closes after an error
    }
    check_request(parser.request());
    e.target = parser.request().target;
    e.minor_version = parser.request().minor_version;
    e.keep_alive = parser.request().keep_alive;
    e.content_length = parser.request().content_length;
    events.push_back(e);
    parser.reset();
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const auto* data = reinterpret_cast<const char*>(bytes);
  const std::size_t all = static_cast<std::size_t>(-1);
  const std::vector<Event> whole = run(data, size, 0, all);
  const std::size_t cut = size == 0 ? 0 : (bytes[0] * 131u + size) % (size + 1);
  if (run(data, size, cut, all) != whole) die("split at one point changed the result");
  if (run(data, size, 0, 1) != whole) die("byte-at-a-time changed the result");
  if (run(data, size, 0, 7) != whole) die("7-byte chunks changed the result");
  return 0;
}
