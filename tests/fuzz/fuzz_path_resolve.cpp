/**
 * @file fuzz_path_resolve.cpp
 * libFuzzer target for resolve_target() and open_under_root(). Checks that a resolved path
 * is always relative and free of dot segments, and that whatever open_under_root() opens,
 * from the resolved path or from the raw input, is one of the regular files inside a
 * fixture root (which holds symlinks that point outside, a FIFO and a directory).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "path_resolve.h"

namespace {

[[noreturn]] void die(const char* why) {
  std::fprintf(stderr, "invariant broken: %s\n", why);
  std::abort();
}

/** The fixture: built once per fuzzing process, removed at exit. */
struct Fixture {
  std::string tmp;
  int root_fd = -1;
  std::vector<std::pair<dev_t, ino_t>> inside;  // regular files we may serve
};

Fixture* fixture = nullptr;

void remove_fixture() {
  if (fixture == nullptr) return;
  const std::string cmd = "rm -rf '" + fixture->tmp + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", cmd.c_str());
}

void must(bool ok, const char* what) {
  if (!ok) die(what);
}

void make_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  must(fd >= 0, "create fixture file");
  must(write(fd, "x\n", 2) == 2, "write fixture file");
  close(fd);
}

Fixture& get_fixture() {
  if (fixture != nullptr) return *fixture;
  static Fixture f;
  char tmpl[] = "/tmp/fuzz_path_resolve.XXXXXX";
  must(mkdtemp(tmpl) != nullptr, "mkdtemp");
  f.tmp = tmpl;
  const std::string root = f.tmp + "/root";
  must(mkdir(root.c_str(), 0755) == 0, "mkdir root");
  must(mkdir((root + "/sub").c_str(), 0755) == 0, "mkdir sub");
  make_file(f.tmp + "/outside.txt");
  const char* inside[] = {"/index.html", "/a.txt", "/sub/index.html", "/sub/b.css"};
  for (const char* name : inside) {
    make_file(root + name);
    struct stat st {};
    must(stat((root + name).c_str(), &st) == 0, "stat fixture file");
    f.inside.emplace_back(st.st_dev, st.st_ino);
  }
  must(symlink("a.txt", (root + "/link_in").c_str()) == 0, "symlink");
  must(symlink("../outside.txt", (root + "/link_out").c_str()) == 0, "symlink");
  must(symlink("/etc/passwd", (root + "/link_abs").c_str()) == 0, "symlink");
  must(symlink("..", (root + "/up").c_str()) == 0, "symlink");
  must(mkfifo((root + "/fifo").c_str(), 0644) == 0, "mkfifo");
  f.root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  must(f.root_fd >= 0, "open root");
  fixture = &f;
  std::atexit(remove_fixture);
  return f;
}

void check_relative(const std::string& relative) {
  if (relative.empty() || relative.front() == '/' || relative.back() == '/') die("bad shape");
  if (relative.find('\0') != std::string::npos) die("NUL in path");
  std::string_view rest = relative;
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") die("dot or empty segment");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
}

void check_opened(const Fixture& f, const OpenedFile& file) {
  if (file.status != HttpStatus::ok) {
    if (file.fd) die("refused file left open");
    return;
  }
  struct stat st {};
  if (fstat(file.fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) die("not a regular file");
  for (const auto& id : f.inside) {
    if (id.first == st.st_dev && id.second == st.st_ino) return;
  }
  die("opened a file outside the root");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const Fixture& f = get_fixture();
  const std::string_view target(reinterpret_cast<const char*>(bytes), size);
  OpenedFile file;
  if (resolve_target(target, file.relative) == HttpStatus::ok) {
    check_relative(file.relative);
    open_under_root(f.root_fd, file);
    check_opened(f, file);
  }
  // open_under_root() must also hold on its own, whatever string it is given.
  file.relative.assign(target);
  open_under_root(f.root_fd, file);
  check_opened(f, file);
  return 0;
}
