/**
 * @file root_option_test.cpp
 * The --root option and the start-up checks of chapter 4 (stage 4 onwards).
 */
#include <gtest/gtest.h>

#include "harness.h"
#include "http_client.h"

namespace {

using harness::run_server_to_exit;

TEST(RootOption, MissingDirectoryIsAUsageError) {
  const auto result = run_server_to_exit({"--root", "/no/such/directory"});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("--root must be an existing directory"), std::string::npos)
      << result.err;
}

// `--root "$UNSET"` in a script must not quietly serve the built-in site.
TEST(RootOption, EmptyRootIsAUsageError) {
  const auto result = run_server_to_exit({"--root", ""});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("--root must be an existing directory, not ''"), std::string::npos)
      << result.err;
}

// With 10 descriptors a worker holds its own and one connection but no file to send: every
// request would get a 500. The server refuses to start and says why; with a few more, it serves.
TEST(RootOption, TooFewFileDescriptorsToServeAFileIsAStartUpError) {
  harness::DocRoot docroot;
  const auto result = run_server_to_exit(
      {"--port", "0", "--workers", "1", "--root", docroot.root()}, harness::kDeadline, {}, 10);
  EXPECT_EQ(result.exit_status, 1) << result.err;
  EXPECT_NE(result.err.find("server: RLIMIT_NOFILE is 10"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "") << "a ready line although it cannot serve";

  harness::ServerProcess server({{"--workers", "1", "--root", docroot.root()}, 16});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto response = harness::fetch(server.port(), "/index.html");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

}  // namespace
