/**
 * @file parser_test.cpp
 * Unit tests for HttpParser: every status path, split invariance, pipelining, limits,
 * keep-alive and reset(). Pure, no sockets; runs in the test process.
 */
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "http_parser.h"

namespace {

/** Everything observable about one parse, so two ways of feeding can be compared. */
struct Outcome {
  HttpParser::Result result = HttpParser::Result::incomplete;
  HttpStatus status = HttpStatus::ok;  // error() when result is error
  Method method = Method::get;
  std::string target;
  int minor_version = 0;
  bool keep_alive = false;
  std::uint64_t content_length = 0;
  time_t if_modified_since = -1;
  std::size_t consumed = 0;

  bool operator==(const Outcome& o) const {
    return result == o.result && status == o.status && method == o.method && target == o.target &&
           minor_version == o.minor_version && keep_alive == o.keep_alive &&
           content_length == o.content_length && if_modified_since == o.if_modified_since &&
           consumed == o.consumed;
  }
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{result=" << static_cast<int>(o.result) << " status=" << static_cast<int>(o.status)
            << " target=" << o.target << " minor=" << o.minor_version
            << " keep_alive=" << o.keep_alive << " cl=" << o.content_length
            << " consumed=" << o.consumed << "}";
}

Outcome outcome_of(const HttpParser& parser, std::size_t consumed) {
  Outcome o;
  o.result = parser.result();
  o.consumed = consumed;
  if (o.result == HttpParser::Result::error) o.status = parser.error();
  if (o.result == HttpParser::Result::complete) {
    const HttpRequest& r = parser.request();
    o.method = r.method;
    o.target = r.target;
    o.minor_version = r.minor_version;
    o.keep_alive = r.keep_alive;
    o.content_length = r.content_length;
    o.if_modified_since = r.if_modified_since;
  }
  return o;
}

/** Feeds `in` in the pieces given by `cuts` (ascending positions), stopping once decided. */
Outcome parse_pieces(std::string_view in, const std::vector<std::size_t>& cuts) {
  HttpParser parser;
  std::size_t consumed = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= cuts.size(); ++i) {
    const std::size_t end = i < cuts.size() ? cuts[i] : in.size();
    if (parser.result() != HttpParser::Result::incomplete) break;
    const std::size_t n = parser.feed(in.data() + start, end - start);
    consumed += n;
    if (n < end - start) break;  // stopped early: the rest belongs to the next request
    start = end;
  }
  return outcome_of(parser, consumed);
}

Outcome parse_whole(std::string_view in) { return parse_pieces(in, {}); }

Outcome parse_split(std::string_view in, std::size_t cut) { return parse_pieces(in, {cut}); }

Outcome parse_bytewise(std::string_view in) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < in.size(); ++i) cuts.push_back(i);
  return parse_pieces(in, cuts);
}

/** Asserts that every single cut and byte-at-a-time feeding agree with feeding it whole. */
void expect_split_invariant(std::string_view in) {
  const Outcome whole = parse_whole(in);
  for (std::size_t cut = 0; cut <= in.size(); ++cut) {
    const Outcome split = parse_split(in, cut);
    ASSERT_EQ(whole, split) << "cut at " << cut;
  }
  EXPECT_EQ(whole, parse_bytewise(in));
}

std::string repeat(char c, std::size_t n) { return std::string(n, c); }

// ---------------------------------------------------------------------------------------------
// Table of requests and their statuses; each case is also checked at every cut position.

