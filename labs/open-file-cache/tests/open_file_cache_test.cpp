/**
 * @file open_file_cache_test.cpp
 * The unit part of lab open-file-cache's grader (labs/open-file-cache/README.md): the student's
 * OpenFileCache from open_file_cache.h, against a real directory: hits, small files answered
 * from memory, the fstat that keeps a large file's size true, the check after the bound, LRU
 * eviction, and fds closed when evicted.
 * Compiled against the student's copy; runs in the test process.
 */
#include "open_file_cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.h"
#include "http_client.h"

namespace {

using harness::DocRoot;
using std::chrono::hours;
using std::chrono::milliseconds;

/**
 * The body a response would send: a small file's bytes from memory (their length must be the
 * size), or the open file from offset 0, as sendfile would send it (at most @p size bytes).
 */
std::string read_file(const CachedOpen& file) {
  if (file.body) {
    EXPECT_EQ(static_cast<off_t>(file.body->size()), file.size) << "body and size disagree";
    return *file.body;
  }
  std::string data(static_cast<std::size_t>(file.size), '\0');
  const ssize_t n = pread(file.fd->get(), data.data(), data.size(), 0);
  data.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return data;
}

/** The files of @p dir that this process has open now, one entry per fd ("index.html"). */
std::vector<std::string> open_files_under(const std::string& dir) {
  std::vector<std::string> names;
  for (int fd : harness::open_fds(getpid())) {
    char target[4096];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string path(target, static_cast<std::size_t>(n));
    if (path.compare(0, dir.size() + 1, dir + "/") == 0)
      names.push_back(path.substr(dir.size() + 1));
  }
  return names;
}

/** A DocRoot and its directory opened as the server opens it (O_PATH). */
class OpenFileCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_fd_ = open(docroot_.root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_fd_, 0);
  }
  void TearDown() override { close(root_fd_); }
  std::string path(const std::string& relative) const { return docroot_.root() + "/" + relative; }
  /** Writes @p content to a new file and renames it over @p relative (a new inode). */
  void replace(const std::string& relative, const std::string& content) const {
    docroot_.write("replacement.tmp", content);
    ASSERT_EQ(rename(path("replacement.tmp").c_str(), path(relative).c_str()), 0);
  }

  DocRoot docroot_;
  int root_fd_ = -1;
};

TEST_F(OpenFileCacheTest, AHitIsTheFileAlreadyOpen) {
  OpenFileCache cache(root_fd_, 4, hours(1));
  const CachedOpen first = cache.open("index.html");
  ASSERT_EQ(first.status, HttpStatus::ok);
  ASSERT_TRUE(first.fd);
  EXPECT_EQ(first.size, 612);
  EXPECT_EQ(read_file(first), docroot_.content("index.html"));
  const CachedOpen again = cache.open("index.html");
  ASSERT_EQ(again.status, HttpStatus::ok);
  EXPECT_EQ(again.fd->get(), first.fd->get()) << "a hit opened the file again";
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(open_files_under(docroot_.root()), std::vector<std::string>{"index.html"});
}

// Within the bound a hit looks no name up: the file is gone from the directory, yet the open
// fd still serves it. (Deleted files are the bound's business; see the next tests.)
TEST_F(OpenFileCacheTest, WithinTheBoundAHitLooksUpNoName) {
  OpenFileCache cache(root_fd_, 4, hours(1));
  const int fd = cache.open("style.css").fd->get();
  ASSERT_EQ(unlink(path("style.css").c_str()), 0);
  const CachedOpen hit = cache.open("style.css");
  ASSERT_EQ(hit.status, HttpStatus::ok) << "a hit within the bound looked the name up";
  EXPECT_EQ(hit.fd->get(), fd);
  EXPECT_EQ(read_file(hit), "body { color: red; }\n");
}

