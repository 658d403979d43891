/**
 * @file harness.cpp
 * Implementation of the test harness: processes, sockets and /proc, all with deadlines.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "http_client.h"

namespace harness {

using Clock = std::chrono::steady_clock;

namespace {

int remaining_ms(Clock::time_point until) {
  const auto left = std::chrono::duration_cast<Millis>(until - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int count_occurrences(const std::string& text, std::string_view needle) {
  int count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + needle.size()))
    ++count;
  return count;
}

/**
 * Forks and execs the server with its own process group; stdout to @p out_fd, stderr to @p err_fd,
 * @p env ("NAME=value") added to the environment.
 */
pid_t spawn(const std::vector<std::string>& args, int out_fd, int err_fd, long max_open_files,
            const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv_storage;
  argv_storage.push_back(server_path());
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Built before fork: the child of a multithreaded runner may only make async-signal-safe calls.
  std::vector<std::string> env_storage = env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view inherited(*entry);
    const auto same_name = [&](const std::string& added) {
      const std::size_t eq = added.find('=');
      return inherited.substr(0, eq + 1) == std::string_view(added).substr(0, eq + 1);
    };
    if (std::none_of(env.begin(), env.end(), same_name)) env_storage.emplace_back(inherited);
  }
  std::vector<char*> envp;
  for (auto& entry : env_storage) envp.push_back(entry.data());
  envp.push_back(nullptr);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == -1) return -1;
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the runner died before prctl
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    if (max_open_files > 0) {
      rlimit limit{static_cast<rlim_t>(max_open_files), static_cast<rlim_t>(max_open_files)};
      setrlimit(RLIMIT_NOFILE, &limit);
    }
    // Test runner signal dispositions must not leak into the server.
    signal(SIGPIPE, SIG_DFL);
    execve(argv[0], argv.data(), envp.data());
    dprintf(err_fd, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so the group exists before we might signal it
  return pid;
}

}  // namespace

bool wait_until(const std::function<bool()>& condition, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (true) {
    if (condition()) return true;
    if (Clock::now() >= until) return false;
    std::this_thread::sleep_for(Millis(5));
  }
}

std::string server_path() {
  const char* from_env = getenv("SERVER");
  return from_env != nullptr && *from_env != '\0' ? from_env : DEFAULT_SERVER;
}

ServerProcess::ServerProcess(ServerConfig config) {
  char path[] = "/tmp/server-stderr-XXXXXX";
  int err_fd = mkostemp(path, O_CLOEXEC);  // dup2() onto stderr clears the flag
  stderr_path_ = path;
  if (config.stderr_fd != -1 && err_fd != -1) {
    close(err_fd);
    err_fd = config.stderr_fd;
  }
  int out[2];
  if (err_fd == -1 || pipe2(out, O_CLOEXEC) == -1) return;
  std::vector<std::string> args = {"--port", "0"};
  args.insert(args.end(), config.args.begin(), config.args.end());
  pid_ = spawn(args, out[1], err_fd, config.max_open_files);
  close(out[1]);
  if (config.stderr_fd == -1) close(err_fd);

  // Read the ready line: "listening on HOST:PORT".
  const auto until = Clock::now() + kDeadline;
  std::string line;
  char c;
  while (pid_ > 0 && line.find('\n') == std::string::npos) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, remaining_ms(until)) <= 0) break;
    if (read(out[0], &c, 1) != 1) break;
    line.push_back(c);
  }
  close(out[0]);  // later stdout writes would get EPIPE; the server prints nothing else there
  ready_line_ = line;
  const std::size_t colon = line.rfind(':');
  if (line.rfind("listening on ", 0) == 0 && colon != std::string::npos)
    port_ = static_cast<std::uint16_t>(atoi(line.c_str() + colon + 1));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    // With $HARNESS_STOP_WITH_SIGTERM set (tests/valgrind_check.sh sets it), stop cleanly first,
    // so that a tool wrapping the server (valgrind) can write its report at exit. Unset: as before.
    if (!exited_ && getenv("HARNESS_STOP_WITH_SIGTERM") != nullptr) {
      kill(pid_, SIGTERM);
      wait_exit(Millis(15000));
    }
    kill(-pid_, SIGKILL);  // the whole group: parent and workers
    if (!exited_) waitpid(pid_, &raw_status_, 0);
    // Workers orphaned earlier were adopted by us (subreaper, see main.cpp): reap them too, but
    // only members of this server's group, never another test's processes.
    wait_until([&] {
      while (waitpid(-pid_, nullptr, WNOHANG) > 0) {
      }
      return kill(-pid_, 0) == -1;
    });
  }
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

