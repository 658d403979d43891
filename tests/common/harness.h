/**
 * @file harness.h
 * Test harness shared by every stage's suite: start the real server, talk to it over TCP,
 * inspect its processes, and always clean up.
 *
 * The binary under test is $SERVER when set (so students can test their own server), otherwise
 * the server of the stage this suite was built for (DEFAULT_SERVER, set by tests/Makefile).
 */
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

using Millis = std::chrono::milliseconds;

/** Generous deadline for anything that should happen "at once" (sanitizer builds are slow). */
constexpr Millis kDeadline{5000};

/** Polls @p condition every few milliseconds until it is true or @p deadline passes. */
bool wait_until(const std::function<bool()>& condition, Millis deadline = kDeadline);

/** Path of the server binary under test. */
std::string server_path();

/** How to start a server: extra arguments and an optional fd limit (RLIMIT_NOFILE). */
struct ServerConfig {
  std::vector<std::string> args;  ///< appended after "--port 0"
  long max_open_files = 0;        ///< 0 = inherit
  /** stderr to this fd instead of a file (a pipe or a terminal that the test reads itself). */
  int stderr_fd = -1;
};

/**
 * A running server started with "--port 0" in its own process group. The constructor waits
 * (with a deadline) for the ready line on stdout; stderr goes to a temporary file.
 * The destructor SIGKILLs the whole group and reaps it, so no process outlives a test, even when
 * an assertion fails. The server also gets PR_SET_PDEATHSIG, so it dies if the test runner dies.
 * With $HARNESS_STOP_WITH_SIGTERM set (tests/valgrind_check.sh), the destructor first sends
 * SIGTERM and waits up to 15 s for a clean exit, so that valgrind can report at exit.
 */
