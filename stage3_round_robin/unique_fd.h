/**
 * @file unique_fd.h
 * RAII ownership of a file descriptor, used by every process for every fd it opens.
 */
#pragma once

#include <unistd.h>

#include <utility>

/**
 * Owns one file descriptor and closes it when destroyed, like std::unique_ptr owns memory.
 * Move-only: exactly one owner closes each fd, so an fd can never be closed twice. Every process
 * uses it for every fd it owns.
 */
class UniqueFd {
 public:
  /** Owns nothing (-1). */
  UniqueFd() = default;
  /** Takes ownership of @p fd (-1 means "none"). */
  explicit UniqueFd(int fd) : fd_(fd) {}
  /** Closes the owned fd, if any. */
  ~UniqueFd() { reset(); }

  /** Takes over the fd of @p other, which becomes empty. */
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  /** Closes the fd owned now (if any), then takes over the fd of @p other. */
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  /** The descriptor, still owned by this object (-1 when empty). */
  int get() const { return fd_; }
  /** True when an fd is owned. */
  explicit operator bool() const { return fd_ >= 0; }
  /** Gives up ownership without closing and returns the fd. */
  int release() { return std::exchange(fd_, -1); }
  /** Closes the owned fd (if any) and takes ownership of @p fd. */
  void reset(int fd = -1) {
    // close() errors are ignored: Linux frees the fd even then, and a retry could close a new one.
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};