std::string ServerProcess::stderr_text() const { return read_file(stderr_path_); }

bool ServerProcess::wait_for_stderr(std::string_view needle, int count, Millis deadline) const {
  return wait_until([&] { return count_occurrences(stderr_text(), needle) >= count; }, deadline);
}

void ServerProcess::signal(int sig) const {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(Millis deadline) {
  if (pid_ <= 0) return std::nullopt;
  if (!exited_) {
    wait_until(
        [&] {
          const pid_t r = waitpid(pid_, &raw_status_, WNOHANG);
          if (r == pid_) exited_ = true;
          return exited_;
        },
        deadline);
  }
  if (!exited_ || !WIFEXITED(raw_status_)) return std::nullopt;
  return WEXITSTATUS(raw_status_);
}

RunResult run_server_to_exit(const std::vector<std::string>& args, Millis deadline,
                             const std::vector<std::string>& env, long max_open_files) {
  RunResult result;
  char out_path[] = "/tmp/server-out-XXXXXX";
  char err_path[] = "/tmp/server-err-XXXXXX";
  const int out_fd = mkostemp(out_path, O_CLOEXEC);
  const int err_fd = mkostemp(err_path, O_CLOEXEC);
  const pid_t pid = spawn(args, out_fd, err_fd, max_open_files, env);
  close(out_fd);
  close(err_fd);
  int status = 0;
  const bool done =
      pid > 0 && wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }, deadline);
  if (pid > 0 && !done) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  if (done && WIFEXITED(status)) result.exit_status = WEXITSTATUS(status);
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  unlink(out_path);
  unlink(err_path);
  return result;
}

Client::Client(std::uint16_t port, Millis deadline) {
  const auto until = Clock::now() + deadline;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  while (fd_ < 0 && Clock::now() < until) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      fd_ = fd;
      break;
    }
    if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int error = 0;
      socklen_t length = sizeof error;
      if (poll(&p, 1, remaining_ms(until)) == 1 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0) {
        fd_ = fd;
        break;
      }
    }
    close(fd);
    if (errno == EADDRNOTAVAIL || errno == ETIMEDOUT) break;  // hopeless; do not spin
    std::this_thread::sleep_for(Millis(10));                  // e.g. ECONNREFUSED: retry
  }
}

Client::~Client() {
  if (fd_ >= 0) close(fd_);
}

Client::Client(Client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), eof_(other.eof_), buffer_(std::move(other.buffer_)) {}

bool Client::send_all(std::string_view data, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (!data.empty()) {
    const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n == -1 && errno != EAGAIN && errno != EINTR) return false;
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, remaining_ms(until)) <= 0) return false;
  }
  return true;
}

bool Client::fill(Clock::time_point until) {
  if (fd_ < 0 || eof_) return false;
  char chunk[65536];
  while (true) {
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      eof_ = true;
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, remaining_ms(until)) <= 0) return false;
  }
}

std::string Client::read_until(std::string_view needle, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (true) {
    const std::size_t at = buffer_.find(needle);
    if (at != std::string::npos) {
      std::string result = buffer_.substr(0, at + needle.size());
      buffer_.erase(0, at + needle.size());
      return result;
    }
    if (!fill(until)) return "";
  }
}

std::optional<std::string> Client::read_line(Millis deadline) {
  std::string line = read_until("\n", deadline);
  if (line.empty()) return std::nullopt;
  line.pop_back();
  return line;
}

std::string Client::read_exact(std::size_t n, Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (buffer_.size() < n && fill(until)) {
  }
  std::string result = buffer_.substr(0, n);
  buffer_.erase(0, result.size());
  return result;
}

std::optional<std::string> Client::read_to_eof(Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (fill(until)) {
  }
  if (!eof_) return std::nullopt;
  return std::exchange(buffer_, std::string());
}

bool Client::wait_closed(Millis deadline) {
  const auto until = Clock::now() + deadline;
  while (fill(until)) buffer_.clear();
  return eof_;
}

void Client::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

void Client::reset() {
  linger option{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &option, sizeof option);
  close(fd_);
  fd_ = -1;
}

