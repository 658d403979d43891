/**
 * @file byte_ranges_test.cpp
 * The integration part of lab byte-ranges' grader (labs/byte-ranges/README.md): the student's
 * server answers Range requests (RFC 9110 §14) over real sockets, as `curl -r` and a resumed
 * download see it: 206 with exactly the bytes asked, 416, Accept-Ranges on every file, the whole
 * file for what it may ignore, and keep-alive that goes on after a part.
 */
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

namespace {

using harness::Client;
using harness::DocRoot;
using harness::HttpResponse;
using harness::read_response;
using harness::ServerProcess;

constexpr std::size_t kTenK = 10 * 1024;
constexpr std::size_t kMiB = 1024 * 1024;

/** A GET of @p path with "Range: @p range", as `curl -r` sends it. */
std::string ranged(const std::string& path, const std::string& range) {
  return harness::request("GET", path, "Range: " + range + "\r\n");
}

/** A stage-4 server (the student's) with a fresh temporary document root. */
class ByteRanges : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ =
        std::make_unique<ServerProcess>(harness::with_workers(2, {"--root", docroot_.root()}));
    ASSERT_TRUE(server_->ready()) << server_->stderr_text();
  }
  std::uint16_t port() const { return server_->port(); }

  /** A 206 for bytes first..last of @p name, with exactly those bytes and the right fields. */
  void expect_part(const std::optional<HttpResponse>& response, const std::string& name,
                   std::size_t first, std::size_t last) {
    ASSERT_TRUE(response.has_value()) << name << ": no complete response";
    const std::string content = docroot_.content(name);
    ASSERT_EQ(response->status_line, "HTTP/1.1 206 Partial Content") << name;
    EXPECT_EQ(response->header("content-range"), "bytes " + std::to_string(first) + "-" +
                                                     std::to_string(last) + "/" +
                                                     std::to_string(content.size()));
    EXPECT_EQ(response->header("content-length"), std::to_string(last - first + 1));
    EXPECT_EQ(response->header("accept-ranges"), "bytes");
    EXPECT_FALSE(response->header("last-modified").empty()) << "the same fields as its 200";
    EXPECT_TRUE(response->body == content.substr(first, last - first + 1))
        << name << " " << first << "-" << last << ": other bytes than those asked";
  }

  /** A 200 with all of @p name, Accept-Ranges, and no Content-Range. */
  void expect_whole(const std::optional<HttpResponse>& response, const std::string& name,
                    const std::string& why) {
    ASSERT_TRUE(response.has_value()) << why << ": no complete response";
    EXPECT_EQ(response->status, 200) << why;
    EXPECT_EQ(response->header("accept-ranges"), "bytes") << why;
    EXPECT_EQ(response->header("content-range"), "") << why;
    EXPECT_TRUE(response->body == docroot_.content(name)) << why << ": not the whole file";
  }

  /** A 416 for a file of @p size bytes; the connection stays open for the next request. */
  void expect_unsatisfiable(const std::optional<HttpResponse>& response, std::size_t size,
                            const std::string& why) {
    ASSERT_TRUE(response.has_value()) << why << ": no complete response";
    ASSERT_EQ(response->status_line, "HTTP/1.1 416 Range Not Satisfiable") << why;
    EXPECT_EQ(response->header("content-range"), "bytes */" + std::to_string(size)) << why;
    EXPECT_NE(response->body.find("416"), std::string::npos) << why << ": a short error page";
    EXPECT_NE(response->header("connection"), "close") << why << ": a 416 is no parse error";
  }

  DocRoot docroot_;
  std::unique_ptr<ServerProcess> server_;
};

// RFC 9110 §14.3: a server that takes ranges says so, on every 200 for a file (and the HEAD).
TEST_F(ByteRanges, EveryFileResponseAdvertisesByteRanges) {
  for (const char* path : {"/index.html", "/empty.txt", "/one_mib.bin", "/sub/", "/"}) {
    const auto response = harness::fetch(port(), path);
    ASSERT_TRUE(response.has_value()) << path;
    EXPECT_EQ(response->status, 200) << path;
    EXPECT_EQ(response->header("accept-ranges"), "bytes") << path;
    EXPECT_EQ(response->header("content-range"), "") << path << ": no Range was asked";
  }
  Client client(port());
  ASSERT_TRUE(client.send_all(harness::request("HEAD", "/ten_k.bin")));
  const auto head = read_response(client, true);
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->header("accept-ranges"), "bytes") << "HEAD: the fields of the GET";
}