// A large file is sent from its fd, so the size a response promises is the file's now, even
// within the bound: a hit that promised the cached size of a shrunken file could not keep its
// Content-Length.
TEST_F(OpenFileCacheTest, ALargeTruncatedFileIsSeenAtOnce) {
  OpenFileCache cache(root_fd_, 4, hours(1));
  const CachedOpen large = cache.open("one_mib.bin");
  ASSERT_EQ(large.size, 1024 * 1024);
  EXPECT_FALSE(large.body) << "a 1 MiB file kept in memory (kMaxInMemory is 16 KiB)";
  ASSERT_EQ(truncate(path("one_mib.bin").c_str(), 100), 0);
  const CachedOpen shrunk = cache.open("one_mib.bin");
  ASSERT_EQ(shrunk.status, HttpStatus::ok);
  EXPECT_EQ(shrunk.size, 100) << "the size cached before the truncation";
  EXPECT_EQ(read_file(shrunk), DocRoot::pattern(100));
  docroot_.write("one_mib.bin", "grown again, in place\n");
  const CachedOpen rewritten = cache.open("one_mib.bin");
  EXPECT_EQ(rewritten.size, 22);
  EXPECT_EQ(read_file(rewritten), "grown again, in place\n");
}

// A small file is answered from the bytes the entry holds, with no system call: truncated in
// place, it is still served whole, old bytes and old size together, until the bound has passed.
TEST_F(OpenFileCacheTest, ASmallFileIsServedWholeFromMemoryWithinTheBound) {
  OpenFileCache cache(root_fd_, 4, hours(1));
  const CachedOpen first = cache.open("ten_k.bin");
  ASSERT_EQ(first.status, HttpStatus::ok);
  ASSERT_TRUE(first.body) << "a 10 KiB file not kept in memory";
  ASSERT_EQ(truncate(path("ten_k.bin").c_str(), 100), 0);
  const CachedOpen hit = cache.open("ten_k.bin");
  ASSERT_EQ(hit.status, HttpStatus::ok);
  EXPECT_EQ(hit.size, 10 * 1024) << "within the bound, a hit of a small file made an fstat";
  EXPECT_EQ(read_file(hit), DocRoot::pattern(10 * 1024)) << "not the bytes read at the miss";
}

