/**
 * @file path_resolve.cpp
 * Target decoding, dot-segment removal and openat2-confined opening. Run by a worker
 * process for every request it serves.
 */
#include "path_resolve.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

constexpr std::string_view kIndexFile = "index.html";

/** Value of a hex digit, or -1. */
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/**
 * Percent-decodes one raw segment (RFC 3986 §2.1) onto the end of `out`. Decoding happens
 * exactly once, so "%252e" stays the literal "%2e". Rejects what cannot be a file name.
 */
HttpStatus append_decoded(std::string_view raw, std::string& out) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%') {
      if (raw.size() - i < 3) return HttpStatus::bad_request;  // '%' needs two hex digits
      const int hi = hex_value(raw[i + 1]);
      const int lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return HttpStatus::bad_request;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
      // An encoded '/' would join two segments behind the dot-segment check: refuse it.
      // No file name contains '/', so "not found" is the honest answer (like Apache).
      if (c == '/') return HttpStatus::not_found;
    }
    if (c == '\0') return HttpStatus::bad_request;  // would truncate the C path
    out.push_back(c);
  }
  return HttpStatus::ok;
}

/** Drops the last segment of `relative`; false when there is none (climb above the root). */
bool pop_segment(std::string& relative) {
  if (relative.empty()) return false;
  const std::size_t slash = relative.rfind('/');
  relative.resize(slash == std::string::npos ? 0 : slash);
  return true;
}

/**
 * Decodes one segment onto `relative` and applies RFC 3986 §5.2.4: "." and "" vanish, ".."
 * removes the previous segment. Sets `is_dir` when the path now names a directory.
 */
HttpStatus append_segment(std::string_view raw, std::string& relative, bool& is_dir) {
  const std::size_t mark = relative.size();
  if (mark > 0) relative.push_back('/');
  const std::size_t start = relative.size();
  const HttpStatus status = append_decoded(raw, relative);
  if (status != HttpStatus::ok) return status;
  const std::string_view segment = std::string_view(relative).substr(start);
  is_dir = segment.empty() || segment == "." || segment == "..";
  if (!is_dir) return HttpStatus::ok;
  const bool climb = segment == "..";
  relative.resize(mark);
  if (climb && !pop_segment(relative)) return HttpStatus::forbidden;
  return HttpStatus::ok;
}

/** openat2 confined to the root, retried on the races the kernel reports as EAGAIN. */
int open_beneath(int root_dir_fd, const char* path) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;  // O_NONBLOCK: a FIFO must not block us
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    const long fd = syscall(SYS_openat2, root_dir_fd, path, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    // EAGAIN: a concurrent rename made ".." resolution unverifiable (openat2(2)); retry.
    if ((errno != EINTR && errno != EAGAIN) || attempt == 3) return -1;
  }
}

/** Maps an openat2 errno to the status the client sees. */
HttpStatus status_for_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return HttpStatus::not_found;
    case EXDEV:  // RESOLVE_BENEATH: "..", an absolute path or a symlink tried to leave
    case ELOOP:  // a magic link, or a symlink loop
    case EACCES:
    case EPERM:
      return HttpStatus::forbidden;
    default:
      return HttpStatus::internal_server_error;
  }
}

/** Opens `path` beneath the root into `fd` and fstats it. */
HttpStatus open_and_stat(int root_dir_fd, const std::string& path, UniqueFd& fd, struct stat& st) {
  fd.reset(open_beneath(root_dir_fd, path.c_str()));
  if (!fd) return status_for_errno(errno);
  if (fstat(fd.get(), &st) != 0) return HttpStatus::internal_server_error;
  return HttpStatus::ok;
}

/** The body of open_under_root(): opens file.relative, or the index of that directory. */
HttpStatus open_file(int root_dir_fd, OpenedFile& file) {
  // c_str() would silently cut the path at a NUL and open something else.
  if (file.relative.find('\0') != std::string::npos) return HttpStatus::bad_request;
  struct stat st {};
  HttpStatus status = open_and_stat(root_dir_fd, file.relative, file.fd, st);
  if (status != HttpStatus::ok) return status;
  if (S_ISDIR(st.st_mode)) {
    // "/docs" names a directory: served as its index, the page's relative links would resolve
    // against "/" instead of "/docs/", so the client is sent to "/docs/" (301) instead.
    if (!file.relative.empty() && file.relative.back() != '/') return HttpStatus::moved_permanently;
    // Re-open from the root (not from the directory fd) so "index.html" obeys the same rules.
    file.relative.append(kIndexFile);
    status = open_and_stat(root_dir_fd, file.relative, file.fd, st);
    if (status != HttpStatus::ok) return status;
  }
  if (!S_ISREG(st.st_mode)) return HttpStatus::forbidden;  // FIFO, socket, device, dir
  file.size = st.st_size;
  file.mtime = st.st_mtim;
  return HttpStatus::ok;
}

}  // namespace

HttpStatus resolve_target(std::string_view target, std::string& relative) {
  relative.clear();
  target = target.substr(0, target.find_first_of("?#"));  // RFC 3986 §3.4, §3.5
  if (target.empty() || target[0] != '/') return HttpStatus::bad_request;
  bool is_dir = true;
  std::size_t pos = 1;
  while (pos <= target.size()) {
    std::size_t end = target.find('/', pos);
    if (end == std::string_view::npos) end = target.size();
    const HttpStatus status = append_segment(target.substr(pos, end - pos), relative, is_dir);
    if (status != HttpStatus::ok) return status;
    pos = end + 1;
  }
  if (is_dir || relative.empty()) {
    if (!relative.empty()) relative.push_back('/');
    relative.append(kIndexFile);
  }
  return HttpStatus::ok;
}

bool openat2_available(int root_dir_fd) {
  const UniqueFd root(open_beneath(root_dir_fd, "."));
  return root || errno != ENOSYS;
}

void open_under_root(int root_dir_fd, OpenedFile& file) {
  file.fd.reset();
  file.size = 0;
  file.mtime = timespec{};
  file.status = open_file(root_dir_fd, file);
  if (file.status != HttpStatus::ok) file.fd.reset();  // never hand out a refused fd
}