bool pid_exists(pid_t pid) { return access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0; }

namespace {
/** Fields of /proc/PID/stat after the command name; empty when the process is gone. */
std::vector<std::string> stat_fields(pid_t pid) {
  const std::string text = read_file("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close_paren = text.rfind(')');
  std::vector<std::string> fields;
  if (close_paren == std::string::npos) return fields;
  std::istringstream rest(text.substr(close_paren + 2));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;  // fields[0] = state (field 3), fields[1] = ppid, fields[11] = utime, …
}
}  // namespace

char process_state(pid_t pid) {
  const auto fields = stat_fields(pid);
  return fields.empty() ? 0 : fields[0][0];
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = readdir(proc)) {
    const pid_t pid = atoi(entry->d_name);
    if (pid <= 0) continue;
    const auto fields = stat_fields(pid);
    if (fields.size() > 1 && atoi(fields[1].c_str()) == parent) children.push_back(pid);
  }
  closedir(proc);
  return children;
}

long rss_kib(pid_t pid) {
  std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return atol(line.c_str() + 6);
  return -1;
}

std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return fds;
  while (dirent* entry = readdir(dir))
    if (entry->d_name[0] != '.') fds.insert(atoi(entry->d_name));
  closedir(dir);
  return fds;
}

int open_fd_count(pid_t pid) {
  return pid_exists(pid) ? static_cast<int>(open_fds(pid).size()) : -1;
}

double cpu_seconds(pid_t pid) {
  const auto fields = stat_fields(pid);
  if (fields.size() < 13) return -1;
  const double ticks = atof(fields[11].c_str()) + atof(fields[12].c_str());
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void reap_adopted_children() {
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

struct SignalFlood::State {
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  std::thread thread;
};

SignalFlood::SignalFlood(pid_t pid, int sig, Millis limit) : state_(std::make_unique<State>()) {
  State* state = state_.get();
  // Through a pidfd: once the process is gone the flood stops, and never hits a process that
  // happens to get its pid later.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd == -1) return;
  state->thread = std::thread([state, pidfd, sig, limit] {
    const auto until = Clock::now() + limit;
    while (!state->stop && Clock::now() < until &&
           syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0)
      ++state->sent;
    close(pidfd);
  });
}

SignalFlood::~SignalFlood() { stop(); }

long SignalFlood::stop() {
  state_->stop = true;
  if (state_->thread.joinable()) state_->thread.join();
  return state_->sent;
}

FrozenProcess::FrozenProcess(pid_t pid, How how) : pid_(pid), how_(how) {
  if (how == How::sigstop) {
    if (kill(pid, SIGSTOP) == -1) {
      error_ = std::string("kill: ") + strerror(errno);
      return;
    }
    frozen_ = wait_until([&] { return process_state(pid) == 'T'; });
    if (!frozen_) error_ = "the process did not stop";
    return;
  }
  // What gdb -p does: attach, then stop the process. waitpid() works on a tracee that is not
  // our child; __WALL because it is not.
  if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == -1 ||
      ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) == -1) {
    error_ = std::string("ptrace: ") + strerror(errno);
    return;
  }
  int status = 0;
  frozen_ = waitpid(pid, &status, __WALL) == pid && WIFSTOPPED(status);
  if (!frozen_) error_ = "the traced process did not stop";
}

FrozenProcess::~FrozenProcess() { thaw(); }

void FrozenProcess::thaw() {
  if (!frozen_) return;
  frozen_ = false;
  if (how_ == How::sigstop)
    kill(pid_, SIGCONT);
  else
    ptrace(PTRACE_DETACH, pid_, nullptr, nullptr);
}

std::vector<pid_t> wait_for_workers(const ServerProcess& server, int n, Millis deadline) {
  std::vector<pid_t> workers;
  wait_until(
      [&] {
        workers = children_of(server.pid());
        return static_cast<int>(workers.size()) == n &&
               server.wait_for_stderr("] started", n, Millis(0));
      },
      deadline);
  std::sort(workers.begin(), workers.end());
  return workers;
}

ServerConfig with_workers(int n, std::vector<std::string> more) {
  more.insert(more.begin(), {"--workers", std::to_string(n)});
  return ServerConfig{std::move(more)};
}