// The three forms, as `curl -r 0-99`, `curl -r 10000-` and `curl -r -100` send them, all on
// one keep-alive connection: a part with one byte too many would shift every later response.
TEST_F(ByteRanges, ThreeFormsGiveExactlyThoseBytes) {
  const struct {
    const char* range;
    std::size_t first, last;
  } cases[] = {
      {"bytes=0-99", 0, 99},
      {"bytes=10000-", 10000, kTenK - 1},
      {"bytes=-100", kTenK - 100, kTenK - 1},
      {"bytes=1234-1234", 1234, 1234},
      {"bytes=5000-99999", 5000, kTenK - 1},
      {"bytes=-20000", 0, kTenK - 1},
  };
  Client client(port());
  for (const auto& c : cases) {
    ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", c.range)));
    const auto response = read_response(client);
    expect_part(response, "ten_k.bin", c.first, c.last);
    ASSERT_FALSE(HasFailure()) << "Range: " << c.range;
    EXPECT_EQ(response->header("content-type"), "application/octet-stream");
  }
  EXPECT_TRUE(harness::next_exchange(client)) << "keep-alive after the parts";
}

// `curl -C -`: a download is cut off after N bytes, and the rest is asked with bytes=N-. The
// rest (more than the 4 MiB a loopback send buffer grows to, and more than one turn's share)
// goes out in many sendfile() calls, each from where the last stopped; the two pieces together
// are the file, byte for byte.
TEST_F(ByteRanges, ResumedDownloadIsByteExact) {
  const std::size_t size = 6 * kMiB + 12345;
  constexpr std::size_t kCut = 1234567;  // odd, and not on a page boundary
  docroot_.write("six_mib.bin", DocRoot::pattern(size));
  std::string received;
  {
    Client first(port());
    ASSERT_TRUE(first.send_all(harness::get_request("/six_mib.bin")));
    const std::string head = first.read_until("\r\n\r\n");
    ASSERT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head;
    received = first.read_exact(kCut);
    ASSERT_EQ(received.size(), kCut);
    first.reset();  // the cable is pulled
  }
  Client second(port());
  harness::shrink_receive_buffer(second, 64 * 1024);
  ASSERT_TRUE(second.send_all(ranged("/six_mib.bin", "bytes=" + std::to_string(kCut) + "-")));
  const auto rest = read_response(second);
  expect_part(rest, "six_mib.bin", kCut, size - 1);
  ASSERT_TRUE(rest.has_value());
  EXPECT_TRUE(received + rest->body == docroot_.content("six_mib.bin"))
      << "the resumed download differs from the file";
  EXPECT_TRUE(harness::next_exchange(second));
}

// RFC 9110 §15.5.17: a range that starts past the end gets 416 and the file's size, so that the
// client can ask again; the connection goes on.
TEST_F(ByteRanges, UnsatisfiableRangeIs416WithTheSize) {
  Client client(port());
  for (const char* range : {"bytes=10240-", "bytes=99999-100000", "bytes=-0"}) {
    ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", range)));
    expect_unsatisfiable(read_response(client), kTenK, range);
  }
  ASSERT_TRUE(client.send_all(ranged("/empty.txt", "bytes=0-")));
  expect_unsatisfiable(read_response(client), 0, "bytes=0- of an empty file");
  EXPECT_TRUE(harness::next_exchange(client)) << "keep-alive after a 416";
  // A part after the 416s on the same connection: nothing of them is left over.
  ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", "bytes=0-9")));
  expect_part(read_response(client), "ten_k.bin", 0, 9);
}

// RFC 9110 §14.2 lets a server ignore Range; this server ignores a list of ranges instead of
// answering with multipart/byteranges.
TEST_F(ByteRanges, SeveralRangesGetTheWholeFile) {
  Client client(port());
  for (const char* range : {"bytes=0-1,5-6", "bytes=0-1, 5-6", "bytes=-1,0-0"}) {
    ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", range)));
    expect_whole(read_response(client), "ten_k.bin", range);
  }
}

// An invalid Range, or one in a unit we do not know, is ignored: the whole file (§14.2).
TEST_F(ByteRanges, InvalidRangeIsIgnored) {
  Client client(port());
  for (const char* range :
       {"bytes=5-2", "bytes=abc", "bytes=", "items=0-1", "bytes 0-1", "bytes=--1", "bytes=+1-2"}) {
    ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", range)));
    expect_whole(read_response(client), "ten_k.bin", range);
  }
}

