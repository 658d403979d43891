/**
 * @file response_test.cpp
 * Unit tests for the response helpers: exact header bytes, IMF-fixdate, content types,
 * reason phrases and error pages. Runs in the test process.
 */
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <string_view>

#include "http_response.h"

namespace {

constexpr HttpStatus kAllStatuses[] = {
    HttpStatus::ok,
    HttpStatus::moved_permanently,
    HttpStatus::not_modified,
    HttpStatus::bad_request,
    HttpStatus::forbidden,
    HttpStatus::not_found,
    HttpStatus::method_not_allowed,
    HttpStatus::payload_too_large,
    HttpStatus::uri_too_long,
    HttpStatus::header_fields_too_large,
    HttpStatus::internal_server_error,
    HttpStatus::not_implemented,
    HttpStatus::version_not_supported,
};

/** Checks the shape "Sun, 06 Nov 1994 08:49:37 GMT" character class by character class. */
bool looks_like_imf_fixdate(std::string_view d) {
  const std::string_view shape = "Aaa, 00 Aaa 0000 00:00:00 GMT";
  if (d.size() != shape.size()) return false;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const char s = shape[i];
    const char c = d[i];
    if (s == '0' && (c < '0' || c > '9')) return false;
    if (s == 'A' && (c < 'A' || c > 'Z')) return false;
    if (s == 'a' && (c < 'a' || c > 'z')) return false;
    if (s != '0' && s != 'A' && s != 'a' && s != c) return false;
  }
  return true;
}

/** Returns the Date header value in `head` and checks its shape. */
std::string date_of(const std::string& head) {
  const std::size_t start = head.find("\r\nDate: ");
  EXPECT_NE(start, std::string::npos);
  if (start == std::string::npos) return "";
  const std::string date = head.substr(start + 8, 29);
  EXPECT_TRUE(looks_like_imf_fixdate(date)) << date;
  return date;
}

TEST(ResponseHeadTest, OkWithLastModifiedKeepAliveAndWorker) {
  std::string out = "previous bytes|";  // appends, never overwrites
  const timespec mtime{784111777, 123};
  append_response_head(out, HttpStatus::ok, 1234, "text/html; charset=utf-8", &mtime, true, 3);
  const std::string date = date_of(out);
  EXPECT_EQ(out,
            "previous bytes|"
            "HTTP/1.1 200 OK\r\n"
            "Date: " +
                date +
                "\r\n"
                "Server: prefork/1.0\r\n"
                "Content-Length: 1234\r\n"
                "Content-Type: text/html; charset=utf-8\r\n"
                "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                "X-Worker: 3\r\n"
                "\r\n");
}

TEST(ResponseHeadTest, ErrorClosesWithoutWorker) {
  std::string out;
  const std::string_view body = error_page(HttpStatus::not_found);
  append_response_head(out, HttpStatus::not_found, body.size(), "text/html; charset=utf-8", nullptr,
                       false, -1);
  const std::string date = date_of(out);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\n"
            "Date: " +
                date +
                "\r\n"
                "Server: prefork/1.0\r\n"
                "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "Content-Type: text/html; charset=utf-8\r\n"
                "Connection: close\r\n"
                "\r\n");
}

TEST(ResponseHeadTest, MethodNotAllowedCarriesAllow) {
  std::string out;
  append_response_head(out, HttpStatus::method_not_allowed, 0, "text/html; charset=utf-8", nullptr,
                       false, 0);
  const std::string date = date_of(out);
  EXPECT_EQ(out,
            "HTTP/1.1 405 Method Not Allowed\r\n"
            "Date: " +
                date +
                "\r\n"
                "Server: prefork/1.0\r\n"
                "Content-Length: 0\r\n"
                "Content-Type: text/html; charset=utf-8\r\n"
                "Allow: GET, HEAD\r\n"
                "Connection: close\r\n"
                "X-Worker: 0\r\n"
                "\r\n");
}

