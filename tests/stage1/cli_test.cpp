/**
 * @file cli_test.cpp
 * The command-line contract (every stage): usage errors exit 2, start-up errors exit 1.
 */
#include <gtest/gtest.h>

#include "harness.h"

namespace {

using harness::run_server_to_exit;

void expect_usage_error(const std::vector<std::string>& args, const std::string& message_part) {
  const auto result = run_server_to_exit(args);
  EXPECT_EQ(result.exit_status, 2) << "args: " << ::testing::PrintToString(args) << "\n"
                                   << result.err;
  EXPECT_NE(result.err.find(message_part), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("Sanitizer"), std::string::npos) << result.err;
}

TEST(CommandLine, HelpPrintsUsageAndExitsZero) {
  const auto result = run_server_to_exit({"--help"});
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_NE(result.out.find("--port PORT"), std::string::npos) << result.out;
}

TEST(CommandLine, PortOutOfRangeIsAUsageError) {
  expect_usage_error({"--port", "70000"}, "--port");
}

TEST(CommandLine, PortThatIsNotANumberIsAUsageError) { expect_usage_error({"-p", "80x"}, "80x"); }

TEST(CommandLine, NegativePortIsAUsageError) { expect_usage_error({"--port=-1"}, "--port"); }

// strtol skips blanks and takes a sign: " 8080" and "+0" would pass for numbers.
TEST(CommandLine, PortMustBePlainDigits) {
  for (const char* port : {" 8080", "+0", "8080 ", "0x10", ""})
    expect_usage_error({"--port", port}, "--port must be a number");
}

TEST(CommandLine, UnknownLongOptionIsAUsageError) { expect_usage_error({"--bogus"}, "--bogus"); }

TEST(CommandLine, UnknownShortOptionIsAUsageError) { expect_usage_error({"-Z"}, "-Z"); }

TEST(CommandLine, ValueForAFlagIsAUsageErrorNamingIt) {
  expect_usage_error({"--verbose=1"}, "--verbose=1");
  expect_usage_error({"--verb=1"}, "takes no value: '--verb=1'");  // an abbreviation
  // An unknown letter inside a group, after a --name=value: the letter is what is wrong.
  expect_usage_error({"--port=0", "-Zv"}, "unknown option '-Z'");
}

TEST(CommandLine, MissingValueIsAUsageError) { expect_usage_error({"--port"}, "--port"); }

TEST(CommandLine, HostThatIsNotAnAddressIsAUsageError) {
  expect_usage_error({"--host", "not-an-address"}, "not-an-address");
}

TEST(CommandLine, StrayArgumentIsAUsageError) { expect_usage_error({"extra"}, "extra"); }

TEST(CommandLine, PortInUseExitsOneWithAClearMessage) {
  harness::ServerProcess first;
  ASSERT_TRUE(first.ready()) << first.ready_line() << first.stderr_text();
  const auto result = run_server_to_exit({"--port", std::to_string(first.port())});
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_NE(result.err.find("server: bind 127.0.0.1:" + std::to_string(first.port()) +
                            ": Address already in use"),
            std::string::npos)
      << result.err;
  EXPECT_TRUE(harness::serves_a_new_client(first.port())) << "the first server must be unharmed";
}

TEST(CommandLine, ReadyLineNamesTheRealPort) {
  harness::ServerProcess server;
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  EXPECT_EQ(server.ready_line(), "listening on 127.0.0.1:" + std::to_string(server.port()) + "\n");
}

}  // namespace