// After the bound one stat() tells whether a small file changed: by size, or by mtime alone,
// to the nanosecond (same size, same second: a rewrite that only a finer clock can tell).
TEST_F(OpenFileCacheTest, AChangedSmallFileIsReadAgainOnceTheBoundHasPassed) {
  constexpr milliseconds kBound(100);
  OpenFileCache cache(root_fd_, 4, kBound);
  ASSERT_EQ(cache.open("ten_k.bin").status, HttpStatus::ok);
  ASSERT_EQ(truncate(path("ten_k.bin").c_str(), 1000), 0);
  std::string seen;
  EXPECT_TRUE(harness::wait_until(
      [&] { return (seen = read_file(cache.open("ten_k.bin"))) == DocRoot::pattern(1000); },
      kBound + milliseconds(1000)))
      << "still " << seen.size() << " bytes, 1 s after the bound";
  struct stat before {};
  ASSERT_EQ(stat(path("ten_k.bin").c_str(), &before), 0);
  const std::string same_size(1000, 'z');
  docroot_.write("ten_k.bin", same_size);  // in place: same inode, same size
  timespec times[2] = {before.st_atim, before.st_mtim};
  times[1].tv_nsec = (times[1].tv_nsec + 1) % 1000000000;  // the same second, 1 ns apart
  ASSERT_EQ(utimensat(AT_FDCWD, path("ten_k.bin").c_str(), times, 0), 0);
  EXPECT_TRUE(
      harness::wait_until([&] { return (seen = read_file(cache.open("ten_k.bin"))) == same_size; },
                          kBound + milliseconds(1000)))
      << "a rewrite of the same size, the mtime 1 ns apart, not seen 1 s after the bound";
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(OpenFileCacheTest, AFileRenamedOverIsServedOnceTheBoundHasPassed) {
  constexpr milliseconds kBound(100);
  OpenFileCache cache(root_fd_, 4, kBound);
  ASSERT_EQ(cache.open("index.html").status, HttpStatus::ok);
  ASSERT_NO_FATAL_FAILURE(replace("index.html", "the new page\n"));
  std::string seen;
  EXPECT_TRUE(harness::wait_until(
      [&] {
        const CachedOpen now = cache.open("index.html");
        seen = now.status == HttpStatus::ok ? read_file(now) : "(no file)";
        return seen == "the new page\n";
      },
      kBound + milliseconds(1000)))
      << "still " << seen.size() << " bytes of the old file, 1 s after the bound";
  EXPECT_EQ(cache.size(), 1u) << "the old entry was kept beside the new one";
}

TEST_F(OpenFileCacheTest, ADeletedFileIsNotFoundOnceTheBoundHasPassed) {
  OpenFileCache cache(root_fd_, 4, milliseconds(0));
  ASSERT_EQ(cache.open("style.css").status, HttpStatus::ok);
  ASSERT_EQ(unlink(path("style.css").c_str()), 0);
  EXPECT_EQ(cache.open("style.css").status, HttpStatus::not_found);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(open_files_under(docroot_.root()).empty()) << "the deleted file is still open";
}

// A cached name that now leaves the root must go through openat2 again, and be refused.
TEST_F(OpenFileCacheTest, ANameThatNowLeavesTheRootIsRefused) {
  OpenFileCache cache(root_fd_, 4, milliseconds(0));
  ASSERT_EQ(cache.open("index.html").status, HttpStatus::ok);
  ASSERT_EQ(symlink("../secret.txt", path("escape.tmp").c_str()), 0);
  ASSERT_EQ(rename(path("escape.tmp").c_str(), path("index.html").c_str()), 0);
  const CachedOpen after = cache.open("index.html");
  EXPECT_EQ(after.status, HttpStatus::forbidden);
  EXPECT_FALSE(after.fd) << "a file outside the root was handed out";
}

TEST_F(OpenFileCacheTest, ErrorsAreAnsweredAsOpenUnderRootAnswersThemAndNotKept) {
  OpenFileCache cache(root_fd_, 4, hours(1));
  EXPECT_EQ(cache.open("missing.html").status, HttpStatus::not_found);
  EXPECT_EQ(cache.open("link_out").status, HttpStatus::forbidden);
  EXPECT_EQ(cache.open("sub").status, HttpStatus::moved_permanently);
  EXPECT_EQ(cache.open("sub/index.html").status, HttpStatus::ok);
  EXPECT_EQ(cache.open("link_in").status, HttpStatus::ok) << "a symlink inside the root";
  EXPECT_EQ(cache.size(), 2u) << "only the files that were served are kept";
  docroot_.write("missing.html", "here now\n");
  EXPECT_EQ(cache.open("missing.html").status, HttpStatus::ok) << "a 404 was kept";
}

TEST_F(OpenFileCacheTest, TheLeastRecentlyUsedFileIsEvictedAndClosed) {
  OpenFileCache cache(root_fd_, 2, hours(1));
  ASSERT_EQ(cache.open("index.html").status, HttpStatus::ok);
  ASSERT_EQ(cache.open("style.css").status, HttpStatus::ok);
  ASSERT_EQ(cache.open("index.html").status, HttpStatus::ok);  // now style.css is the oldest
  ASSERT_EQ(cache.open("ten_k.bin").status, HttpStatus::ok);
  EXPECT_EQ(cache.size(), 2u);
  auto open_now = open_files_under(docroot_.root());
  std::sort(open_now.begin(), open_now.end());
  EXPECT_EQ(open_now, (std::vector<std::string>{"index.html", "ten_k.bin"}))
      << "the least recently used file (style.css) should be the one closed";
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(cache.open(i % 2 ? "empty.txt" : "style.css").status, HttpStatus::ok);
  }
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(open_files_under(docroot_.root()).size(), 2u) << "evicted files left open";
}

// A response still sending an evicted file keeps it open; the file closes when it lets go.
TEST_F(OpenFileCacheTest, AnEvictedFileStaysOpenWhileAResponseHoldsIt) {
  OpenFileCache cache(root_fd_, 1, hours(1));
  CachedOpen in_flight = cache.open("one_mib.bin");  // large: sent from the fd
  ASSERT_EQ(in_flight.status, HttpStatus::ok);
  ASSERT_EQ(cache.open("index.html").status, HttpStatus::ok);  // evicts one_mib.bin
  EXPECT_EQ(read_file(in_flight), DocRoot::pattern(1024 * 1024)) << "closed under the response";
  in_flight = CachedOpen{};
  EXPECT_EQ(open_files_under(docroot_.root()), std::vector<std::string>{"index.html"});
}

}  // namespace