testing::AssertionResult pool_started(const ServerProcess& server, int n,
                                      std::vector<pid_t>* workers, Millis deadline) {
  if (!server.ready())
    return testing::AssertionFailure() << "the server did not start\n" << server.stderr_text();
  const std::vector<pid_t> started = wait_for_workers(server, n, deadline);
  if (workers != nullptr) *workers = started;
  if (static_cast<int>(started.size()) != n)
    return testing::AssertionFailure() << started.size() << " of " << n << " workers started\n"
                                       << server.stderr_text();
  return testing::AssertionSuccess();
}

std::vector<pid_t> started_pids(const ServerProcess& server, int id) {
  const std::string text = server.stderr_text();
  const std::string prefix = "[worker " + std::to_string(id) + " ";
  std::vector<pid_t> pids;
  for (std::size_t at = text.find(prefix); at != std::string::npos;
       at = text.find(prefix, at + 1)) {
    const std::size_t pid_start = at + prefix.size();
    const std::size_t close = text.find(']', pid_start);
    if (close != std::string::npos && text.compare(close, 10, "] started\n") == 0)
      pids.push_back(atoi(text.c_str() + pid_start));
  }
  return pids;
}

pid_t worker_pid(const ServerProcess& server, int id) {
  const std::vector<pid_t> pids = started_pids(server, id);
  return pids.empty() ? -1 : pids.front();
}

int banner_worker(const std::optional<std::string>& banner) {
  const std::string prefix = "hello from worker ";
  if (!banner || banner->rfind(prefix, 0) != 0) return -1;
  return atoi(banner->c_str() + prefix.size());
}

std::optional<std::string> stats_line(const ServerProcess& server, pid_t pid, Millis deadline) {
  const std::string tag = " " + std::to_string(pid) + "] stats: ";
  const int before = count_occurrences(server.stderr_text(), tag);
  if (kill(pid, SIGUSR1) == -1 || !server.wait_for_stderr(tag, before + 1, deadline))
    return std::nullopt;
  const std::string text = server.stderr_text();
  std::size_t at = text.find(tag);
  for (int seen = 0; seen < before; ++seen) at = text.find(tag, at + tag.size());
  const std::size_t start = at + tag.size();
  return text.substr(start, text.find('\n', start) - start);
}

long open_connections(const ServerProcess& server, pid_t pid, Millis deadline) {
  const std::string key = "open_connections=";
  const auto line = stats_line(server, pid, deadline);
  if (!line || line->rfind(key, 0) != 0) return -1;
  return atol(line->c_str() + key.size());
}

bool all_workers_idle(const ServerProcess& server) {
  for (pid_t worker : children_of(server.pid()))
    if (open_connections(server, worker) != 0) return false;
  return true;
}

bool echo_round_trip(Client& client, std::string_view payload) {
  if (!client.send_all(payload)) return false;
  return client.read_exact(payload.size()) == payload;
}

bool first_exchange(Client& client) {
  if (!client.connected()) return false;
#if STAGE < 4
  const auto banner = client.read_line();
  return banner && banner->rfind("hello from ", 0) == 0 && echo_round_trip(client, "ping\n");
#else
  if (!client.send_all(get_request("/"))) return false;
  const auto response = read_response(client);
  return response && response->status == 200;
#endif
}

bool next_exchange(Client& client, Millis deadline) {
#if STAGE < 4
  const std::string payload = "ping\n";
  return client.send_all(payload, deadline) &&
         client.read_exact(payload.size(), deadline) == payload;
#else
  if (!client.send_all(get_request("/"), deadline)) return false;
  const auto response = read_response(client, false, deadline);
  return response && response->status == 200;
#endif
}

bool fill_echo_buffer(Client& client) {
  // The server stops reading only when its own buffer is full of bytes we do not read back, so
  // once a send has made no progress for 300 ms, it holds an echo it cannot deliver.
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 32; ++i)
    if (!client.send_all(chunk, Millis(300))) return true;
  return false;
}

bool serves_a_new_client(std::uint16_t port) {
  Client client(port);
  return first_exchange(client);
}

int worker_of_new_connection(std::uint16_t port) {
  Client client(port);
#if STAGE < 4
  return banner_worker(client.read_line());
#else
  if (!client.send_all(get_request("/", true))) return -1;
  const auto response = read_response(client);
  return response ? atoi(response->header("x-worker").c_str()) : -1;
#endif
}

}  // namespace harness