TEST(ResponseHeadTest, RedirectCarriesLocation) {
  std::string out;
  append_response_head(out, HttpStatus::moved_permanently, 0, "text/html; charset=utf-8", nullptr,
                       true, 0, 1, "/sub/?a=1");
  EXPECT_NE(out.find("HTTP/1.1 301 Moved Permanently\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\nLocation: /sub/?a=1\r\n"), std::string::npos) << out;
  std::string plain;
  append_response_head(plain, HttpStatus::ok, 0, "text/html; charset=utf-8", nullptr, true, 0);
  EXPECT_EQ(plain.find("Location"), std::string::npos) << plain;
}

TEST(ResponseHeadTest, Http10KeepAliveIsEchoed) {
  std::string out;
  append_response_head(out, HttpStatus::ok, 18446744073709551615ull, "image/png", nullptr, true,
                       255, 0);
  const std::string date = date_of(out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Date: " +
                date +
                "\r\n"
                "Server: prefork/1.0\r\n"
                "Content-Length: 18446744073709551615\r\n"
                "Content-Type: image/png\r\n"
                "Connection: keep-alive\r\n"
                "X-Worker: 255\r\n"
                "\r\n");
  out.clear();
  append_response_head(out, HttpStatus::ok, 1, "image/png", nullptr, false, -1, 0);
  EXPECT_EQ(out.find("HTTP/1.1 200 OK\r\n"), 0u);  // our version, whatever the client's
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(out.find("keep-alive"), std::string::npos);
}

TEST(ResponseHeadTest, ReusedBufferKeepsItsCapacity) {
  std::string out;
  out.reserve(512);
  const auto* data = out.data();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    append_response_head(out, HttpStatus::ok, 10, "text/plain; charset=utf-8", nullptr, true, 1);
  }
  EXPECT_EQ(out.data(), data);  // no reallocation once the buffer is big enough
}

/** The Last-Modified value that append_response_head() writes for a file modified at @p t. */
std::string last_modified(time_t t) {
  std::string head;
  const timespec mtime{t, 0};
  append_response_head(head, HttpStatus::ok, 0, "text/plain; charset=utf-8", &mtime, true, -1);
  const std::size_t at = head.find("Last-Modified: ") + 15;
  return head.substr(at, head.find("\r\n", at) - at);
}

