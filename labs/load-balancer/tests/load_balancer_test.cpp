/**
 * @file
 * The grader of lab load-balancer (labs/load-balancer/README.md): nginx, configured by the copy's
 * lb.conf.in, in front of three servers of the copy on 127.0.0.2, 127.0.0.3 and 127.0.0.4. It
 * spreads the requests over all three, and when one server is SIGKILLed or SIGSTOPped under a
 * steady stream of requests, no client sees an error: nginx routes around it.
 */
#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "http_client.h"

using harness::Millis;

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBackends = 3;
// Three hosts on one machine: on Linux the whole of 127.0.0.0/8 is loopback.
const char* const kBackendHosts[kBackends] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
const char* const kNoNginx = "nginx is not installed: `tools/prereqs.sh labs` names the package";

/** The whole content of the file at @p path; "" when it cannot be read. */
std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/** The copy's template: lb.conf.in, next to the server binary under test. */
std::string template_path() {
  const std::string server = harness::server_path();
  return server.substr(0, server.rfind('/') + 1) + "lb.conf.in";
}

/** nginx: $NGINX when set, else the first in $PATH, /usr/sbin or /sbin; "" when there is none. */
std::string nginx_binary() {
  if (const char* chosen = getenv("NGINX")) return chosen;
  std::string dirs = getenv("PATH") != nullptr ? getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin";
  std::istringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    const std::string path = dir + "/nginx";
    if (!dir.empty() && access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

/** Every @NAME@ of @p values replaced by its value, everywhere in @p text. */
std::string fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    const std::string key = "@" + name + "@";
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  }
  return text;
}

/** A port that was free on 127.0.0.1 a moment ago: nginx cannot listen on port 0 and say which
 * one it got, so the grader picks one (and tries again if another process took it meanwhile). */
std::uint16_t free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    port = ntohs(address.sin_port);
  close(fd);
  return port;
}

