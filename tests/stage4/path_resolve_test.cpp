/**
 * @file path_resolve_test.cpp
 * Unit tests for resolve_target() (pure) and open_under_root() (on a real temporary
 * directory with symlinks, a FIFO and directories). Runs in the test process.
 */
#include "path_resolve.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace {

struct TargetCase {
  std::string target;
  HttpStatus status;
  std::string relative;  // checked when status is ok
};

void expect_safe(const std::string& relative) {
  ASSERT_FALSE(relative.empty());
  EXPECT_NE(relative.front(), '/') << relative;
  EXPECT_NE(relative.back(), '/') << relative;
  EXPECT_EQ(relative.find('\0'), std::string::npos);
  EXPECT_EQ(relative.find("//"), std::string::npos) << relative;
  std::string_view rest = relative;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    EXPECT_NE(segment, "..") << relative;
    EXPECT_NE(segment, ".") << relative;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

void check_cases(const TargetCase* begin, const TargetCase* end) {
  for (const TargetCase* c = begin; c != end; ++c) {
    std::string relative;
    EXPECT_EQ(resolve_target(c->target, relative), c->status) << "target " << c->target;
    if (c->status != HttpStatus::ok) continue;
    EXPECT_EQ(relative, c->relative) << "target " << c->target;
    expect_safe(relative);
  }
}

TEST(ResolveTargetTest, OrdinaryPaths) {
  const TargetCase cases[] = {
      {"/", HttpStatus::ok, "index.html"},
      {"/index.html", HttpStatus::ok, "index.html"},
      {"/docs/", HttpStatus::ok, "docs/index.html"},
      {"/docs", HttpStatus::ok, "docs"},
      {"/docs/a.css", HttpStatus::ok, "docs/a.css"},
      {"/docs/./a.css", HttpStatus::ok, "docs/a.css"},
      {"/docs/.", HttpStatus::ok, "docs/index.html"},
      {"/a/b/../c", HttpStatus::ok, "a/c"},
      {"/a/b/..", HttpStatus::ok, "a/index.html"},
      {"/a/..", HttpStatus::ok, "index.html"},
      {"/a/./b/./", HttpStatus::ok, "a/b/index.html"},
      {"/a//b///", HttpStatus::ok, "a/b/index.html"},
      {"/a?x=1", HttpStatus::ok, "a"},
      {"/a?x=/../../etc", HttpStatus::ok, "a"},
      {"/a#frag", HttpStatus::ok, "a"},
      {"/?../../etc/passwd", HttpStatus::ok, "index.html"},
      {"/#/../..", HttpStatus::ok, "index.html"},
      {"/%41%62c", HttpStatus::ok, "Abc"},
      {"/caf%C3%A9.txt", HttpStatus::ok, "caf\xc3\xa9.txt"},
      {"/a%20b", HttpStatus::ok, "a b"},
      {"/a%3Fb", HttpStatus::ok, "a?b"},
      {"/...", HttpStatus::ok, "..."},
      {"/..a", HttpStatus::ok, "..a"},
      {"/.hidden", HttpStatus::ok, ".hidden"},
      {"/%2e", HttpStatus::ok, "index.html"},
      {"/a/%2e%2e", HttpStatus::ok, "index.html"},
      {"/a/%2E%2e/b", HttpStatus::ok, "b"},
  };
  check_cases(std::begin(cases), std::end(cases));
}

TEST(ResolveTargetTest, TraversalInEverySpelling) {
  const TargetCase cases[] = {
      {"/..", HttpStatus::forbidden, ""},
      {"/../", HttpStatus::forbidden, ""},
      {"/../etc/passwd", HttpStatus::forbidden, ""},
      {"/%2e%2e/etc/passwd", HttpStatus::forbidden, ""},
      {"/%2E%2E/etc/passwd", HttpStatus::forbidden, ""},
      {"/.%2e/etc/passwd", HttpStatus::forbidden, ""},
      {"/%2e./etc/passwd", HttpStatus::forbidden, ""},
      {"/%2E%2E%2F", HttpStatus::not_found, ""},  // encoded '/': never joins segments
      {"/%2E%2E%2Fetc%2Fpasswd", HttpStatus::not_found, ""},
      {"/..%2f", HttpStatus::not_found, ""},
      {"/..%2fetc/passwd", HttpStatus::not_found, ""},
      {"/..%2F..%2Fetc%2Fpasswd", HttpStatus::not_found, ""},
      {"/a/../../b", HttpStatus::forbidden, ""},
      {"/./../", HttpStatus::forbidden, ""},
      {"/a/b/../../../x", HttpStatus::forbidden, ""},
      {"/a/./../..", HttpStatus::forbidden, ""},
      {"/a//../../b", HttpStatus::forbidden, ""},
      {"/a/%2e%2e/%2e%2e/etc/passwd", HttpStatus::forbidden, ""},
      {"/../%zz", HttpStatus::forbidden, ""},  // decided left to right
      // Double encoding decodes once: "%2e" is a literal file name, not a dot segment.
      {"/%252e%252e/etc/passwd", HttpStatus::ok, "%2e%2e/etc/passwd"},
      {"/%252e%252e%252fetc", HttpStatus::ok, "%2e%2e%2fetc"},
      // "//etc/passwd" is still under the root: empty segments collapse.
      {"//etc/passwd", HttpStatus::ok, "etc/passwd"},
      {"///../etc", HttpStatus::forbidden, ""},
      // Backslashes are ordinary bytes on Linux: a file name, never a separator.
      {"/..\\..\\etc\\passwd", HttpStatus::ok, "..\\..\\etc\\passwd"},
      {"/a\\..\\..\\b", HttpStatus::ok, "a\\..\\..\\b"},
      {"/%5c..%5c..%5cetc", HttpStatus::ok, "\\..\\..\\etc"},
      // Overlong UTF-8 dots stay bytes (no UTF-8 normalisation happens anywhere).
      {"/%c0%ae%c0%ae/etc", HttpStatus::ok, "\xc0\xae\xc0\xae/etc"},
      {"/..;/etc", HttpStatus::ok, "..;/etc"},
  };
  check_cases(std::begin(cases), std::end(cases));
}

TEST(ResolveTargetTest, BadEncodingAndNul) {
  const TargetCase cases[] = {
      {"/a%00b", HttpStatus::bad_request, ""},
      {"/%00", HttpStatus::bad_request, ""},
      {"/..%00/etc", HttpStatus::bad_request, ""},
      {std::string("/a\0b", 4), HttpStatus::bad_request, ""},
      {"/%", HttpStatus::bad_request, ""},
      {"/%2", HttpStatus::bad_request, ""},
      {"/a%2", HttpStatus::bad_request, ""},
      {"/%zz", HttpStatus::bad_request, ""},
      {"/%g0", HttpStatus::bad_request, ""},
      {"/%%32%65", HttpStatus::bad_request, ""},
      {"", HttpStatus::bad_request, ""},
      {"a/b", HttpStatus::bad_request, ""},
      {"?x", HttpStatus::bad_request, ""},
      {"*", HttpStatus::bad_request, ""},
  };
  check_cases(std::begin(cases), std::end(cases));
}

TEST(ResolveTargetTest, ReusesCallerString) {
  std::string relative = "stale contents that must vanish";
  EXPECT_EQ(resolve_target("/x/y.png", relative), HttpStatus::ok);
  EXPECT_EQ(relative, "x/y.png");
}

// ---------------------------------------------------------------------------------------------
// open_under_root on a real directory tree:
//   tmp/outside.txt            secret next to the root
//   tmp/root/index.html, a.txt, empty.txt
//   tmp/root/sub/index.html    tmp/root/empty_dir/    tmp/root/index_is_dir/index.html/
//   tmp/root/link_in -> a.txt  tmp/root/link_sub -> sub  tmp/root/sub/up -> ../a.txt
//   tmp/root/link_out -> ../outside.txt  tmp/root/link_abs -> <tmp>/outside.txt
//   tmp/root/link_root_up -> ..  tmp/root/loop -> loop  tmp/root/fifo (mkfifo)

void write_file(const std::string& path, std::string_view contents) {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(contents.data(), 1, contents.size(), f), contents.size());
  ASSERT_EQ(std::fclose(f), 0);
}

class OpenUnderRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/path_resolve_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    const std::string root = tmp_ + "/root";
    ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
    write_file(tmp_ + "/outside.txt", "secret\n");
    write_file(root + "/index.html", "<h1>home</h1>\n");
    write_file(root + "/a.txt", "hello\n");
    write_file(root + "/empty.txt", "");
    ASSERT_EQ(mkdir((root + "/sub").c_str(), 0755), 0);
    write_file(root + "/sub/index.html", "<h1>sub</h1>\n");
    ASSERT_EQ(mkdir((root + "/empty_dir").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root + "/index_is_dir").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root + "/index_is_dir/index.html").c_str(), 0755), 0);
    ASSERT_EQ(symlink("a.txt", (root + "/link_in").c_str()), 0);
    ASSERT_EQ(symlink("sub", (root + "/link_sub").c_str()), 0);
    ASSERT_EQ(symlink("../a.txt", (root + "/sub/up").c_str()), 0);
    ASSERT_EQ(symlink("../outside.txt", (root + "/link_out").c_str()), 0);
    ASSERT_EQ(symlink((tmp_ + "/outside.txt").c_str(), (root + "/link_abs").c_str()), 0);
    ASSERT_EQ(symlink("..", (root + "/link_root_up").c_str()), 0);
    ASSERT_EQ(symlink("loop", (root + "/loop").c_str()), 0);
    ASSERT_EQ(mkfifo((root + "/fifo").c_str(), 0644), 0);
    root_fd_ = UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_);
  }

  void TearDown() override {
    root_fd_.reset();
    if (tmp_.empty()) return;
    const std::string cmd = "rm -rf '" + tmp_ + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  OpenedFile open_rel(const std::string& relative) {
    OpenedFile file;
    file.relative = relative;
    open_under_root(root_fd_.get(), file);
    return file;
  }

  std::string read_all(const OpenedFile& f) {
    std::string out(static_cast<std::size_t>(f.size), '\0');
    EXPECT_EQ(pread(f.fd.get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    return out;
  }

  std::string tmp_;
  UniqueFd root_fd_;
};

TEST_F(OpenUnderRootTest, ServesRegularFiles) {
  const OpenedFile f = open_rel("a.txt");
  ASSERT_EQ(f.status, HttpStatus::ok);
  EXPECT_TRUE(f.fd);
  EXPECT_EQ(f.size, 6);
  EXPECT_EQ(read_all(f), "hello\n");
  EXPECT_EQ(f.relative, "a.txt");
  struct stat st {};
  ASSERT_EQ(stat((tmp_ + "/root/a.txt").c_str(), &st), 0);
  EXPECT_EQ(f.mtime.tv_sec, st.st_mtim.tv_sec);
  EXPECT_EQ(f.mtime.tv_nsec, st.st_mtim.tv_nsec);
  // O_CLOEXEC so a fork/exec never inherits it; O_NONBLOCK as asked.
  EXPECT_TRUE(fcntl(f.fd.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(fcntl(f.fd.get(), F_GETFL) & O_NONBLOCK);
}

TEST_F(OpenUnderRootTest, EmptyFileIsServedWithSizeZero) {
  const OpenedFile f = open_rel("empty.txt");
  EXPECT_EQ(f.status, HttpStatus::ok);
  EXPECT_EQ(f.size, 0);
}

TEST_F(OpenUnderRootTest, DirectoryWithItsSlashServesItsIndex) {
  const OpenedFile f = open_rel("sub/");
  ASSERT_EQ(f.status, HttpStatus::ok);
  EXPECT_EQ(f.relative, "sub/index.html");
  EXPECT_EQ(read_all(f), "<h1>sub</h1>\n");
  EXPECT_EQ(open_rel("sub/index.html").status, HttpStatus::ok);
}

// Served as its index, "/sub" would break the page's relative links: the client is redirected.
TEST_F(OpenUnderRootTest, DirectoryWithoutItsSlashIs301) {
  const OpenedFile f = open_rel("sub");
  EXPECT_EQ(f.status, HttpStatus::moved_permanently);
  EXPECT_FALSE(f.fd);
  EXPECT_EQ(open_rel("link_sub").status, HttpStatus::moved_permanently);
}

TEST_F(OpenUnderRootTest, DirectoryWithoutIndexIs404) {
  const OpenedFile f = open_rel("empty_dir/");
  EXPECT_EQ(f.status, HttpStatus::not_found);
  EXPECT_FALSE(f.fd);
}

TEST_F(OpenUnderRootTest, IndexThatIsADirectoryIs403) {
  EXPECT_EQ(open_rel("index_is_dir/").status, HttpStatus::forbidden);
}

TEST_F(OpenUnderRootTest, SymlinksInsideTheRootAreServed) {
  const OpenedFile in = open_rel("link_in");
  ASSERT_EQ(in.status, HttpStatus::ok);
  EXPECT_EQ(read_all(in), "hello\n");
  const OpenedFile dir = open_rel("link_sub/");
  ASSERT_EQ(dir.status, HttpStatus::ok);
  EXPECT_EQ(dir.relative, "link_sub/index.html");
  const OpenedFile up = open_rel("sub/up");  // "../a.txt" from sub/ stays inside the root
  ASSERT_EQ(up.status, HttpStatus::ok);
  EXPECT_EQ(read_all(up), "hello\n");
}

TEST_F(OpenUnderRootTest, SymlinksLeavingTheRootAreRefused) {
  for (const char* path : {"link_out", "link_abs", "link_root_up/outside.txt", "link_root_up"}) {
    const OpenedFile f = open_rel(path);
    EXPECT_EQ(f.status, HttpStatus::forbidden) << path;
    EXPECT_FALSE(f.fd) << path;
  }
}

TEST_F(OpenUnderRootTest, DotDotAndAbsolutePathsAreRefusedByTheKernelToo) {
  // resolve_target never produces these; open_under_root must hold on its own.
  EXPECT_EQ(open_rel("../outside.txt").status, HttpStatus::forbidden);
  EXPECT_EQ(open_rel("sub/../../outside.txt").status, HttpStatus::forbidden);
  EXPECT_EQ(open_rel(tmp_ + "/outside.txt").status, HttpStatus::forbidden);
  EXPECT_EQ(open_rel("/etc/passwd").status, HttpStatus::forbidden);
  EXPECT_EQ(open_rel("/proc/self/root/etc/passwd").status, HttpStatus::forbidden);
  EXPECT_EQ(open_rel(std::string("a.txt\0../../x", 13)).status, HttpStatus::bad_request);
}

TEST_F(OpenUnderRootTest, FifoIs403AndDoesNotBlock) {
  alarm(10);  // if the open blocked, SIGALRM would kill the test instead of hanging it
  const OpenedFile f = open_rel("fifo");
  alarm(0);
  EXPECT_EQ(f.status, HttpStatus::forbidden);
  EXPECT_FALSE(f.fd);
}

TEST_F(OpenUnderRootTest, MissingPathsAre404) {
  EXPECT_EQ(open_rel("missing.html").status, HttpStatus::not_found);
  EXPECT_EQ(open_rel("a.txt/x").status, HttpStatus::not_found);  // ENOTDIR
  EXPECT_EQ(open_rel("").status, HttpStatus::not_found);
  EXPECT_EQ(open_rel(std::string(5000, 'a')).status, HttpStatus::not_found);  // ENAMETOOLONG
}

TEST_F(OpenUnderRootTest, SymlinkLoopIs403) {
  EXPECT_EQ(open_rel("loop").status, HttpStatus::forbidden);
}

TEST_F(OpenUnderRootTest, UnreadableFileIs403) {
  ASSERT_EQ(chmod((tmp_ + "/root/a.txt").c_str(), 0), 0);
  if (geteuid() != 0) {
    EXPECT_EQ(open_rel("a.txt").status, HttpStatus::forbidden);
    return;
  }
  // Root bypasses permissions: check from a child that drops to "nobody" (and always reap it).
  const pid_t pid = fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    _exit(open_rel("a.txt").status == HttpStatus::forbidden ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

TEST_F(OpenUnderRootTest, ResolveThenOpenEndToEnd) {
  const struct {
    const char* target;
    HttpStatus status;
  } cases[] = {
      {"/", HttpStatus::ok},
      {"/sub/", HttpStatus::ok},
      {"/sub", HttpStatus::moved_permanently},
      {"/link_in?x", HttpStatus::ok},
      {"/%61.txt", HttpStatus::ok},
      {"/../outside.txt", HttpStatus::forbidden},
      {"/%2e%2e/outside.txt", HttpStatus::forbidden},
      {"/..%2foutside.txt", HttpStatus::not_found},
      {"/link_out", HttpStatus::forbidden},
      {"/link_root_up/outside.txt", HttpStatus::forbidden},
      {"/fifo", HttpStatus::forbidden},
      {"/nope", HttpStatus::not_found},
  };
  OpenedFile file;  // reused, as a connection would
  for (const auto& c : cases) {
    file.fd.reset();  // the caller's job when resolve_target() refuses: drop the last file
    file.status = resolve_target(c.target, file.relative);
    if (file.status == HttpStatus::ok) open_under_root(root_fd_.get(), file);
    EXPECT_EQ(file.status, c.status) << c.target;
    EXPECT_EQ(static_cast<bool>(file.fd), c.status == HttpStatus::ok) << c.target;
  }
}

}  // namespace
