/**
 * @file cached_files_test.cpp
 * The integration part of lab open-file-cache's grader (labs/open-file-cache/README.md): the
 * student's server, one worker, over real sockets. Hits come from a file the worker keeps open;
 * at most 64 stay open; a file renamed over, truncated or deleted, or a name that now leaves the
 * root, is seen within the bound (1 s, plus a margin), a large file truncated at once, and no
 * response ever has a body that disagrees with its Content-Length: every answer is read whole on
 * one keep-alive connection.
 */
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

namespace {

using harness::Client;
using harness::DocRoot;
using harness::HttpResponse;
using harness::Millis;
using harness::ServerProcess;

/** The handout's bound: a change is served at most this long after it happened. */
constexpr Millis kBound(1000);
/** What the grader allows beyond the bound (a loaded machine, the polling's own pace). */
constexpr Millis kMargin(1000);
/** The handout's cap on the files a worker keeps open. */
constexpr std::size_t kMaxEntries = 64;

/** The paths under @p root that process @p pid has open now, one entry per fd. */
std::vector<std::string> open_files_under(pid_t pid, const std::string& root) {
  std::vector<std::string> names;
  for (int fd : harness::open_fds(pid)) {
    char target[4096];
    const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string path(target, static_cast<std::size_t>(n));
    if (path.compare(0, root.size() + 1, root + "/") == 0)
      names.push_back(path.substr(root.size() + 1));
  }
  return names;
}

/** The student's server with one worker on a fresh document root, and one keep-alive client. */
class CachedFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        harness::ServerConfig{{"--workers", "1", "--root", docroot_.root()}});
    ASSERT_TRUE(server_->ready()) << server_->stderr_text();
    const auto workers = harness::wait_for_workers(*server_, 1);
    ASSERT_EQ(workers.size(), 1u) << server_->stderr_text();
    worker_ = workers[0];
    client_ = std::make_unique<Client>(server_->port());
    ASSERT_TRUE(client_->connected());
  }
  std::string path(const std::string& relative) const { return docroot_.root() + "/" + relative; }

  /** GET @p target on the keep-alive connection; nullopt unless a whole response came back. */
  std::optional<HttpResponse> get(const std::string& target) {
    if (!client_->send_all(harness::get_request(target))) return std::nullopt;
    return harness::read_response(*client_, false, Millis(2000));
  }

  /**
   * The files under the root the worker holds open once it is done with every response so far:
   * a 404 is answered on the same connection only after the worker finished with the request
   * before it, file closed or kept (a client can read a body before the worker closes its file).
   */
  std::vector<std::string> worker_open_files() {
    const auto not_found = get("/no-such-file");
    EXPECT_TRUE(not_found.has_value() && not_found->status == 404);
    return open_files_under(worker_, docroot_.root());
  }

  /**
   * Asks for @p target again and again on the one connection until @p is_new says the answer
   * is the new state, for at most the bound plus the margin. Every answer must be whole (a body
   * of exactly Content-Length bytes, the connection still open) and pass @p is_old or @p is_new.
   */
  void expect_change_within_the_bound(const std::string& target,
                                      const std::function<bool(const HttpResponse&)>& is_old,
                                      const std::function<bool(const HttpResponse&)>& is_new) {
    bool broken = false;
    std::string last = "(none)";
    const bool changed = harness::wait_until(
        [&] {
          const auto response = get(target);
          if (!response) return broken = true;  // stop at once: the connection is unusable
          last = response->status_line + ", Content-Length " + response->header("content-length");
          if (is_new(*response)) return true;
          if (!is_old(*response)) return broken = true;
          return false;
        },
        kBound + kMargin);
    ASSERT_FALSE(broken) << "after " << target << " changed, an answer was neither the old nor "
                         << "the new file, or was cut short (last whole answer: " << last << ")\n"
                         << server_->stderr_text();
    EXPECT_TRUE(changed) << "still the old " << target << " " << (kBound + kMargin).count()
                         << " ms after the change; last answer: " << last;
  }

  DocRoot docroot_;
  std::unique_ptr<ServerProcess> server_;
  pid_t worker_ = -1;
  std::unique_ptr<Client> client_;
};

/** A 200 whose body is exactly @p content (Content-Length is its length: read_response). */
std::function<bool(const HttpResponse&)> serves(const std::string& content) {
  return [content](const HttpResponse& r) { return r.status == 200 && r.body == content; };
}

TEST_F(CachedFiles, HitsComeFromAFileTheWorkerKeepsOpen) {
  const std::string page = docroot_.content("index.html");
  for (int i = 0; i < 5; ++i) {
    const auto response = get("/index.html");
    ASSERT_TRUE(response.has_value());
    ASSERT_TRUE(serves(page)(*response)) << response->status_line;
  }
  // Answered and idle, the worker still holds the file: the next request needs no openat2.
  std::vector<std::string> held;
  EXPECT_TRUE(harness::wait_until([&] {
    held = worker_open_files();
    return held == std::vector<std::string>{"index.html"};
  })) << "the worker holds "
      << held.size() << " files under the root; expected index.html once";
  const auto fds_before = harness::open_fds(worker_);
  for (int i = 0; i < 50; ++i) {
    const auto response = get(i % 2 ? "/index.html" : "/");
    ASSERT_TRUE(response.has_value() && serves(page)(*response)) << "request " << i;
  }
  EXPECT_EQ(worker_open_files(), std::vector<std::string>{"index.html"});
  EXPECT_EQ(harness::open_fds(worker_), fds_before) << "hits opened or closed files";
}

