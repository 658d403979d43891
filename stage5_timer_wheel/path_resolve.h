/**
 * @file path_resolve.h
 * From a request target to an open file under the document root, without ever leaving it.
 *
 * resolve_target() is pure string work; open_under_root() asks the kernel (openat2 with
 * RESOLVE_BENEATH) so that symlinks cannot leave the root either. Both run in a worker
 * process, once per request.
 */
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>
#include <string_view>

#include "http_parser.h"
#include "unique_fd.h"

/**
 * Turns a request target into a path relative to the root, written into @p relative (the
 * connection's string, reused), e.g. "index.html" or "docs/a.css", never "/..." nor a ".."
 * segment. Returns ok, 400, 403 or 404; @p relative means something only with ok. Pure; runs
 * in a worker, once per request.
 *
 * Strips "?query" and "#fragment", percent-decodes each segment (RFC 3986 §2.1; a bad %xx
 * or a NUL -> 400; an encoded '/' (%2F) -> 404, since no file name can contain '/'),
 * removes "." and ".." segments (RFC 3986 §5.2.4; climbing above the root -> 403), collapses
 * empty segments ("//"), and appends "index.html" when the path names a directory ("/",
 * "/docs/", "/docs/.").
 */
HttpStatus resolve_target(std::string_view target, std::string& relative);

/** Result of open_under_root(): when status is ok, `fd` is an open regular file. */
struct OpenedFile {
  HttpStatus status = HttpStatus::not_found;  ///< ok, 301, 400, 403, 404 or 500
  UniqueFd fd;           ///< O_RDONLY | O_CLOEXEC | O_NONBLOCK, regular file, inside the root.
  off_t size = 0;        ///< From fstat, for Content-Length.
  timespec mtime{};      ///< From fstat, for Last-Modified.
  std::string relative;  ///< The path actually opened ("docs/index.html" for "docs").
};

/**
 * True when the kernel has openat2 (Linux 5.6 and later), tried on @p root_dir_fd itself. The
 * parent checks it once at start-up: without openat2 every request would fail with a 500.
 */
bool openat2_available(int root_dir_fd);

/**
 * Opens `file.relative` under the directory `root_dir_fd` with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS), so that neither "..", an absolute path nor a symlink can reach
 * outside the root; symlinks that stay inside are followed. A directory named with its trailing
 * '/' is replaced by its "index.html" (same rules); without it, the status is 301 (the client
 * must ask for "dir/"). Status: ok; 301; 403 for an escape attempt (EXDEV, ELOOP), EACCES,
 * or anything but a regular file (FIFOs are opened O_NONBLOCK so they cannot block);
 * 404 for ENOENT, ENOTDIR, ENAMETOOLONG; 500 otherwise (e.g. EMFILE). Fills @p file, the
 * connection's, reused: `file.relative` becomes the path actually opened, and any fd it held
 * before is closed first. Runs in a worker, once per request.
 */
void open_under_root(int root_dir_fd, OpenedFile& file);