class ServerProcess {
 public:
  explicit ServerProcess(ServerConfig config = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ready() const { return port_ != 0; }  ///< the ready line arrived and named a port
  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  const std::string& ready_line() const { return ready_line_; }

  /** Everything written to stderr so far (not with ServerConfig::stderr_fd). */
  std::string stderr_text() const;
  /** Waits until stderr contains @p needle at least @p count times. */
  bool wait_for_stderr(std::string_view needle, int count = 1, Millis deadline = kDeadline) const;
  /** Sends @p sig to the server process (not the group). */
  void signal(int sig) const;
  /** Waits for the server to exit; returns its exit status, or nullopt on timeout or a signal
   * death. */
  std::optional<int> wait_exit(Millis deadline = kDeadline);
  /** True once the server has been reaped. */
  bool exited() const { return exited_; }
  /** How the server ended (waitpid status), valid when exited(). */
  int raw_status() const { return raw_status_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string ready_line_;
  std::string stderr_path_;
  bool exited_ = false;
  int raw_status_ = 0;
};

/**
 * Runs the server binary to completion with @p args (no --port added) and captures its output;
 * for usage errors and start-up failures. Kills it after @p deadline.
 */
struct RunResult {
  int exit_status = -1;  ///< -1 when it did not exit normally in time
  std::string out;
  std::string err;
};
RunResult run_server_to_exit(const std::vector<std::string>& args, Millis deadline = kDeadline,
                             const std::vector<std::string>& env = {}, long max_open_files = 0);

/** A TCP client with deadlines on every operation; closes its socket when destroyed. */
class Client {
 public:
  /** Connects to 127.0.0.1:@p port; check connected() afterwards. */
  explicit Client(std::uint16_t port, Millis deadline = kDeadline);
  ~Client();
  Client(Client&& other) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  /** Sends all of @p data, waiting for room as needed; false on error or timeout. */
  bool send_all(std::string_view data, Millis deadline = kDeadline);
  /** Reads until @p needle has arrived; returns everything up to and including it ("" on
   * timeout/EOF). */
  std::string read_until(std::string_view needle, Millis deadline = kDeadline);
  /** One line without its '\n' (nullopt on timeout/EOF). */
  std::optional<std::string> read_line(Millis deadline = kDeadline);
  /** Exactly @p n bytes (fewer only on timeout/EOF). */
  std::string read_exact(std::size_t n, Millis deadline = kDeadline);
  /** Everything until the peer closes; nullopt on timeout. */
  std::optional<std::string> read_to_eof(Millis deadline = kDeadline);
  /** True when the peer closes (EOF or reset) within @p deadline; data that arrives is discarded.
   */
  bool wait_closed(Millis deadline = kDeadline);
  /** Bytes received but not yet returned by a read_* call. */
  std::string& buffered() { return buffer_; }
  /** Half-closes the sending direction (the server sees EOF). */
  void shutdown_write();
  /** Closes with an RST instead of a FIN (SO_LINGER 0). */
  void reset();

 private:
  /** Reads what is available into buffer_, waiting at most until @p until; false on
   * EOF/error/timeout. */
  bool fill(std::chrono::steady_clock::time_point until);
  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

/** Process inspection through /proc. */
bool pid_exists(pid_t pid);                    ///< /proc/PID exists (a zombie counts)
char process_state(pid_t pid);                 ///< 'R', 'S', 'Z', … or 0 when gone
std::vector<pid_t> children_of(pid_t parent);  ///< live or zombie children
long rss_kib(pid_t pid);                       ///< resident set size, or -1
std::set<int> open_fds(pid_t pid);             ///< the fd numbers in /proc/PID/fd
int open_fd_count(pid_t pid);                  ///< entries in /proc/PID/fd, or -1
double cpu_seconds(pid_t pid);                 ///< user + system time so far
/** Reaps any of our own children that have exited (orphans adopted as a subreaper). */
void reap_adopted_children();

/**
 * Sends @p sig to @p pid as fast as it can, from a thread of its own, until stop() or the
 * destructor (which joins it), or until @p limit has passed. For the signal-flood tests.
 */
class SignalFlood {
 public:
  SignalFlood(pid_t pid, int sig, Millis limit = Millis(10000));
  ~SignalFlood();
  SignalFlood(const SignalFlood&) = delete;
  SignalFlood& operator=(const SignalFlood&) = delete;
  /** Ends the flood and returns how many signals were sent. */
  long stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/**
 * Freezes a process the way a student does in class: SIGSTOP, or a ptrace stop as `gdb -p`
 * makes (its parent's waitpid sees neither). thaw() or the destructor lets it run again.
 */
class FrozenProcess {
 public:
  /** How to freeze. */
  enum class How { sigstop, ptrace };
  FrozenProcess(pid_t pid, How how);
  ~FrozenProcess();
  FrozenProcess(const FrozenProcess&) = delete;
  FrozenProcess& operator=(const FrozenProcess&) = delete;
  /** True once the process is stopped; false if it could not be (see error()). */
  bool frozen() const { return frozen_; }
  /** Why freezing failed, e.g. "ptrace: Operation not permitted". */
  const std::string& error() const { return error_; }
  /** Lets the process run again (SIGCONT, or PTRACE_DETACH). */
  void thaw();

 private:
  pid_t pid_;
  How how_;
  bool frozen_ = false;
  std::string error_;
};

/**
 * Waits until the server's parent has @p n children that have each logged "] started" (stage 2
 * onwards); returns their pids, sorted, or what it found when the deadline passed.
 */
std::vector<pid_t> wait_for_workers(const ServerProcess& server, int n,
                                    Millis deadline = kDeadline);

/** "--workers N" followed by @p more: how to start a pool of @p n workers. */
ServerConfig with_workers(int n, std::vector<std::string> more = {});

/**
 * The start-up every pool test begins with, run by the test: @p server is ready and @p n workers
 * have each logged "[worker I PID] started" (wait_for_workers). Their pids, sorted, go to
 * @p workers when given. For ASSERT_TRUE: a failure says what was missing, with the stderr.
 */
testing::AssertionResult pool_started(const ServerProcess& server, int n,
                                      std::vector<pid_t>* workers = nullptr,
                                      Millis deadline = kDeadline);

/**
 * Every pid that worker @p id has started with, from its "[worker ID PID] started" lines, the
 * first first: one once the pool is up, more once a dead worker is forked again in its slot.
 */
std::vector<pid_t> started_pids(const ServerProcess& server, int id);

/** The pid of worker @p id, from its first "[worker ID PID] started" line; -1 when absent. */
pid_t worker_pid(const ServerProcess& server, int id);

/** The worker id in a banner "hello from worker I pid P" (stages 2-3); -1 for any other line. */
int banner_worker(const std::optional<std::string>& banner);

/**
 * Sends SIGUSR1 to @p pid (a worker, a pool's parent, or a stage-1 server) and waits for the new
 * stats line it prints, "[… PID] stats: …"; returns what follows "stats: ", or nullopt when no
 * new line arrives in time. The count of lines before the signal tells the new one from the old.
 */
std::optional<std::string> stats_line(const ServerProcess& server, pid_t pid,
                                      Millis deadline = kDeadline);

/**
 * Sends SIGUSR1 to worker @p pid (or to a stage-1 server), waits for the stats line it prints
 * ("[… PID] stats: open_connections=N …") and returns N; -1 when no new line arrives in time.
 */
long open_connections(const ServerProcess& server, pid_t pid, Millis deadline = kDeadline);

/** True when every worker of @p server reports open_connections=0 (one stats round, no wait). */
bool all_workers_idle(const ServerProcess& server);

/** Sends and reads @p payload back through an echo server connection (banner already read). */
bool echo_round_trip(Client& client, std::string_view payload);

/**
 * One exchange in the stage's protocol on a fresh connection: for stages 1-3 read the banner
 * and echo a few bytes; for stages 4-5 GET / and read a complete 200 response (keep-alive).
 */
bool first_exchange(Client& client);

/**
 * One more exchange on a connection that has had its first: for stages 1-3 echo a few bytes,
 * for stages 4-5 GET / and read a complete 200 response (keep-alive).
 */
bool next_exchange(Client& client, Millis deadline = kDeadline);

/**
 * Stages 1-3: sends to an echo connection (banner already read) without reading back, until the
 * server stops reading; it then holds a full buffer of echo that it cannot deliver. False if the
 * server never stopped reading.
 */
bool fill_echo_buffer(Client& client);

/** Proves the server still serves a new client: first_exchange() on a new connection. */
bool serves_a_new_client(std::uint16_t port);

/**
 * Opens a connection, completes one exchange, closes it, and returns the id of the worker that
 * served it (from the banner in stages 2-3, from X-Worker in stages 4-5); -1 when not served.
 */
int worker_of_new_connection(std::uint16_t port);

}  // namespace harness