struct Case {
  const char* name;
  std::string input;
  HttpStatus expected;  // ok means complete
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::string kHost = "Host: example.com\r\n";

std::vector<Case> status_cases() {
  return {
      // served
      {"get_11", "GET / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::ok},
      {"head_10_no_host", "HEAD /a.txt HTTP/1.0\r\n\r\n", HttpStatus::ok},
      {"bare_lf", "GET / HTTP/1.1\nHost: a\n\n", HttpStatus::ok},
      {"mixed_terminators", "GET / HTTP/1.1\r\nHost: a\n\r\n", HttpStatus::ok},
      {"leading_empty_lines", "\r\n\n\r\n\nGET / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::ok},
      {"absolute_form", "GET http://example.com:8080/a?b HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::ok},
      {"absolute_form_no_path", "GET http://example.com HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::ok},
      {"absolute_form_query_only", "GET HTTPS://example.com?x HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::ok},
      {"header_htab_and_high_bytes", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\tc \xc3\xa9\r\n\r\n",
       HttpStatus::ok},
      {"header_empty_value", "GET / HTTP/1.1\r\nHost:\r\nX-Empty:\r\n\r\n", HttpStatus::ok},
      {"host_name_case", "GET / HTTP/1.1\r\nhOsT: a\r\n\r\n", HttpStatus::ok},
      {"content_length_body", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
       HttpStatus::ok},
      {"content_length_ows", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \t 3 \t\r\n\r\nabc",
       HttpStatus::ok},
      {"content_length_zero", "GET / HTTP/1.1\r\nHost: a\r\ncontent-length: 0\r\n\r\n",
       HttpStatus::ok},
      {"content_length_leading_zeros", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 002\r\n\r\nab",
       HttpStatus::ok},
      // malformed request line -> 400
      {"too_many_leading_empty_lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::bad_request},
      {"bare_cr_request_line", "GET / HTTP/1.1\rHost: a\r\n\r\n", HttpStatus::bad_request},
      {"bare_cr_header", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", HttpStatus::bad_request},
      {"cr_cr_lf", "GET / HTTP/1.1\r\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"double_space", "GET  / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"double_space_before_version", "GET /  HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::bad_request},
      {"trailing_space", "GET / HTTP/1.1 \r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"leading_space", " GET / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"tabs", "GET\t/\tHTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"one_space", "GET /\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"no_space", "GET\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"space_in_target", "GET /a b HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"method_not_token", "G@T / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"method_nul", std::string("GE\0T / HTTP/1.1\r\n", 17) + kHost + "\r\n",
       HttpStatus::bad_request},
      {"target_ctl", "GET /a\x01 HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"target_del", "GET /a\x7f HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"target_nul", std::string("GET /a\0b HTTP/1.1\r\n", 19) + kHost + "\r\n",
       HttpStatus::bad_request},
      {"asterisk_form", "GET * HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"authority_form", "GET example.com:443 HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::bad_request},
      // Their own methods are refused first, as methods: 405 like any other we do not serve.
      {"options_asterisk", "OPTIONS * HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::method_not_allowed},
      {"connect_authority", "CONNECT example.com:443 HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::method_not_allowed},
      {"relative_target", "GET a/b HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"absolute_form_no_host", "GET http:///a HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::bad_request},
      {"absolute_form_other_scheme", "GET ftp://h/a HTTP/1.1\r\n" + kHost + "\r\n",
       HttpStatus::bad_request},
      {"version_lowercase", "GET / http/1.1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"version_short", "GET / HTTP/1\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"version_two_digits", "GET / HTTP/1.10\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"version_letters", "GET / HTTP/a.b\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      {"version_no_dot", "GET / HTTP/11\r\n" + kHost + "\r\n", HttpStatus::bad_request},
      // versions -> 505
      {"version_2_0", "GET / HTTP/2.0\r\n" + kHost + "\r\n", HttpStatus::version_not_supported},
      {"version_0_9", "GET / HTTP/0.9\r\n\r\n", HttpStatus::version_not_supported},
      {"version_1_2", "GET / HTTP/1.2\r\n" + kHost + "\r\n", HttpStatus::version_not_supported},
      // methods -> 405 / 501
      {"post", "POST / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"put", "PUT / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"delete", "DELETE / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"connect", "CONNECT / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"options", "OPTIONS / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"trace", "TRACE / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"patch", "PATCH / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::method_not_allowed},
      {"lowercase_get", "get / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::not_implemented},
      {"unknown_method", "BREW / HTTP/1.1\r\n" + kHost + "\r\n", HttpStatus::not_implemented},
      // header fields -> 400
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HttpStatus::bad_request},
      {"tab_before_colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", HttpStatus::bad_request},
      {"obs_fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", HttpStatus::bad_request},
      {"obs_fold_tab", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n",
       HttpStatus::bad_request},
      {"space_before_first_field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", HttpStatus::bad_request},
      {"no_colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", HttpStatus::bad_request},
      {"empty_name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", HttpStatus::bad_request},
      {"name_not_token", "GET / HTTP/1.1\r\nHost: a\r\nX(y): v\r\n\r\n", HttpStatus::bad_request},
      {"value_nul", std::string("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35),
       HttpStatus::bad_request},
      {"value_ctl", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01 b\r\n\r\n", HttpStatus::bad_request},
      {"value_del", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", HttpStatus::bad_request},
      {"value_escape", "GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", HttpStatus::bad_request},
      // Host
      {"host_missing_11", "GET / HTTP/1.1\r\nX: y\r\n\r\n", HttpStatus::bad_request},
      {"host_duplicate", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", HttpStatus::bad_request},
      {"host_duplicate_10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
       HttpStatus::bad_request},
      // Content-Length
      {"cl_plus", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
       HttpStatus::bad_request},
      {"cl_minus", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_empty", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", HttpStatus::bad_request},
      {"cl_letters", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_hex", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_inner_space", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_list", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\nx",
       HttpStatus::bad_request},
      {"cl_overflow", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_huge_overflow",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_max_u64", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n",
       HttpStatus::payload_too_large},
      {"cl_duplicate_equal",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
       HttpStatus::bad_request},
      {"cl_duplicate_different",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\nxy",
       HttpStatus::bad_request},
      // Transfer-Encoding
      {"te_chunked", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpStatus::not_implemented},
      {"te_10", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpStatus::not_implemented},
      {"te_then_cl",
       "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
       HttpStatus::bad_request},
      {"cl_then_te",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       HttpStatus::bad_request},
      {"te_with_huge_cl",
       "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999\r\nTransfer-Encoding: x\r\n\r\n",
       HttpStatus::bad_request},
      // framing is judged before the method (RFC 9112 §6.3): 400/501, then 405/501
      {"post_bad_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
       HttpStatus::bad_request},
      {"post_two_cl",
       "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
       HttpStatus::bad_request},
      {"post_te", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
       HttpStatus::not_implemented},
      {"post_te_and_cl",
       "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
       HttpStatus::bad_request},
      {"post_no_host", "POST / HTTP/1.1\r\n\r\n", HttpStatus::bad_request},
      {"post_well_framed", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
       HttpStatus::method_not_allowed},
      // bytes that cannot start a method: refused at the first one
      {"tls_client_hello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
       HttpStatus::bad_request},
      {"nul_first", std::string("\0GET / HTTP/1.1\r\n", 17), HttpStatus::bad_request},
  };
}

class StatusTest : public ::testing::TestWithParam<Case> {};

TEST_P(StatusTest, GivesExpectedStatusWholeAndAtEveryCut) {
  const Case& c = GetParam();
  const Outcome whole = parse_whole(c.input);
  if (c.expected == HttpStatus::ok) {
    EXPECT_EQ(whole.result, HttpParser::Result::complete) << whole;
    EXPECT_EQ(whole.consumed, c.input.size());
  } else {
    EXPECT_EQ(whole.result, HttpParser::Result::error) << whole;
    EXPECT_EQ(whole.status, c.expected) << whole;
  }
  expect_split_invariant(c.input);
}

INSTANTIATE_TEST_SUITE_P(Parser, StatusTest, ::testing::ValuesIn(status_cases()),
                         [](const ::testing::TestParamInfo<Case>& case_info) {
                           return std::string(case_info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Fields of a complete request.

TEST(ParserTest, FillsRequestFields) {
  const Outcome o =
      parse_whole("HEAD /a/b.css?v=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy");
  ASSERT_EQ(o.result, HttpParser::Result::complete);
  EXPECT_EQ(o.method, Method::head);
  EXPECT_EQ(o.target, "/a/b.css?v=1");
  EXPECT_EQ(o.minor_version, 1);
  EXPECT_TRUE(o.keep_alive);
  EXPECT_EQ(o.content_length, 2u);
}

TEST(ParserTest, AbsoluteFormKeepsOnlyPathAndQuery) {
  EXPECT_EQ(parse_whole("GET http://h:80/a/b?c HTTP/1.1\r\nHost: h\r\n\r\n").target, "/a/b?c");
  EXPECT_EQ(parse_whole("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n").target, "/");
  EXPECT_EQ(parse_whole("GET http://h?q=1 HTTP/1.1\r\nHost: h\r\n\r\n").target, "/?q=1");
  EXPECT_EQ(parse_whole("GET HtTp://h/x HTTP/1.1\r\nHost: h\r\n\r\n").target, "/x");
}

TEST(ParserTest, IncompleteUntilTheLastByte) {
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  for (std::size_t n = 0; n < in.size(); ++n) {
    HttpParser parser;
    EXPECT_EQ(parser.feed(in.data(), n), n);
    EXPECT_EQ(parser.result(), HttpParser::Result::incomplete) << "prefix " << n;
  }
}

TEST(ParserTest, ConsumesNothingOnceDecided) {
  HttpParser parser;
  const std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_EQ(parser.feed(in.data(), in.size()), in.size());
  EXPECT_EQ(parser.feed(in.data(), in.size()), 0u);
  EXPECT_EQ(parser.result(), HttpParser::Result::complete);
}

TEST(ParserTest, StopsAtTheErrorByte) {
  HttpParser parser;
  const std::string in = "GET / HTTP/9.9\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parser.feed(in.data(), in.size()), 16u);  // the request line, then stop
  EXPECT_EQ(parser.error(), HttpStatus::version_not_supported);
}

// The method's verdict waits for the end of the head, where the framing is judged first.
TEST(ParserTest, ARefusedMethodIsAnsweredOnlyOnceTheHeadIsComplete) {
  HttpParser parser;
  const std::string head = "BREW / HTTP/1.1\r\nHost: a\r\n";
  EXPECT_EQ(parser.feed(head.data(), head.size()), head.size());
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete);
  EXPECT_EQ(parser.feed("\r\n", 2), 2u);
  EXPECT_EQ(parser.error(), HttpStatus::not_implemented);
}

// A TLS ClientHello has no line end for a long while: the first byte is enough to refuse it.
TEST(ParserTest, AByteThatCannotStartAMethodIsRefusedAtOnce) {
  for (const char first : {'\x16', '\0', ' ', '\t', '@', '\x80'}) {
    HttpParser parser;
    EXPECT_EQ(parser.feed(&first, 1), 1u);
    EXPECT_EQ(parser.result(), HttpParser::Result::error) << static_cast<int>(first);
    EXPECT_EQ(parser.error(), HttpStatus::bad_request);
  }
  HttpParser parser;
  EXPECT_EQ(parser.feed("GE", 2), 2u);
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete) << "a method may still come";
  EXPECT_EQ(parser.feed("T\x01", 2), 2u);
  EXPECT_EQ(parser.error(), HttpStatus::bad_request) << "no method holds a control byte";
}

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms, all the same time.
TEST(ParserTest, HttpDatesInAllThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  for (const char* bad : {"", "yesterday", "Sun, 06 Nov 1994 08:49:37", "784111777",
                          "Sun, 06 Nov 1994 08:49:37 GMT trailing"})
    EXPECT_EQ(parse_http_date(bad), -1) << bad;
}

// RFC 9110 §13.1.3: the date is kept only when there is exactly one valid one and no
// If-None-Match (which would take precedence).
TEST(ParserTest, IfModifiedSinceIsKeptOnlyWhenItMayBeUsed) {
  const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n";
  const std::string date = "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
  EXPECT_EQ(parse_whole(get + date + "\r\n").if_modified_since, 784111777);
  EXPECT_EQ(parse_whole(get + "\r\n").if_modified_since, -1);
  EXPECT_EQ(parse_whole(get + "If-Modified-Since: soon\r\n\r\n").if_modified_since, -1);
  EXPECT_EQ(parse_whole(get + date + date + "\r\n").if_modified_since, -1);
  EXPECT_EQ(parse_whole(get + date + "If-None-Match: *\r\n\r\n").if_modified_since, -1);
}

TEST(ParserTest, HeaderNamesAreCaseInsensitive) {
  const Outcome o =
      parse_whole("GET / HTTP/1.1\r\nHOST: a\r\nCONTENT-LENGTH: 1\r\nCoNnEcTiOn: CLOSE\r\n\r\nx");
  ASSERT_EQ(o.result, HttpParser::Result::complete);
  EXPECT_EQ(o.content_length, 1u);
  EXPECT_FALSE(o.keep_alive);
  EXPECT_EQ(parse_whole("GET / HTTP/1.1\r\nHost: a\r\ntransfer-ENCODING: gzip\r\n\r\n").status,
            HttpStatus::not_implemented);
}

// ---------------------------------------------------------------------------------------------
// Keep-alive (RFC 9112 §9.3).

struct KeepAliveCase {
  const char* request;
  bool keep_alive;
};

TEST(ParserTest, KeepAliveByVersionAndConnectionHeader) {
  const KeepAliveCase cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo,close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: x\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", true},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nconnection: foo ,\t keep-alive ,\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n", false},
  };
  for (const KeepAliveCase& c : cases) {
    const Outcome o = parse_whole(c.request);
    ASSERT_EQ(o.result, HttpParser::Result::complete) << c.request;
    EXPECT_EQ(o.keep_alive, c.keep_alive) << c.request;
    expect_split_invariant(c.request);
  }
}

// ---------------------------------------------------------------------------------------------
// Pipelining and reset().

TEST(ParserTest, PipelinedRequestsAreTakenOneAtATime) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "HEAD /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody";
  const std::string third = "GET /3 HTTP/1.0\r\n\r\n";
  const std::string all = first + second + third;
  HttpParser parser;
  std::size_t offset = 0;
  const std::string expected_targets[] = {"/1", "/2", "/3"};
  const std::size_t expected_sizes[] = {first.size(), second.size(), third.size()};
  for (int i = 0; i < 3; ++i) {
    const std::size_t n = parser.feed(all.data() + offset, all.size() - offset);
    EXPECT_EQ(n, expected_sizes[i]) << "request " << i;
    ASSERT_EQ(parser.result(), HttpParser::Result::complete) << "request " << i;
    EXPECT_EQ(parser.request().target, expected_targets[i]);
    offset += n;
    parser.reset();
  }
  EXPECT_EQ(offset, all.size());
  EXPECT_EQ(parser.feed(all.data() + offset, 0), 0u);
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete);
}

TEST(ParserTest, PipelinedTailIsLeftIncomplete) {
  const std::string in = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HT";
  HttpParser parser;
  const std::size_t n = parser.feed(in.data(), in.size());
  EXPECT_EQ(n, in.size() - 9);
  parser.reset();
  EXPECT_EQ(parser.feed(in.data() + n, in.size() - n), 9u);
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete);
}

TEST(ParserTest, ResetAfterCompleteAndAfterError) {
  HttpParser parser;
  const std::string bad = "GET / HTTP/1.1\r\nHost : a\r\n\r\n";
  parser.feed(bad.data(), bad.size());
  ASSERT_EQ(parser.result(), HttpParser::Result::error);
  parser.reset();
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete);
  const std::string ok10 =
      "GET /x HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nz";
  EXPECT_EQ(parser.feed(ok10.data(), ok10.size()), ok10.size());
  ASSERT_EQ(parser.result(), HttpParser::Result::complete);
  EXPECT_TRUE(parser.request().keep_alive);
  parser.reset();
  // Nothing of the previous request leaks into the next one (version, Host, length, flags).
  const std::string ok11 = "HEAD /y HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parser.feed(ok11.data(), ok11.size()), ok11.size());
  ASSERT_EQ(parser.result(), HttpParser::Result::complete);
  EXPECT_EQ(parser.request().method, Method::head);
  EXPECT_EQ(parser.request().target, "/y");
  EXPECT_EQ(parser.request().minor_version, 1);
  EXPECT_EQ(parser.request().content_length, 0u);
  EXPECT_TRUE(parser.request().keep_alive);
}

// An error answer to HEAD must have no body either, so the method is known before any refusal.
TEST(ParserTest, HeadIsKnownEvenWhenTheRequestIsRefused) {
  const std::string refused[] = {
      "HEAD / HTTP/1.1\r\n\r\n",                            // 400: no Host
      "HEAD / HTTP/2.0\r\n",                                // 505
      "HEAD * HTTP/1.1\r\n",                                // 400: asterisk-form for HEAD
      "HEAD /a\x7f HTTP/1.1\r\n",                           // 400: a control character
      "HEAD /\r\n",                                         // 400: no version
      "HEAD /" + repeat('a', HttpParser::kMaxRequestLine),  // 414, before the line ends
  };
  for (const std::string& in : refused) {
    HttpParser parser;
    parser.feed(in.data(), in.size());
    ASSERT_EQ(parser.result(), HttpParser::Result::error) << in.substr(0, 20);
    EXPECT_EQ(parser.request().method, Method::head) << in.substr(0, 20);
  }
}

TEST(ParserTest, SplitInvariantAcrossPipelinedBuffer) {
  // A request followed by the start of another: the first decision must not depend on cuts.
  expect_split_invariant("GET /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxyGET /2 ");
  expect_split_invariant("GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n");
}

// ---------------------------------------------------------------------------------------------
// Limits. The request line limit counts the line terminator; so does the header section.

std::string request_line_of_size(std::size_t total) {
  const std::string head = "GET /";
  const std::string tail = " HTTP/1.1\r\n";
  return head + repeat('a', total - head.size() - tail.size()) + tail;
}

TEST(ParserLimitTest, RequestLineExactlyAtLimit) {
  const std::string line = request_line_of_size(HttpParser::kMaxRequestLine);
  ASSERT_EQ(line.size(), 8192u);
  const std::string in = line + "Host: a\r\n\r\n";
  EXPECT_EQ(parse_whole(in).result, HttpParser::Result::complete);
  expect_split_invariant(in);
}

TEST(ParserLimitTest, RequestLineOnePastLimit) {
  const std::string in = request_line_of_size(HttpParser::kMaxRequestLine + 1) + "Host: a\r\n\r\n";
  EXPECT_EQ(parse_whole(in).status, HttpStatus::uri_too_long);
  expect_split_invariant(in);
}

TEST(ParserLimitTest, RequestLineWithBareLfAtLimit) {
  std::string at = request_line_of_size(HttpParser::kMaxRequestLine + 1);
  at.erase(at.size() - 2, 1);  // CRLF -> LF: 8192 bytes again
  EXPECT_EQ(parse_whole(at + "Host: a\r\n\r\n").result, HttpParser::Result::complete);
}

TEST(ParserLimitTest, LongLineRefusedBeforeItsEnd) {
  // 8192 bytes and still no line end: 414 now, without waiting (a client cannot make us
  // buffer more). One byte fewer is still incomplete.
  const std::string in = "GET /" + repeat('a', HttpParser::kMaxRequestLine);
  HttpParser parser;
  EXPECT_EQ(parser.feed(in.data(), HttpParser::kMaxRequestLine - 1),
            HttpParser::kMaxRequestLine - 1);
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete);
  parser.feed(in.data() + HttpParser::kMaxRequestLine - 1, 1);
  EXPECT_EQ(parser.result(), HttpParser::Result::error);
  EXPECT_EQ(parser.error(), HttpStatus::uri_too_long);
  // A CR as the 8192nd byte cannot end the line within the limit either.
  const std::string cr = "GET /" + repeat('a', HttpParser::kMaxRequestLine - 6) + "\r";
  ASSERT_EQ(cr.size(), HttpParser::kMaxRequestLine);
  EXPECT_EQ(parse_whole(cr).status, HttpStatus::uri_too_long);
}

std::string headers_of_size(std::size_t section) {
  // Section = filler field lines + "Host: a\r\n" + final "\r\n".
  const std::string host = "Host: a\r\n";
  std::size_t left = section - host.size() - 2;
  std::string out = host;
  while (left > 0) {
    const std::size_t line = left > 1000 ? 1000 : left;  // "X: " + value + "\r\n"
    if (line < 6) {
      out.insert(out.size() - 2, repeat('b', line));  // widen the previous value
      break;
    }
    out += "X: " + repeat('v', line - 5) + "\r\n";
    left -= line;
  }
  return out + "\r\n";
}

TEST(ParserLimitTest, HeaderSectionExactlyAtLimit) {
  const std::string section = headers_of_size(HttpParser::kMaxHeaderSection);
  ASSERT_EQ(section.size(), 16384u);
  const std::string in = "GET / HTTP/1.1\r\n" + section;
  EXPECT_EQ(parse_whole(in).result, HttpParser::Result::complete);
  expect_split_invariant(in);
}

TEST(ParserLimitTest, HeaderSectionOnePastLimit) {
  const std::string section = headers_of_size(HttpParser::kMaxHeaderSection + 1);
  ASSERT_EQ(section.size(), 16385u);
  const std::string in = "GET / HTTP/1.1\r\n" + section;
  EXPECT_EQ(parse_whole(in).status, HttpStatus::header_fields_too_large);
  expect_split_invariant(in);
}

TEST(ParserLimitTest, HeaderSectionRefusedBeforeItsEnd) {
  // One endless field line: 431 as soon as 16384 section bytes are buffered.
  const std::string start = "GET / HTTP/1.1\r\n";
  const std::string in = start + "X: " + repeat('v', HttpParser::kMaxHeaderSection);
  HttpParser parser;
  const std::size_t almost = start.size() + HttpParser::kMaxHeaderSection - 1;
  EXPECT_EQ(parser.feed(in.data(), almost), almost);
  EXPECT_EQ(parser.result(), HttpParser::Result::incomplete);
  parser.feed(in.data() + almost, 1);
  EXPECT_EQ(parser.error(), HttpStatus::header_fields_too_large);
}

TEST(ParserLimitTest, ManySmallHeadersHitTheSectionLimit) {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n";
  while (in.size() < 20000) in += "A: b\r\n";
  in += "\r\n";
  EXPECT_EQ(parse_whole(in).status, HttpStatus::header_fields_too_large);
}

std::string with_body(std::uint64_t length) {
  return "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n" +
         repeat('x', length);
}

TEST(ParserLimitTest, BodyExactlyAtLimitIsDiscarded) {
  const std::string in = with_body(HttpParser::kMaxBody);
  const Outcome o = parse_whole(in);
  ASSERT_EQ(o.result, HttpParser::Result::complete);
  EXPECT_EQ(o.content_length, 1048576u);
  EXPECT_EQ(o.consumed, in.size());
  for (std::size_t cut : {std::size_t{0}, std::size_t{40}, std::size_t{1000}, in.size() - 1}) {
    EXPECT_EQ(parse_split(in, cut), o) << cut;
  }
}

TEST(ParserLimitTest, BodyOnePastLimitIs413WithoutReadingIt) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n";
  const std::string in = head + "xyz";
  const Outcome o = parse_whole(in);
  EXPECT_EQ(o.status, HttpStatus::payload_too_large);
  EXPECT_EQ(o.consumed, head.size());
  expect_split_invariant(in);
}

TEST(ParserLimitTest, LeadingEmptyLinesAtLimit) {
  std::string in;
  for (int i = 0; i < HttpParser::kMaxLeadingEmptyLines; ++i) in += "\r\n";
  in += "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(parse_whole(in).result, HttpParser::Result::complete);
  EXPECT_EQ(parse_whole("\n" + in).status, HttpStatus::bad_request);
}

}  // namespace
