/**
 * @file hostile_requests_test.cpp
 * Malformed and hostile requests over real sockets (stage 4 onwards), one table row per form.
 *
 * The cases come from RFC 9112 (message syntax, framing, request smuggling in §6.3 and §11.2) and
 * from the kinds of input that the test suites of public HTTP parsers (llhttp, picohttpparser,
 * http-parser) and request-smuggling write-ups throw at a server; the bytes here are our own.
 * The parser unit tests (parser_test.cpp, path_resolve_test.cpp) already pin each status for a
 * request fed to the pure parser; this file sends other inputs through the whole server (socket
 * reads of any size, the 16 KiB read buffer, pipelining, the answer-then-close path) and checks
 * what a client sees:
 *   - each expected response arrives, in order, with one of the allowed statuses;
 *   - no body ever leaks a file from outside the root;
 *   - after a response with "Connection: close" nothing more arrives (a smuggled request is never
 *     answered); after a keep-alive one, the next request on the connection gets its own answer;
 *   - the server still answers a normal request on a new connection, and no worker has died.
 * One server serves the whole table (per test process; a shard starts its own).
 */
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

namespace {

using harness::Client;
using harness::DocRoot;
using harness::read_response;
using harness::ServerProcess;

/** The statuses allowed for one response. */
using Statuses = std::set<int>;

/** One hostile input and what the server must answer to it. */
struct Case {
  const char* name;
  std::string raw;
  /** One entry per response the server must send, in order: {{400}} = one response, a 400;
      {{400, 403, 404}} = one response, any of the three; {{200}, {404}} = two responses. */
  std::vector<Statuses> responses;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

/** "400 403 404" */
std::string describe(const Statuses& statuses) {
  std::string text;
  for (int status : statuses) text += (text.empty() ? "" : " ") + std::to_string(status);
  return text;
}

const Statuses kRefusedPath = {403, 404};  // DESIGN.md: an escape attempt gets 403 or 404

/** A GET of @p target with a Host header. */
std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

/** A GET of /index.html with @p fields (each ending in CRLF) after the Host header. */
std::string with_fields(const std::string& fields) {
  return "GET /index.html HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
}

/** @p count copies of @p s. */
std::string times(const std::string& s, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += s;
  return out;
}

std::vector<Case> request_line_cases() {
  return {
      {"other_protocol_ice", "GET /index.html ICE/1.0\r\nHost: x\r\n\r\n", {{400}}},
      {"other_protocol_rtsp", "PUT /index.html RTSP/1.0\r\nCSeq: 1\r\n\r\n", {{400}}},
      {"protocol_with_prefix", "GET /index.html IHTTP/1.0\r\n\r\n", {{400}}},
      {"rtsp_method_over_http", "ANNOUNCE /index.html HTTP/1.0\r\n\r\n", {{501}}},
      {"method_one_letter_too_long", "MKCOLA /index.html HTTP/1.1\r\nHost: x\r\n\r\n", {{501}}},
      {"method_8000_letters", std::string(8000, 'A') + " / HTTP/1.1\r\nHost: x\r\n\r\n", {{501}}},
      {"method_with_slash", "GET/ /index.html HTTP/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"empty_target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"whitespace_only_line", "   \r\n\r\n", {{400}}},
      {"vertical_tabs_as_separators", "GET\x0b/index.html\x0bHTTP/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"no_break_spaces_as_separators",
       "GET\xa0/index.html\xa0HTTP/1.1\r\nHost: x\r\n\r\n",
       {{400}}},
      {"form_feed_in_target", "GET /index.html\f HTTP/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"two_versions", "GET /index.html HTTP/1.1 HTTP/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"request_line_as_header",
       "GET /index.html HTTP/1.1\r\nGET /secret.txt HTTP/1.1\r\n\r\n",
       {{400}}},
  };
}

std::vector<Case> version_cases() {
  return {
      {"version_5_6", "GET /index.html HTTP/5.6\r\nHost: x\r\n\r\n", {{505}}},
      {"version_3_0", "GET /index.html HTTP/3.0\r\nHost: x\r\n\r\n", {{505}}},
      {"version_0_0", "GET /index.html HTTP/0.0\r\n\r\n", {{505}}},
      {"version_leading_zero_minor", "GET /index.html HTTP/1.01\r\nHost: x\r\n\r\n", {{400}}},
      {"version_trailing_letter", "GET /index.html HTTP/1.1x\r\nHost: x\r\n\r\n", {{400}}},
      {"version_three_parts", "GET /index.html HTTP/1.1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"version_space_after_slash", "GET /index.html HTTP/ 1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"version_https", "GET /index.html HTTPS/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"version_negative", "GET /index.html HTTP/-1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"version_comma", "GET /index.html HTTP/1,1\r\nHost: x\r\n\r\n", {{400}}},
      {"version_backslash", "GET /index.html HTTP\\1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"version_arabic_digit", "GET /index.html HTTP/\xd9\xa1.1\r\nHost: x\r\n\r\n", {{400}}},
  };
}

// RFC 9112 §2.2: a bare CR is an error, a bare LF may be accepted as a line end. We accept it
// everywhere, so our own framing is consistent; a proxy in front must make the same choice.
std::vector<Case> line_ending_cases() {
  return {
      {"bare_lf_two_pipelined_requests",
       "GET /index.html HTTP/1.1\nHost: x\n\nGET /style.css HTTP/1.1\nHost: x\n\n",
       {{200}, {200}}},
      {"bare_lf_http10_closes", "GET /index.html HTTP/1.0\n\n", {{200}}},
      // A body announced after a bare-LF line hides a request from a front end that does not
      // end lines at LF; here the body is discarded and only the real next request is answered.
      {"bare_lf_then_content_length",
       "GET /index.html HTTP/1.1\r\nHost: x\r\nDummy: x\nContent-Length: 23\r\n\r\n"
       "GET / HTTP/1.1\r\nDummy: GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
       {{200}, {404}}},
      {"bare_cr_between_fields",
       "GET /index.html HTTP/1.1\r\nHost: x\r\nFoo: 1\rBar: 2\r\n\r\n",
       {{400}}},
      {"bare_cr_then_request",
       "GET / HTTP/1.1\r\nConnection: close\r\nHost: a\r\n\rZGET /secret.txt "
       "HTTP/1.1\r\nHost: a\r\n\r\n",
       {{400}}},
      {"bare_cr_in_target", "GET /index.html\r HTTP/1.1\r\nHost: x\r\n\r\n", {{400}}},
      {"bare_cr_as_every_line_end", "GET /index.html HTTP/1.1\rHost: x\r\r", {{400}}},
      {"corrupted_connection_field",
       "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection\r\x1b\x35\xd5"
       "eep-Alive\r\n\r\n",
       {{400}}},
      {"nul_before_request", std::string(1, '\0') + get("/index.html"), {{400}}},
      {"nul_line", std::string("\0\r\n\r\n", 5), {{400}}},
      {"nul_in_field_name", with_fields(std::string("Ho\0st: y\r\n", 10)), {{400}}},
      {"nul_after_version",
       "GET /index.html HTTP/1.1" + std::string(1, '\0') + "\r\nHost: x\r\n\r\n",
       {{400}}},
      {"nul_encoded_before_extension", get("/index.html%00.txt"), {{400}}},
      {"lf_flood", std::string(10000, '\n'), {{400}}},
      {"crlf_flood", times("\r\n", 10000), {{400}}},
  };
}

std::vector<Case> field_cases() {
  return {
      {"obs_fold_of_host", "GET /index.html HTTP/1.1\r\nHost:\r\n x\r\n\r\n", {{400}}},
      // llhttp's "spaces before headers": a fold that a lenient parser would glue to Foo.
      {"obs_fold_hides_content_length",
       "GET /index.html HTTP/1.1\r\nHost: x\r\nFoo: bar\r\n Content-Length: 38\r\n\r\n" +
           get("/secret.txt"),
       {{400}}},
      {"obs_fold_of_transfer_encoding",
       with_fields("X: y\r\n\tTransfer-Encoding: chunked\r\n") + "0\r\n\r\n",
       {{400}}},
      {"fold_inside_field_name", with_fields("name\r\n : value\r\n"), {{400}}},
      {"whitespace_only_field_line", with_fields(" \r\n"), {{400}}},
      {"name_with_at_sign", with_fields("Fo@: x\r\n"), {{400}}},
      {"name_with_control_byte", with_fields("Foo\x01test: Bar\r\n"), {{400}}},
      {"name_with_space", with_fields("X Y: z\r\n"), {{400}}},
      {"name_with_del", with_fields("X\x7f: y\r\n"), {{400}}},
      {"name_in_utf8",
       with_fields("H\xc3\xa9"
                   "ader: x\r\n"),
       {{400}}},
      {"name_with_brackets", with_fields("[x]: y\r\n"), {{400}}},
      {"name_with_quote", with_fields("X\"y: z\r\n"), {{400}}},
      {"name_with_slash", with_fields("X/Y: z\r\n"), {{400}}},
      {"value_with_vertical_tab",
       with_fields("X: a\x0b"
                   "b\r\n"),
       {{400}}},
      {"host_repeated_3000_times",
       "GET /index.html HTTP/1.1\r\n" + times("Host: x\r\n", 3000) + "\r\n",
       {{400}}},
      {"connection_keep_alive_600_times",
       with_fields(times("Connection: keep-alive\r\n", 600)),
       {{200}}},
      // Requests that look dangerous but are plain GETs: we serve the file and upgrade nothing.
      {"websocket_upgrade",
       with_fields("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                   "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"),
       {{200}}},
      {"h2c_upgrade",
       with_fields("Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
                   "Connection: Upgrade, HTTP2-Settings\r\n"),
       {{200}}},
      {"expect_100_continue_with_body",
       with_fields("Expect: 100-continue\r\nContent-Length: 5\r\n") + "hello",
       {{200}}},
  };
}

std::vector<Case> size_cases() {
  const std::string one_kib_field = "X-Fill: " + std::string(1014, 'f') + "\r\n";
  std::vector<Statuses> five_hundred_oks(500, Statuses{200});
  return {
      {"field_value_64_kib",
       with_fields("X-Big: " + std::string(64 * 1024, 'a') + "\r\n"),
       {{431}}},
      {"fields_64_kib_in_1_kib_lines", with_fields(times(one_kib_field, 64)), {{431}}},
      {"fields_4000_tiny", with_fields(times("a:b\r\n", 4000)), {{431}}},
      {"fields_10000_tiny_bare_lf", with_fields(times("a:\n", 10000)), {{431}}},
      {"fields_1000_tiny_within_the_limit", with_fields(times("a:b\r\n", 1000)), {{200}}},
      {"request_line_64_kib", get("/" + std::string(64 * 1024, 'a')), {{414}}},
      {"garbage_1_mib_without_newline", std::string(1024 * 1024, 'A'), {{414}}},
      {"path_with_300_byte_segment", get("/" + std::string(300, 'a')), {{404}}},
      {"path_with_3000_segments", get(times("/a", 3000)), {{404}}},
      {"path_climbing_2000_times", get(times("/..", 2000)), {{403}}},
      {"path_down_and_up_1500_times", get(times("/a/..", 1500) + "/index.html"), {{200}}},
      {"body_at_the_limit_then_a_request",
       with_fields("Content-Length: 1048576\r\n") + std::string(1048576, 'b') + get("/style.css"),
       {{200}, {200}}},
      {"body_over_the_limit_sent_anyway",
       with_fields("Content-Length: 1048577\r\n") + std::string(1048577, 'b'),
       {{413}}},
      {"pipelined_500_requests_in_one_write", times(get("/index.html"), 500), five_hundred_oks},
  };
}

// Framing: every way to make two parsers disagree on where a request ends (RFC 9112 §6.3, §11.2).
std::vector<Case> framing_cases() {
  const std::string smuggled = get("/secret.txt");
  return {
      {"content_length_zero_then_real",
       with_fields("Content-Length: 0\r\nContent-Length: " + std::to_string(smuggled.size()) +
                   "\r\n") +
           smuggled,
       {{400}}},
      {"content_length_list_differs", with_fields("Content-Length: 5, 6\r\n") + "hello!", {{400}}},
      {"content_length_2_to_the_32", with_fields("Content-Length: 4294967296\r\n"), {{413}}},
      {"content_length_wraps_to_5_in_32_bits",
       with_fields("Content-Length: 4294967301\r\n") + "hello",
       {{413}}},
      {"content_length_minus_zero", with_fields("Content-Length: -0\r\n"), {{400}}},
      {"content_length_decimal", with_fields("Content-Length: 5.0\r\n") + "hello", {{400}}},
      {"content_length_exponent", with_fields("Content-Length: 1e1\r\n") + "helloworld", {{400}}},
      {"content_length_arabic_digit",
       with_fields("Content-Length: \xd9\xa5\r\n") + "hello",
       {{400}}},
      {"content_length_fullwidth_digit",
       with_fields("Content-Length: \xef\xbc\x95\r\n") + "hello",
       {{400}}},
      {"content_length_quoted", with_fields("Content-Length: \"5\"\r\n") + "hello", {{400}}},
      {"content_length_folded", with_fields("Content-Length:\r\n 5\r\n") + "hello", {{400}}},
      {"content_length_space_before_colon",
       with_fields("Content-Length : 5\r\n") + "hello",
       {{400}}},
      // Not Content-Length at all: the body is the start of the next request, which is refused.
      {"content_length_with_underscore",
       with_fields("Content_Length: 5\r\n") + "hello\r\n",
       {{200}, {400}}},
      // A body that looks like a request is discarded, never answered.
      {"body_that_looks_like_a_request",
       with_fields("Content-Length: " + std::to_string(smuggled.size()) + "\r\n") + smuggled +
           "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
       {{200}, {404}}},
      {"cl_te_smuggling",
       "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\nG" +
           smuggled,
       {{400}}},
      {"te_cl_smuggling",
       "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n" +
           std::string("8\r\nSMUGGLED\r\n0\r\n\r\n") + smuggled,
       {{400}}},
      {"te_obfuscated_value_with_cl",
       with_fields("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n") + "hello",
       {{400}}},
      {"te_list_with_cl",
       "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: "
       "eee, chunked\r\n\r\nHELLOWORLD" +
           smuggled,
       {{400}}},
      {"te_empty_three_times_with_cl",
       with_fields("Content-Length: 10\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\n"
                   "Transfer-Encoding:\r\n") +
           "2\r\nAA\r\n0\r\n",
       {{400}}},
      {"te_space_before_colon_with_cl",
       with_fields("Transfer-Encoding : chunked\r\nContent-Length: 5\r\n") + "hello",
       {{400}}},
      {"te_vertical_tab_value",
       with_fields("Transfer-Encoding:\x0b"
                   "chunked\r\n"),
       {{400}}},
      {"te_http10_with_cl",
       "GET /index.html HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
       {{400}}},
      {"te_tab_before_value",
       with_fields("Transfer-Encoding:\tchunked\r\n") + "0\r\n\r\n",
       {{501}}},
      {"te_upper_case", with_fields("TRANSFER-ENCODING: CHUNKED\r\n") + "0\r\n\r\n", {{501}}},
      {"te_chunked_identity",
       with_fields("Transfer-Encoding: chunked, identity\r\n") + "0\r\n\r\n",
       {{501}}},
      {"te_unknown_coding", with_fields("Transfer-Encoding: pigeons\r\n"), {{501}}},
      // Not Transfer-Encoding: no body, so "0" starts the next request, which is refused.
      {"te_with_underscore",
       with_fields("Transfer_Encoding: chunked\r\n") + "0\r\n\r\n",
       {{200}, {400}}},
  };
}

std::vector<Case> percent_encoding_cases() {
  return {
      {"percent_at_end", get("/index.html%"), {{400}}},
      {"percent_one_digit", get("/index%2"), {{400}}},
      {"percent_not_hex", get("/%2xindex.html"), {{400}}},
      {"percent_minus", get("/%-1"), {{400}}},
      {"percent_percent", get("/%%"), {{400}}},
      {"percent_iis_unicode", get("/%u002e%u002e/secret.txt"), {{400}}},
      {"percent_double_percent_dots", get("/%%2e%2e/secret.txt"), {{400}}},
      {"percent_latin1_byte", get("/caf%e9.html"), {{404}}},
      {"percent_invalid_utf8", get("/%ff%fe"), {{404}}},
      {"percent_encoded_query_mark", get("/index.html%3f.txt"), {{404}}},
      {"percent_encoded_slash", get("/sub%2findex.html"), {{404}}},
      {"percent_encoded_dot", get("/index%2ehtml"), {{200}}},
      {"percent_every_byte", get("/%69%6e%64%65%78%2e%68%74%6d%6c"), {{200}}},
  };
}

std::vector<Case> target_form_cases() {
  return {
      {"absolute_form_with_userinfo", get("http://user:pw@x/index.html"), {{200}}},
      {"absolute_form_with_bad_port", get("http://x:99999/index.html"), {{200}}},
      {"absolute_form_mixed_case_scheme", get("HtTp://x/index.html"), {{200}}},
      {"absolute_form_query_climbs", get("http://x?/../../secret.txt"), {{200}}},
      {"absolute_form_fragment_in_authority", get("http://x#/../secret.txt"), {kRefusedPath}},
      {"absolute_form_encoded_dots", get("http://x/%2e%2e/secret.txt"), {kRefusedPath}},
      {"absolute_form_https_climbs", get("https://x/../../../../etc/passwd"), {kRefusedPath}},
      {"absolute_form_scheme_only", get("http://"), {{400}}},
      {"absolute_form_backslashes", get("http:\\\\x\\index.html"), {{400}}},
      {"file_scheme", get("file:///etc/passwd"), {{400}}},
      {"gopher_scheme", get("gopher://x/"), {{400}}},
      {"authority_form_with_get", get("localhost:80"), {{400}}},
      {"asterisk_form_with_get", get("*"), {{400}}},
      {"scheme_relative_target", get("//x/index.html"), {{404}}},
  };
}

// Spellings of "go above the root" beyond those in http_test.cpp; none may reach secret.txt
// (one level above the root) or /etc/passwd.
std::vector<Case> traversal_cases() {
  std::vector<Case> cases;
  for (const char* target : {"/..",
                             "/%2e%2e",
                             "/.%2e/secret.txt",
                             "/%2e./secret.txt",
                             "/sub/..%2f..%2fsecret.txt",
                             "/sub/%2e%2e%2f%2e%2e%2fsecret.txt",
                             "/%252e%252e/secret.txt",
                             "/%252e%252e%252fsecret.txt",
                             "/%c0%ae%c0%ae/secret.txt",
                             "/%e0%80%ae%e0%80%ae/secret.txt",
                             "/%c0%2e%c0%2e/secret.txt",
                             "/..%c0%afsecret.txt",
                             "/..%5csecret.txt",
                             "/%5c..%5csecret.txt",
                             "/..%255csecret.txt",
                             "/%2e%2e%5c%2e%2e%5csecret.txt",
                             "/sub/./.././../secret.txt",
                             "/sub//..//..//secret.txt",
                             "/sub/.%2e/.%2e/secret.txt",
                             "/....//secret.txt",
                             "/..././secret.txt",
                             "/..;/secret.txt",
                             "/..%00/secret.txt",
                             "/..%2500/secret.txt",
                             "/..?/secret.txt",
                             "/..#/secret.txt",
                             "/sub/../link_out",
                             "/link_out/",
                             "/link_out%2f",
                             "/link_out/.",
                             "/.././.././etc/passwd",
                             "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                             "/....//....//etc/passwd",
                             "/..\\..\\..\\etc\\passwd",
                             "/etc/passwd",
                             "//etc/passwd",
                             "/%2fetc%2fpasswd",
                             "/../../../../../../etc/passwd%00.html",
                             "/sub/../../../../../../../../etc/shadow"}) {
    // An encoded NUL makes the target malformed (400) if the resolver meets it before the climb.
    const bool has_nul = std::string_view(target).find("%00") != std::string_view::npos;
    cases.push_back({target, get(target), {has_nul ? Statuses{400, 403, 404} : kRefusedPath}});
  }
  return cases;
}

std::vector<Case> protocol_confusion_cases() {
  // The first bytes of a TLS ClientHello (no CR or LF inside), then a line end.
  std::string client_hello("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11);
  for (int i = 0; i < 32; ++i) client_hello.push_back(static_cast<char>(0x20 + i * 7));
  client_hello += "\r\n";
  return {
      {"tls_client_hello", client_hello, {{400}}},
      {"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {{400, 505}}},
      {"ssh_banner", "SSH-2.0-OpenSSH_9.2\r\n", {{400}}},
      {"smtp_greeting", "HELO example.com\r\n", {{400}}},
      {"proxy_protocol_v1",
       "PROXY TCP4 192.0.2.1 192.0.2.2 5555 80\r\n" + get("/index.html"),
       {{400}}},
  };
}

std::vector<Case> all_cases() {
  std::vector<Case> all;
  for (auto group : {request_line_cases, version_cases, line_ending_cases, field_cases, size_cases,
                     framing_cases, percent_encoding_cases, target_form_cases, traversal_cases,
                     protocol_confusion_cases}) {
    auto cases = group();
    all.insert(all.end(), cases.begin(), cases.end());
  }
  return all;
}

/** A test name from a case name or a target: letters and digits kept, the rest as '_'. */
std::string test_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = std::to_string(info.index) + "_";
  for (char c : std::string(info.param.name))
    name.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return name;
}

/** One stage-4+ server with two workers for the whole table. */
class HostileRequest : public ::testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() {
    docroot_ = std::make_unique<DocRoot>();
    server_ = std::make_unique<ServerProcess>(
        harness::ServerConfig{{"--workers", "2", "--root", docroot_->root()}});
    workers_ = harness::wait_for_workers(*server_, 2);
  }
  static void TearDownTestSuite() {
    server_.reset();
    docroot_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(server_->ready()) << server_->stderr_text();
    ASSERT_EQ(workers_.size(), 2u) << server_->stderr_text();
  }

  static std::unique_ptr<DocRoot> docroot_;
  static std::unique_ptr<ServerProcess> server_;
  static std::vector<pid_t> workers_;
};

std::unique_ptr<DocRoot> HostileRequest::docroot_;
std::unique_ptr<ServerProcess> HostileRequest::server_;
std::vector<pid_t> HostileRequest::workers_;

TEST_P(HostileRequest, IsAnsweredAsExpectedAndTheServerServesOn) {
  const Case& c = GetParam();
  Client client(server_->port());
  ASSERT_TRUE(client.connected());
  // The result is not checked: the server may answer and close before it has read everything.
  client.send_all(c.raw);

  bool closing = false;
  for (std::size_t i = 0; i < c.responses.size(); ++i) {
    const auto response = read_response(client);
    ASSERT_TRUE(response.has_value())
        << "response " << i << " of " << c.responses.size() << " missing\n"
        << server_->stderr_text();
    EXPECT_TRUE(c.responses[i].count(response->status) == 1)
        << "response " << i << ": " << response->status_line
        << ", allowed: " << describe(c.responses[i]);
    EXPECT_EQ(response->body.find("TOP SECRET"), std::string::npos) << "secret.txt leaked";
    EXPECT_EQ(response->body.find("root:"), std::string::npos) << "/etc/passwd leaked";
    closing = response->header("connection") == "close";
    if (closing && i + 1 < c.responses.size()) FAIL() << "closed after response " << i;
  }

  if (closing) {
    // Nothing may follow a closing response: a request hidden in the input is never answered.
    const auto rest = client.read_to_eof();
    ASSERT_TRUE(rest.has_value()) << "the connection stayed open after Connection: close";
    EXPECT_EQ(*rest, "") << "bytes after the last response";
  } else {
    // The next request on the same connection gets its own answer, not a smuggled one's.
    ASSERT_TRUE(client.send_all(harness::get_request("/style.css", true)));
    const auto next = read_response(client);
    ASSERT_TRUE(next.has_value()) << "no answer to a request after the case";
    EXPECT_EQ(next->status, 200);
    EXPECT_EQ(next->body, docroot_->content("style.css"));
  }

  EXPECT_TRUE(harness::serves_a_new_client(server_->port())) << server_->stderr_text();
  auto workers = harness::children_of(server_->pid());
  std::sort(workers.begin(), workers.end());
  EXPECT_EQ(workers, workers_) << "a worker died or was replaced\n" << server_->stderr_text();
}

INSTANTIATE_TEST_SUITE_P(Http, HostileRequest, ::testing::ValuesIn(all_cases()), test_name);

}  // namespace