// RFC 9110 §14.2: GET is the only method with ranges. HEAD may ignore Range (200, the head of the
// whole file) or answer it as the GET would (206, the same fields); either way no body follows.
// POST is refused as before, with no trace of the Range.
TEST_F(ByteRanges, RangeOnHeadOrAnotherMethod) {
  Client client(port());
  ASSERT_TRUE(client.send_all(harness::request("HEAD", "/ten_k.bin", "Range: bytes=0-99\r\n")));
  auto head = read_response(client, true);
  ASSERT_TRUE(head.has_value());
  ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", "bytes=0-99")));
  auto get = read_response(client);
  expect_part(get, "ten_k.bin", 0, 99);  // so a body after the HEAD would have shown here
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(head->header("accept-ranges"), "bytes");
  if (head->status == 206) {
    EXPECT_EQ(head->status_line, get->status_line);
    head->headers.erase("date");  // the second may tick between the two
    get->headers.erase("date");
    EXPECT_EQ(head->headers, get->headers) << "HEAD: the fields of the GET";
  } else {
    EXPECT_EQ(head->status, 200);
    EXPECT_EQ(head->header("content-length"), std::to_string(kTenK));
    EXPECT_EQ(head->header("content-range"), "");
  }
  Client post(port());
  ASSERT_TRUE(post.send_all(
      harness::request("POST", "/ten_k.bin", "Range: bytes=0-99\r\nContent-Length: 0\r\n")));
  const auto refused = read_response(post);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 405);
  EXPECT_EQ(refused->header("content-range"), "");
}

// Pipelined: a part, a suffix of another file, a whole file, each response exactly as long as
// it says, in order, on one connection.
TEST_F(ByteRanges, KeepAliveWorksAfterA206) {
  Client client(port());
  ASSERT_TRUE(client.send_all(ranged("/ten_k.bin", "bytes=0-99") +
                              ranged("/one_mib.bin", "bytes=-10") +
                              harness::get_request("/index.html")));
  expect_part(read_response(client), "ten_k.bin", 0, 99);
  expect_part(read_response(client), "one_mib.bin", kMiB - 10, kMiB - 1);
  expect_whole(read_response(client), "index.html", "a whole file after two parts");
  EXPECT_TRUE(harness::next_exchange(client));
}

// Chapter 4's rule: an idle connection keeps nothing of its last request. A Range value kept
// for answer() must be freed with the rest of the request, or 400 idle connections that each
// sent a 15 KB one hold 6 MB.
TEST_F(ByteRanges, IdleConnectionsDoNotKeepALongRange) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer keeps freed memory in quarantine: RSS cannot tell";
#endif
  ServerProcess one(harness::with_workers(1, {"--root", docroot_.root()}));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(one, 1, &workers));
  ASSERT_TRUE(harness::serves_a_new_client(one.port()));
  const long rss_before = harness::rss_kib(workers[0]);
  const std::string range = "bytes=" + std::string(15000, '0') + "-99";  // bytes 0-99
  std::vector<Client> idle;
  for (int i = 0; i < 400; ++i) {
    idle.emplace_back(one.port());
    ASSERT_TRUE(idle.back().send_all(ranged("/ten_k.bin", range)));
    const auto response = read_response(idle.back());
    ASSERT_TRUE(response.has_value() && response->status / 100 == 2) << "connection " << i;
  }
  const long rss_after = harness::rss_kib(workers[0]);
  // Kept, 400 x 15 KB would be about 5.7 MiB; freed, a few hundred bytes each.
  EXPECT_LT(rss_after - rss_before, 2 * 1024)
      << "the worker's RSS grew from " << rss_before << " to " << rss_after << " KiB";
}

// RFC 9110 §13.1.5: when If-Range's validator does not match the file, the server MUST ignore
// Range. We send no ETag, so no entity-tag matches, and 1970 is not the Last-Modified date.
TEST_F(ByteRanges, IfRangeNeverGivesAStalePart) {
  Client client(port());
  for (const char* validator : {"\"an-old-etag\"", "Thu, 01 Jan 1970 00:00:00 GMT"}) {
    ASSERT_TRUE(client.send_all(harness::request(
        "GET", "/ten_k.bin", std::string("Range: bytes=0-99\r\nIf-Range: ") + validator + "\r\n")));
    expect_whole(read_response(client), "ten_k.bin", std::string("If-Range: ") + validator);
  }
}

// RFC 9110 §13.2.2: If-Modified-Since is judged before Range; a 304 has no part to send.
TEST_F(ByteRanges, NotModifiedComesBeforeTheRange) {
  const auto first = harness::fetch(port(), "/ten_k.bin");
  ASSERT_TRUE(first.has_value());
  const std::string last_modified = first->header("last-modified");
  ASSERT_FALSE(last_modified.empty());
  Client client(port());
  ASSERT_TRUE(client.send_all(harness::request(
      "GET", "/ten_k.bin", "Range: bytes=0-99\r\nIf-Modified-Since: " + last_modified + "\r\n")));
  const auto unchanged = read_response(client);
  ASSERT_TRUE(unchanged.has_value());
  EXPECT_EQ(unchanged->status, 304);
  ASSERT_TRUE(client.send_all(harness::request(
      "GET", "/ten_k.bin",
      "Range: bytes=0-99\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT\r\n")));
  expect_part(read_response(client), "ten_k.bin", 0, 99);
}

}  // namespace