TEST_F(CachedFiles, AtMostSixtyFourFilesStayOpen) {
  constexpr int kFiles = 100;
  for (int i = 0; i < kFiles; ++i)
    docroot_.write("f" + std::to_string(i), "file " + std::to_string(i));
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kFiles; ++i) {
      const auto response = get("/f" + std::to_string(i));
      ASSERT_TRUE(response.has_value());
      ASSERT_TRUE(serves("file " + std::to_string(i))(*response)) << "/f" << i;
    }
  }
  const std::size_t held = worker_open_files().size();
  EXPECT_GE(held, 1u) << "no file is kept open: nothing is cached";
  EXPECT_LE(held, kMaxEntries) << "evicted files left open";
  const auto again = get("/f0");
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(serves("file 0")(*again));
}

TEST_F(CachedFiles, AFileRenamedOverIsServedWithinTheBound) {
  const std::string old_page = docroot_.content("index.html");
  const std::string new_page = "<html><body>the new page, shorter</body></html>\n";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get("/index.html").has_value());
  docroot_.write("index.html.new", new_page);
  ASSERT_EQ(rename(path("index.html.new").c_str(), path("index.html").c_str()), 0);
  expect_change_within_the_bound("/index.html", serves(old_page), serves(new_page));
  for (int i = 0; i < 5; ++i) {
    const auto response = get("/index.html");
    ASSERT_TRUE(response.has_value() && serves(new_page)(*response)) << "the old file came back";
  }
}

// A shrunken file must never get its old Content-Length: the body could not follow, and the
// client would see a short answer and a closed connection, or wait for bytes that never come. A
// small file is answered from the bytes the worker holds: the old ones, whole, until the bound.
TEST_F(CachedFiles, ATruncatedSmallFileIsSeenWithinTheBoundNeverCutShort) {
  const std::string old_file = DocRoot::pattern(10 * 1024);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get("/ten_k.bin").has_value());
  ASSERT_EQ(truncate(path("ten_k.bin").c_str(), 1000), 0);
  expect_change_within_the_bound("/ten_k.bin", serves(old_file), serves(old_file.substr(0, 1000)));
  ASSERT_EQ(truncate(path("ten_k.bin").c_str(), 0), 0);
  expect_change_within_the_bound("/ten_k.bin", serves(old_file.substr(0, 1000)), serves(""));
}

// A large file is sent from the file itself, so its size is checked on every request: the
// first answer after the truncation already has the new length.
TEST_F(CachedFiles, ATruncatedLargeFileIsSeenAtOnce) {
  const std::string old_file = DocRoot::pattern(1024 * 1024);
  for (int i = 0; i < 3; ++i) {
    const auto response = get("/one_mib.bin");
    ASSERT_TRUE(response.has_value() && serves(old_file)(*response)) << "request " << i;
  }
  ASSERT_EQ(truncate(path("one_mib.bin").c_str(), 1000), 0);
  const auto response = get("/one_mib.bin");
  ASSERT_TRUE(response.has_value()) << "no whole answer after the truncation";
  EXPECT_TRUE(serves(old_file.substr(0, 1000))(*response))
      << response->status_line << ", Content-Length " << response->header("content-length");
}

TEST_F(CachedFiles, ADeletedFileIsNotFoundWithinTheBound) {
  const std::string css = docroot_.content("style.css");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get("/style.css").has_value());
  ASSERT_EQ(unlink(path("style.css").c_str()), 0);
  expect_change_within_the_bound("/style.css", serves(css),
                                 [](const HttpResponse& r) { return r.status == 404; });
  EXPECT_TRUE(harness::wait_until([&] { return worker_open_files().empty(); }))
      << "the worker still holds the deleted file open";
}

// Confinement is openat2's, on every miss: a cached name that now leaves the root is refused
// once the bound has passed, and what is outside is never served.
TEST_F(CachedFiles, ANameThatNowLeavesTheRootIsRefusedWithinTheBound) {
  const std::string page = docroot_.content("index.html");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(get("/index.html").has_value());
  ASSERT_EQ(symlink("../secret.txt", path("escape.tmp").c_str()), 0);
  ASSERT_EQ(rename(path("escape.tmp").c_str(), path("index.html").c_str()), 0);
  expect_change_within_the_bound("/index.html", serves(page), [](const HttpResponse& r) {
    return r.status == 403 || r.status == 404;
  });
  const auto response = get("/index.html");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body.find("TOP SECRET"), std::string::npos);
}

}  // namespace