/** A scratch directory under /tmp, removed with everything in it on destruction. */
class ScratchDir {
 public:
  ScratchDir() {
    char path[] = "/tmp/lab-lb-XXXXXX";
    path_ = mkdtemp(path) != nullptr ? path : "";
  }
  ~ScratchDir() {
    if (path_.empty()) return;
    nftw(
        path_.c_str(),
        [](const char* path, const struct stat*, int, struct FTW*) { return remove(path); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/** Starts @p argv in a process group of its own, stdout and stderr appended to @p log; the
 * child dies with the grader (PR_SET_PDEATHSIG). Returns its pid, or -1. */
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

/** The nginx command line for the configuration lb.conf in @p dir; @p more comes first (-t). */
std::vector<std::string> nginx_command(const std::string& dir, std::vector<std::string> more) {
  std::vector<std::string> argv = {nginx_binary()};
  argv.insert(argv.end(), more.begin(), more.end());
  argv.insert(argv.end(), {"-p", dir + "/", "-c", dir + "/lb.conf", "-e", dir + "/error.log"});
  return argv;
}

/** Writes the copy's template, filled with @p values, to @p dir/lb.conf; false when there is no
 * template. */
bool write_config(const std::string& dir, const std::map<std::string, std::string>& values) {
  const std::string text = read_text(template_path());
  if (text.empty()) return false;
  std::map<std::string, std::string> all = values;
  all["DIR"] = dir;
  std::ofstream(dir + "/lb.conf") << fill(text, all);
  return true;
}

/**
 * nginx in the foreground (the template says `daemon off;`) on the configuration in a scratch
 * directory, in a process group of its own. The destructor kills the group, master and workers,
 * and reaps them: the grader leaves nothing running.
 */
class Nginx {
 public:
  /** Starts nginx on @p dir/lb.conf; ready() once it accepts on @p port, or false when it exits
   * first (a configuration it refuses, a port taken meanwhile) or does not listen in time. */
  Nginx(const std::string& dir, std::uint16_t port) : dir_(dir) {
    pid_ = spawn(nginx_command(dir, {}), dir + "/nginx.out");
    ready_ = harness::wait_until([&] {
               if (pid_ <= 0 || waitpid(pid_, nullptr, WNOHANG) != 0)
                 return true;  // gone: stop waiting
               return harness::Client(port, Millis(200)).connected();
             }) &&
             harness::Client(port, Millis(200)).connected();
  }
  ~Nginx() {
    if (pid_ <= 0) return;
    kill(-pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    // The workers, orphaned, were adopted by the grader (a subreaper): reap them too.
    harness::wait_until([&] {
      while (waitpid(-pid_, nullptr, WNOHANG) > 0) {
      }
      return kill(-pid_, 0) == -1;
    });
  }
  Nginx(const Nginx&) = delete;
  Nginx& operator=(const Nginx&) = delete;

  bool ready() const { return ready_; }
  /** What nginx said (its output, then its error log), the last 3000 characters of it. */
  std::string log() const {
    const std::string text = read_text(dir_ + "/nginx.out") + read_text(dir_ + "/error.log");
    return text.size() > 3000 ? "...\n" + text.substr(text.size() - 3000) : text;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

/** One request through nginx: which server answered it (0..2, -1: none), and how long it took. */
struct Answer {
  int backend = -1;
  int status = 0;  ///< 0: no response within the deadline
  Millis took{0};
};

/**
 * Three servers of the copy, each with a document root of its own whose who.txt names it, and
 * nginx in front of them, configured by the copy's lb.conf.in.
 */
class LoadBalancer : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(nginx_binary().empty()) << kNoNginx;
    ASSERT_FALSE(read_text(template_path()).empty()) << "no template " << template_path();
    std::map<std::string, std::string> values;
    for (int i = 0; i < kBackends; ++i) {
      roots_[i].write("who.txt", std::string(kBackendHosts[i]) + "\n");
      harness::ServerConfig config;
      config.args = {"--host", kBackendHosts[i], "--root", roots_[i].root(), "--workers", "2"};
      servers_[i] = std::make_unique<harness::ServerProcess>(config);
      ASSERT_TRUE(servers_[i]->ready()) << servers_[i]->stderr_text();
      values["BACKEND" + std::to_string(i + 1)] =
          std::string(kBackendHosts[i]) + ":" + std::to_string(servers_[i]->port());
    }
    // A port taken between free_port() and nginx's bind(): try again with another one.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      values["LISTEN"] = "127.0.0.1:" + std::to_string(port_);
      ASSERT_TRUE(write_config(dir_.path(), values));
      nginx_ = std::make_unique<Nginx>(dir_.path(), port_);
      if (nginx_->ready() || nginx_->log().find("Address already in use") == std::string::npos)
        break;
    }
    ASSERT_TRUE(nginx_->ready()) << "nginx did not start:\n" << nginx_->log();
  }

  /** GET /who.txt through nginx on a new connection, waiting at most @p deadline. */
  Answer ask(Millis deadline = Millis(3000)) const {
    const auto start = Clock::now();
    Answer answer;
    harness::Client client(port_, deadline);
    if (client.send_all(harness::get_request("/who.txt", true), deadline)) {
      const auto response = harness::read_response(client, false, deadline);
      if (response) {
        answer.status = response->status;
        for (int i = 0; i < kBackends; ++i)
          if (response->status == 200 && response->body == std::string(kBackendHosts[i]) + "\n")
            answer.backend = i;
      }
    }
    answer.took = std::chrono::duration_cast<Millis>(Clock::now() - start);
    return answer;
  }

  /** Kills (SIGKILL) or freezes (SIGSTOP) server @p i: its parent and workers, the whole group. */
  void signal_backend(int i, int sig) const { kill(-servers_[i]->pid(), sig); }

  harness::DocRoot roots_[kBackends];
  std::unique_ptr<harness::ServerProcess> servers_[kBackends];
  ScratchDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Nginx> nginx_;
};

/** "request 12: status 502 after 3 ms" for a failure report. */
std::string describe(int n, const Answer& answer) {
  const std::string status = answer.status != 0 ? "status " + std::to_string(answer.status)
                                                : "no response (closed, or too late)";
  return "request " + std::to_string(n) + ": " + status + " after " +
         std::to_string(answer.took.count()) + " ms\n";
}

/** The failures among a test's answers: how many, and the first five described. */
struct Failures {
  int count = 0;
  std::string first;
  /** Counts answer @p n if it is a failure (no server's who.txt in a 200). */
  void check(int n, const Answer& answer) {
    if (answer.backend >= 0) return;
    if (++count <= 5) first += describe(n, answer);
  }
};

}  // namespace

// The unit: the copy's lb.conf.in, filled in, is a configuration nginx accepts (`nginx -t`).
TEST(LoadBalancerConfig, NginxAcceptsTheFilledTemplate) {
  ASSERT_FALSE(nginx_binary().empty()) << kNoNginx;
  ScratchDir dir;
  ASSERT_TRUE(write_config(dir.path(), {{"LISTEN", "127.0.0.1:8080"},
                                        {"BACKEND1", "127.0.0.2:8081"},
                                        {"BACKEND2", "127.0.0.3:8082"},
                                        {"BACKEND3", "127.0.0.4:8083"}}))
      << "no template " << template_path();
  const pid_t pid = spawn(nginx_command(dir.path(), {"-t", "-q"}), dir.path() + "/nginx.out");
  int status = -1;
  ASSERT_TRUE(harness::wait_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << read_text(dir.path() + "/nginx.out") << read_text(dir.path() + "/error.log");
}

// Round robin over the three: 60 requests, every one answered, each server a fair share.
TEST_F(LoadBalancer, SpreadsTheRequestsOverAllThreeServers) {
  int served[kBackends] = {};
  Failures failures;
  for (int n = 0; n < 60; ++n) {
    const Answer answer = ask();
    failures.check(n, answer);
    if (answer.backend >= 0) ++served[answer.backend];
  }
  EXPECT_EQ(failures.count, 0) << failures.first << nginx_->log();
  for (int i = 0; i < kBackends; ++i)
    EXPECT_GE(served[i], 12) << kBackendHosts[i] << " served " << served[i] << " of 60";
}

// A server dies (SIGKILL, parent and workers) under a steady stream of requests from two
// clients: not one request fails (nginx tries the next server, the client never knows), and the
// two survivors share the traffic from then on.
TEST_F(LoadBalancer, NoRequestFailsWhenAServerIsKilled) {
  struct Record {
    bool after_kill;
    Answer answer;
  };
  std::atomic<bool> killed{false}, stop{false};
  std::atomic<int> done{0}, done_after{0};
  std::vector<Record> records[2];
  auto client = [&](std::vector<Record>& mine) {
    for (int n = 0; n < 5000 && !stop; ++n) {
      const bool after = killed;
      mine.push_back({after, ask()});
      ++(after ? done_after : done);
    }
  };
  std::thread first(client, std::ref(records[0])), second(client, std::ref(records[1]));
  const bool warmed = harness::wait_until([&] { return done >= 150; }, Millis(10000));
  signal_backend(0, SIGKILL);
  killed = true;
  const bool enough = harness::wait_until([&] { return done_after >= 300; }, Millis(15000));
  stop = true;
  first.join();
  second.join();
  ASSERT_TRUE(warmed && enough) << "too few requests: " << done << " before the kill, "
                                << done_after << " after";

  Failures failures;
  int served_after[kBackends] = {};
  for (const auto& mine : records)
    for (std::size_t n = 0; n < mine.size(); ++n) {
      failures.check(static_cast<int>(n), mine[n].answer);
      if (mine[n].answer.backend >= 0 && mine[n].after_kill) ++served_after[mine[n].answer.backend];
    }
  EXPECT_EQ(failures.count, 0) << "of " << done + done_after << " requests; the first:\n"
                               << failures.first << nginx_->log();
  EXPECT_EQ(served_after[0], 0) << "the dead server answered?";
  for (int i = 1; i < kBackends; ++i)
    EXPECT_GE(served_after[i], done_after / 5)
        << kBackendHosts[i] << " served " << served_after[i] << " of the " << done_after
        << " requests after the kill";
}

// A frozen server (SIGSTOP) still completes TCP handshakes (the kernel does that) but never
// answers: only a timeout of nginx's can tell. Each request is answered within 3 s, and once
// nginx has seen the server fail it stops sending it requests: at most 2 requests of 20 are slow
// (one per nginx worker, if they do not share what they know in a zone).
TEST_F(LoadBalancer, AFrozenServerCostsAtMostTwoSlowRequests) {
  signal_backend(0, SIGSTOP);
  struct Thaw {  // runs before ~ServerProcess: the server is never left stopped
    pid_t group;
    ~Thaw() { kill(-group, SIGCONT); }
  } thaw{servers_[0]->pid()};
  int slow = 0;
  for (int n = 0; n < 20; ++n) {
    const Answer answer = ask(Millis(4000));
    ASSERT_GE(answer.backend, 1) << describe(n, answer) << "nginx waited for the frozen server\n"
                                 << nginx_->log();
    EXPECT_LT(answer.took, Millis(3000)) << describe(n, answer);
    if (answer.took > Millis(500)) ++slow;
  }
  EXPECT_LE(slow, 2) << slow << " of 20 requests waited for the frozen server\n" << nginx_->log();
}