TEST(HttpDateTest, KnownDates) {
  EXPECT_EQ(last_modified(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(last_modified(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110 §5.6.7
  EXPECT_EQ(last_modified(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(last_modified(1709208000), "Thu, 29 Feb 2024 12:00:00 GMT");
  EXPECT_EQ(last_modified(2147483647), "Tue, 19 Jan 2038 03:14:07 GMT");
  EXPECT_EQ(last_modified(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
  EXPECT_EQ(last_modified(4107542400), "Mon, 01 Mar 2100 00:00:00 GMT");  // 2100 is not leap
  EXPECT_EQ(last_modified(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(HttpDateTest, AgreesWithGmtime) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<std::int64_t> dist(-2208988800, 32503680000);  // 1900..3000
  for (int i = 0; i < 20000; ++i) {
    const auto t = static_cast<time_t>(dist(rng));
    tm parts{};
    ASSERT_NE(gmtime_r(&t, &parts), nullptr);
    char expected[64];
    ASSERT_GT(strftime(expected, sizeof expected, "%a, %d %b %Y %H:%M:%S GMT", &parts), 0u);
    ASSERT_EQ(last_modified(t), expected) << t;
  }
}

TEST(HttpDateTest, NowIsCurrentAndCached) {
  const time_t before = time(nullptr);
  const std::string_view now = http_date_now();
  const time_t after = time(nullptr);
  ASSERT_TRUE(looks_like_imf_fixdate(now)) << now;
  // The coarse clock may lag time() by a tick, so accept one second either side.
  const std::string s(now);
  EXPECT_TRUE(s == last_modified(before) || s == last_modified(after) || s == last_modified(before - 1)) << s;
  EXPECT_EQ(http_date_now().data(), now.data());  // same cached buffer
}

TEST(ContentTypeTest, ByExtensionCaseInsensitive) {
  const struct {
    const char* path;
    const char* type;
  } cases[] = {
      {"index.html", "text/html; charset=utf-8"},
      {"a/B.HTM", "text/html; charset=utf-8"},
      {"s.css", "text/css; charset=utf-8"},
      {"app.js", "text/javascript; charset=utf-8"},
      {"mod.MJS", "text/javascript; charset=utf-8"},
      {"d.json", "application/json"},
      {"r.txt", "text/plain; charset=utf-8"},
      {"README.md", "text/markdown; charset=utf-8"},
      {"i.png", "image/png"},
      {"i.jpg", "image/jpeg"},
      {"i.JpEg", "image/jpeg"},
      {"i.gif", "image/gif"},
      {"i.svg", "image/svg+xml"},
      {"favicon.ico", "image/x-icon"},
      {"i.webp", "image/webp"},
      {"doc.pdf", "application/pdf"},
      {"m.wasm", "application/wasm"},
      {"feed.xml", "text/xml; charset=utf-8"},
      {"archive.tar.gz", "application/octet-stream"},
      {"Makefile", "application/octet-stream"},
      {"dir.html/file", "application/octet-stream"},  // the dot is in a directory name
      {"file.", "application/octet-stream"},
      {"file.htmlx", "application/octet-stream"},
      {"", "application/octet-stream"},
      {".html", "text/html; charset=utf-8"},
  };
  for (const auto& c : cases) EXPECT_EQ(content_type_for(c.path), c.type) << c.path;
}

TEST(ReasonPhraseTest, EveryStatus) {
  EXPECT_EQ(reason_phrase(HttpStatus::ok), "OK");
  EXPECT_EQ(reason_phrase(HttpStatus::moved_permanently), "Moved Permanently");
  EXPECT_EQ(reason_phrase(HttpStatus::not_modified), "Not Modified");
  EXPECT_EQ(reason_phrase(HttpStatus::bad_request), "Bad Request");
  EXPECT_EQ(reason_phrase(HttpStatus::forbidden), "Forbidden");
  EXPECT_EQ(reason_phrase(HttpStatus::not_found), "Not Found");
  EXPECT_EQ(reason_phrase(HttpStatus::method_not_allowed), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(HttpStatus::payload_too_large), "Content Too Large");
  EXPECT_EQ(reason_phrase(HttpStatus::uri_too_long), "URI Too Long");
  EXPECT_EQ(reason_phrase(HttpStatus::header_fields_too_large), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(HttpStatus::internal_server_error), "Internal Server Error");
  EXPECT_EQ(reason_phrase(HttpStatus::not_implemented), "Not Implemented");
  EXPECT_EQ(reason_phrase(HttpStatus::version_not_supported), "HTTP Version Not Supported");
}

TEST(ErrorPageTest, EveryErrorHasAShortPageNamingIt) {
  EXPECT_EQ(error_page(HttpStatus::not_found),
            "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body>"
            "</html>\n");
  EXPECT_TRUE(error_page(HttpStatus::ok).empty());
  EXPECT_TRUE(error_page(HttpStatus::not_modified).empty()) << "a 304 never has a body";
  for (HttpStatus s : kAllStatuses) {
    if (s == HttpStatus::ok || s == HttpStatus::not_modified) continue;
    const std::string title =
        std::to_string(static_cast<int>(s)) + " " + std::string(reason_phrase(s));
    const std::string_view page = error_page(s);
    EXPECT_EQ(page, "<html><head><title>" + title + "</title></head><body><h1>" + title +
                        "</h1></body></html>\n");
    EXPECT_LT(page.size(), 200u);
  }
}

}  // namespace
