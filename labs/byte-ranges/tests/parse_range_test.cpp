/**
 * @file parse_range_test.cpp
 * The unit part of lab byte-ranges' grader (labs/byte-ranges/README.md): the student's
 * parse_range() from byte_range.h, the Range field against a file's size (RFC 9110 §14).
 * Compiled against the student's copy; runs in the test process.
 */
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "byte_range.h"

namespace {

/**
 * What parse_range() decides, as one string ("partial 0-99", "whole", "unsatisfiable"), so that
 * a failure shows the whole answer. first and last are part of the answer only for a partial.
 */
std::string answer(std::string_view value, off_t size) {
  const ByteRange range = parse_range(value, size);
  switch (range.kind) {
    case ByteRange::Kind::whole:
      return "whole";
    case ByteRange::Kind::unsatisfiable:
      return "unsatisfiable";
    case ByteRange::Kind::partial:
      return "partial " + std::to_string(range.first) + "-" + std::to_string(range.last);
  }
  return "(not a Kind)";
}

TEST(ParseRange, FirstToLastIsClampedToTheFile) {
  EXPECT_EQ(answer("bytes=0-99", 1000), "partial 0-99");
  EXPECT_EQ(answer("bytes=0-0", 1000), "partial 0-0");
  EXPECT_EQ(answer("bytes=999-999", 1000), "partial 999-999");
  EXPECT_EQ(answer("bytes=0-999", 1000), "partial 0-999");  // all of it, still a 206
  EXPECT_EQ(answer("bytes=100-5000", 1000), "partial 100-999");
  EXPECT_EQ(answer("Bytes=1-2", 1000), "partial 1-2") << "range units are case-insensitive";
  EXPECT_EQ(answer("BYTES=1-2", 1000), "partial 1-2");
}

TEST(ParseRange, FirstToTheEnd) {
  EXPECT_EQ(answer("bytes=500-", 1000), "partial 500-999");
  EXPECT_EQ(answer("bytes=0-", 1000), "partial 0-999");
  EXPECT_EQ(answer("bytes=999-", 1000), "partial 999-999");
  EXPECT_EQ(answer("bytes=0-", 1), "partial 0-0");
}

TEST(ParseRange, SuffixIsTheLastBytes) {
  EXPECT_EQ(answer("bytes=-100", 1000), "partial 900-999");
  EXPECT_EQ(answer("bytes=-1", 1000), "partial 999-999");
  EXPECT_EQ(answer("bytes=-1000", 1000), "partial 0-999");
  EXPECT_EQ(answer("bytes=-5000", 1000), "partial 0-999") << "shorter than asked: all of it";
}

TEST(ParseRange, UnsatisfiableWhenItStartsAtOrPastTheEnd) {
  EXPECT_EQ(answer("bytes=1000-", 1000), "unsatisfiable");
  EXPECT_EQ(answer("bytes=1000-1000", 1000), "unsatisfiable");
  EXPECT_EQ(answer("bytes=5000-6000", 1000), "unsatisfiable");
  EXPECT_EQ(answer("bytes=-0", 1000), "unsatisfiable") << "a suffix of no bytes";
  EXPECT_EQ(answer("bytes=0-", 0), "unsatisfiable") << "an empty file has no byte 0";
  EXPECT_EQ(answer("bytes=0-0", 0), "unsatisfiable");
  // An empty file is shorter than any suffix, but no Content-Range can name a part of it.
  EXPECT_NE(answer("bytes=-5", 0).rfind("partial", 0), 0u) << answer("bytes=-5", 0);
}

TEST(ParseRange, InvalidOrUnknownRangesAreIgnored) {
  for (const char* value :
       {"",           "bytes",         "bytes=",    "bytes=-",    "bytes=5-2",   "bytes=a-b",
        "bytes=1-x",  "bytes=x-1",     "bytes=--1", "bytes=1--2", "bytes=1-2-3", "bytes=+1-2",
        "bytes=1-+2", "bytes=0x10-20", "bytes 0-1", "bytes:0-1",  "=0-1",        "items=0-1",
        "bytesx=0-1", "byte=0-1"}) {
    EXPECT_EQ(answer(value, 1000), "whole") << "Range: " << value;
  }
}

TEST(ParseRange, SeveralRangesGetTheWholeFile) {
  for (const char* value : {"bytes=0-1,5-6", "bytes=0-1, 5-6", "bytes=-1,0-0", "bytes=500-,0-0",
                            "bytes=0-1,5000-6000"}) {
    EXPECT_EQ(answer(value, 1000), "whole") << "Range: " << value;
  }
}

TEST(ParseRange, LargeFilesAndNumbersThatDoNotFit) {
  const off_t five_gib = off_t{5} << 30;  // past 32 bits: an int or a long on ILP32 is too small
  EXPECT_EQ(answer("bytes=4294967296-4294967299", five_gib), "partial 4294967296-4294967299");
  EXPECT_EQ(answer("bytes=-4294967296", five_gib), "partial 1073741824-5368709119");
  EXPECT_EQ(answer("bytes=5368709119-", five_gib), "partial 5368709119-5368709119");
  // Numbers too large for 64 bits must not wrap around to small ones: 2^64 + 1 is not byte 1.
  // Past the end of any file they are unsatisfiable; ignoring them as invalid is allowed too.
  for (const char* value : {"bytes=18446744073709551617-", "bytes=9223372036854775808-",
                            "bytes=9223372036854775807-", "bytes=99999999999999999999999-"}) {
    EXPECT_TRUE(answer(value, 1000) == "unsatisfiable" || answer(value, 1000) == "whole")
        << "Range: " << value << " gave " << answer(value, 1000);
  }
  for (const char* value : {"bytes=0-18446744073709551616", "bytes=-18446744073709551617"}) {
    EXPECT_TRUE(answer(value, 1000) == "partial 0-999" || answer(value, 1000) == "whole")
        << "Range: " << value << " gave " << answer(value, 1000);
  }
}

}  // namespace
