/**
 * @file respawn_test.cpp
 * The grader of lab respawn (labs/respawn/README.md): a worker that dies is replaced in its slot
 * (same number, new pid, new channel), a crash loop backs off without spinning the parent, and
 * the stop paths respawn nothing. Starts the student's server and kills its workers with
 * SIGKILL, as an operator or the OOM killer would; the student adds no test hook.
 */
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace {

using harness::Client;
using harness::Millis;
using harness::ServerProcess;
using harness::with_workers;
using Clock = std::chrono::steady_clock;

Millis since(Clock::time_point start) {
  return std::chrono::duration_cast<Millis>(Clock::now() - start);
}

/** Waits until worker @p id has started @p n times; returns the pid of the n-th, or -1. */
pid_t wait_for_incarnation(const ServerProcess& server, int id, std::size_t n,
                           Millis deadline = harness::kDeadline) {
  std::vector<pid_t> pids;
  harness::wait_until(
      [&] {
        pids = harness::started_pids(server, id);
        return pids.size() >= n;
      },
      deadline);
  return pids.size() >= n ? pids[n - 1] : -1;
}

/** SIGKILLs @p pid if it is a worker of @p server (a process of its group, not the parent). */
bool kill_worker(const ServerProcess& server, pid_t pid) {
  return pid > 0 && pid != server.pid() && getpgid(pid) == server.pid() && kill(pid, SIGKILL) == 0;
}

/** The parent's line when it forks a new worker @p id, of pid @p pid (README: the log lines). */
std::string respawned_line(int id, pid_t pid) {
  return "worker " + std::to_string(id) + " (pid " + std::to_string(pid) + ") respawned";
}

/** The parent's line when worker @p id has failed at start-up @p failures times in a row. */
std::string back_off_line(int id, int failures, long delay_ms) {
  return "worker " + std::to_string(id) + " failed at start-up, " + std::to_string(failures) +
         " in a row: respawning it in " + std::to_string(delay_ms) + " ms";
}

/** The banner of worker @p id of pid @p pid (chapter 2's echo server). */
std::string banner(int id, pid_t pid) {
  return "hello from worker " + std::to_string(id) + " pid " + std::to_string(pid);
}

/**
 * Kills worker @p id's newest incarnation as soon as it has started, @p kills times in a row (it
 * dies young, a failure at start-up each time), without waiting for the last one's successor.
 * False when a worker was not respawned within 3 s.
 */
bool crash_loop(const ServerProcess& server, int id, int kills) {
  for (int k = 1; k <= kills; ++k)
    if (!kill_worker(server, wait_for_incarnation(server, id, k, Millis(3000)))) return false;
  return true;
}

/**
 * SIGKILLs @p victim, worker @p id's incarnation @p n - 1, and waits until the slot has started
 * its @p n-th; returns that pid, or -1 when the kill failed or no successor came in time.
 */
pid_t kill_and_wait_for_successor(const ServerProcess& server, int id, pid_t victim, std::size_t n,
                                  Millis deadline = harness::kDeadline) {
  if (!kill_worker(server, victim)) return -1;
  return wait_for_incarnation(server, id, n, deadline);
}

// The slot keeps its number; the worker in it is a new process with a new channel, and it serves:
// chapter 2 hands every connection to the first available worker, worker 0.
TEST(Respawn, AKilledWorkerIsReplacedInItsSlotAndServes) {
  ServerProcess server(with_workers(3));
  std::vector<pid_t> workers;
  ASSERT_TRUE(harness::pool_started(server, 3, &workers));
  const pid_t old0 = wait_for_incarnation(server, 0, 1);
  const pid_t new0 = kill_and_wait_for_successor(server, 0, old0, 2);
  ASSERT_GT(new0, 0) << "worker 0 was not respawned\n" << server.stderr_text();
  EXPECT_NE(new0, old0);
  EXPECT_TRUE(server.wait_for_stderr(respawned_line(0, new0))) << server.stderr_text();
  EXPECT_TRUE(harness::wait_until([&] { return !harness::pid_exists(old0); }))
      << "the dead worker was not reaped";
  // Workers 1 and 2 were left alone, and the parent has three children again.
  std::replace(workers.begin(), workers.end(), old0, new0);
  std::sort(workers.begin(), workers.end());
  EXPECT_TRUE(harness::wait_until([&] {
    std::vector<pid_t> children = harness::children_of(server.pid());
    std::sort(children.begin(), children.end());
    return children == workers;
  })) << server.stderr_text();

  // The parent hears the new worker's answers: a connection now, and one after the answer
  // deadline (200 ms) that a deaf parent would have declared it silent by, both land on it.
  for (int i = 0; i < 2; ++i) {
    Client client(server.port());
    EXPECT_EQ(client.read_line(), banner(0, new0)) << "connection " << i;
    EXPECT_TRUE(harness::echo_round_trip(client, "ping\n")) << "connection " << i;
    if (i == 0) {
      EXPECT_FALSE(server.wait_for_stderr("has not answered", 1, Millis(500)))
          << server.stderr_text();
    }
  }
}

// The usual end of a hung worker: someone kills it. The parent had found it silent and skipped
// it; its successor starts afresh and is handed connections at once, as worker 0 is in chapter 2.
TEST(Respawn, AHungWorkerThatIsKilledIsReplacedByOneThatServes) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(harness::pool_started(server, 2));
  const pid_t hung = wait_for_incarnation(server, 0, 1);
  const pid_t worker1 = wait_for_incarnation(server, 1, 1);
  ASSERT_EQ(kill(hung, SIGSTOP), 0);
  ASSERT_TRUE(harness::wait_until([&] { return harness::process_state(hung) == 'T'; }));
  {
    Client client(server.port());  // passed on to worker 1 after the answer deadline
    EXPECT_EQ(client.read_line(Millis(2000)), banner(1, worker1)) << server.stderr_text();
  }
  ASSERT_TRUE(
      server.wait_for_stderr("worker 0 (pid " + std::to_string(hung) + ") has not answered"))
      << server.stderr_text();

  const pid_t fresh = kill_and_wait_for_successor(server, 0, hung, 2);
  ASSERT_GT(fresh, 0) << "worker 0 was not respawned\n" << server.stderr_text();
  for (int i = 0; i < 2; ++i) {
    Client client(server.port());
    EXPECT_EQ(client.read_line(Millis(2000)), banner(0, fresh)) << "connection " << i << "\n"
                                                                << server.stderr_text();
  }
}

// With every worker dead the parent does not give up (chapter 2's does): it respawns each in its
// own slot. Each new worker is wired to the parent: freeze worker 0, then worker 1, and the next
// connection goes, after the chapter's answer deadline, to the next slot.
TEST(Respawn, EveryWorkerKilledAtOnceIsReplacedAndEverySlotServes) {
  ServerProcess server(with_workers(3));
  std::vector<pid_t> old;
  ASSERT_TRUE(harness::pool_started(server, 3, &old));
  for (pid_t pid : old) ASSERT_TRUE(kill_worker(server, pid));

  std::vector<pid_t> fresh;
  for (int id = 0; id < 3; ++id) {
    fresh.push_back(wait_for_incarnation(server, id, 2));
    ASSERT_GT(fresh.back(), 0) << "worker " << id << " was not respawned\n" << server.stderr_text();
    EXPECT_EQ(std::count(old.begin(), old.end(), fresh.back()), 0);
  }
  EXPECT_FALSE(server.wait_exit(Millis(0)).has_value()) << server.stderr_text();
  EXPECT_EQ(server.stderr_text().find("all workers are gone"), std::string::npos);
  EXPECT_TRUE(harness::wait_until([&] {
    return std::none_of(old.begin(), old.end(), harness::pid_exists);
  })) << "a dead worker was not reaped";

  std::vector<std::unique_ptr<harness::FrozenProcess>> frozen;
  for (int id = 0; id < 3; ++id) {
    Client client(server.port());
    EXPECT_EQ(client.read_line(Millis(2000)), banner(id, fresh[id])) << server.stderr_text();
    if (id == 2) break;
    frozen.push_back(
        std::make_unique<harness::FrozenProcess>(fresh[id], harness::FrozenProcess::How::sigstop));
    ASSERT_TRUE(frozen.back()->frozen()) << frozen.back()->error();
  }
}

/** What each open fd of @p pid refers to: "socket:[123]", "pipe:[456]", "/dev/null", … */
std::multiset<std::string> fd_targets(pid_t pid) {
  std::multiset<std::string> targets;
  for (int fd : harness::open_fds(pid)) {
    const std::string link = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
    char target[256];
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0) targets.emplace(target, n);
  }
  return targets;
}

/** The sockets among fd_targets(@p pid). */
std::set<std::string> sockets_of(pid_t pid) {
  std::set<std::string> sockets;
  for (const std::string& target : fd_targets(pid))
    if (target.rfind("socket:", 0) == 0) sockets.insert(target);
  return sockets;
}

/** "a b c": the targets, for a failure message. */
std::string listed(const std::multiset<std::string>& targets) {
  std::string text;
  for (const std::string& target : targets) text += target + " ";
  return text;
}

/** " PID (state S)" for each of @p pids that still exists, for a failure message. */
std::string still_there(const std::vector<pid_t>& pids) {
  std::string text;
  for (pid_t pid : pids)
    if (harness::pid_exists(pid))
      text += " " + std::to_string(pid) + " (state " + harness::process_state(pid) + ")";
  return text;
}

// The new worker is set up as the first ones were: the listening socket and its own end of its
// channel, nothing of the parent's (its epoll set, its signal pipe, its ends of the channels).
// Worker 1 is the middle slot: when it is forked again, there are channels on both sides of it.
// And like the first ones, it exits once the parent is gone, even by SIGKILL.
TEST(Respawn, ARespawnedWorkerHoldsWhatTheFirstOnesHeldAndExitsWithTheParent) {
  ServerProcess server(with_workers(3));
  ASSERT_TRUE(harness::pool_started(server, 3));
  const pid_t worker0 = wait_for_incarnation(server, 0, 1);
  const pid_t worker2 = wait_for_incarnation(server, 2, 1);
  const pid_t old1 = wait_for_incarnation(server, 1, 1);
  const int parent_fds = harness::open_fd_count(server.pid());
  const pid_t new1 = kill_and_wait_for_successor(server, 1, old1, 2);
  ASSERT_GT(new1, 0) << "worker 1 was not respawned\n" << server.stderr_text();

  // A worker logs "started" once its loop is set up: its fds are what it will keep.
  EXPECT_EQ(fd_targets(new1).size(), fd_targets(worker0).size())
      << "respawned worker 1: " << listed(fd_targets(new1))
      << "\nworker 0: " << listed(fd_targets(worker0));
  const std::set<std::string> mine = sockets_of(new1);
  std::set<std::string> shared;  // held by all three workers: the listening socket alone
  for (const std::string& socket : sockets_of(worker0))
    if (mine.count(socket) && sockets_of(worker2).count(socket)) shared.insert(socket);
  EXPECT_EQ(mine.size(), 2u) << "the listener and its channel end, and no other socket";
  EXPECT_EQ(shared.size(), 1u) << "the listener is not shared, or a channel is";
  EXPECT_TRUE(harness::wait_until([&] {
    return harness::open_fd_count(server.pid()) == parent_fds;
  })) << "the parent had "
      << parent_fds << " fds, now " << harness::open_fd_count(server.pid());

  server.signal(SIGKILL);
  server.wait_exit(Millis(1000));
  // The orphans are re-parented to the test runner (a subreaper), which reaps them.
  const std::vector<pid_t> workers = {worker0, new1, worker2};
  EXPECT_TRUE(harness::wait_until(
      [&] {
        harness::reap_adopted_children();
        return std::none_of(workers.begin(), workers.end(), harness::pid_exists);
      },
      Millis(3000)))
      << "a worker outlived its parent by more than 3 s:" << still_there(workers) << "\n"
      << server.stderr_text();
}

// A worker that keeps dying at start-up is respawned later and later (100, 200, 400, 800 ms).
// Meanwhile the parent sleeps in epoll_wait: it burns no CPU, and still hands out connections.
TEST(Respawn, ACrashLoopBacksOffWithoutSpinningWhileTheOtherWorkerServes) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(harness::pool_started(server, 2));
  const double cpu_before = harness::cpu_seconds(server.pid());
  const auto loop_start = Clock::now();
  const long delays_ms[] = {100, 200, 400, 800};
  for (int k = 0; k < 4; ++k) {
    const pid_t victim = wait_for_incarnation(server, 0, k + 1);
    const auto killed_at = Clock::now();
    ASSERT_TRUE(kill_worker(server, victim)) << server.stderr_text();
    ASSERT_TRUE(server.wait_for_stderr(back_off_line(0, k + 1, delays_ms[k])))
        << server.stderr_text();
    if (k == 3) {  // 800 ms to go before worker 0 is forked again: does the parent serve?
      const auto start = Clock::now();
      EXPECT_EQ(harness::worker_of_new_connection(server.port()), 1);
      EXPECT_LT(since(start), Millis(400)) << "a connection waited for the back-off";
    }
    ASSERT_GT(wait_for_incarnation(server, 0, k + 2, Millis(3000)), 0)
        << "not respawned within 3 s\n"
        << server.stderr_text();
    const long took = since(killed_at).count();
    EXPECT_GE(took, delays_ms[k] * 9 / 10) << "respawn " << k + 1 << " came too soon";
    EXPECT_LT(took, delays_ms[k] + 600) << "respawn " << k + 1 << " came too late";
  }
  const double cpu = harness::cpu_seconds(server.pid()) - cpu_before;
  EXPECT_LT(cpu, 0.1) << "the parent used " << cpu << " s of CPU in " << since(loop_start).count()
                      << " ms of crash loop";
}

// A stop cancels a respawn that is waiting: SIGTERM during an 800 ms back-off ends the server at
// once, and the empty slot stays empty.
TEST(Respawn, SigtermDuringABackOffStopsAtOnceAndRespawnsNothing) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(harness::pool_started(server, 2));
  ASSERT_TRUE(crash_loop(server, 0, 4)) << server.stderr_text();
  ASSERT_TRUE(server.wait_for_stderr(back_off_line(0, 4, 800))) << server.stderr_text();

  const auto start = Clock::now();
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(Millis(2000)), 0) << server.stderr_text();
  EXPECT_LT(since(start), Millis(600)) << "the stop waited for the back-off";
  EXPECT_EQ(harness::started_pids(server, 0).size(), 4u)
      << "worker 0 was respawned during the stop\n"
      << server.stderr_text();
  EXPECT_TRUE(harness::wait_until([&] { return kill(-server.pid(), 0) == -1; }))
      << "a process of the server outlived it";
}

// The back-off is for workers that cannot start: one that dies within 1 s of its fork failed at
// start-up (here, one that lived 0.5 s). One that lived longer (1.2 s) was fine until it died: it
// is replaced at once, and its slot counts failures from zero again.
TEST(Respawn, AWorkerThatLivedOneSecondIsReplacedAtOnceAndResetsTheBackOff) {
  ServerProcess server(with_workers(2));
  ASSERT_TRUE(harness::pool_started(server, 2));
  ASSERT_TRUE(crash_loop(server, 0, 2)) << server.stderr_text();
  // The condition in the two sleeps is the worker's age itself: there is nothing to poll for.
  const pid_t short_lived = wait_for_incarnation(server, 0, 3, Millis(3000));
  std::this_thread::sleep_for(Millis(500));
  ASSERT_TRUE(kill_worker(server, short_lived)) << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr(back_off_line(0, 3, 400)))
      << "a worker that died 0.5 s after its fork failed at start-up\n"
      << server.stderr_text();

  const pid_t survivor = wait_for_incarnation(server, 0, 4, Millis(3000));
  ASSERT_GT(survivor, 0) << server.stderr_text();
  std::this_thread::sleep_for(Millis(1200));
  const auto killed_at = Clock::now();
  const pid_t successor = kill_and_wait_for_successor(server, 0, survivor, 5, Millis(3000));
  ASSERT_GT(successor, 0) << server.stderr_text();
  EXPECT_LT(since(killed_at), Millis(400)) << "a worker that lived 1.2 s waited for the back-off\n"
                                           << server.stderr_text();
  // Counted afresh: the next death at start-up is the first in a row.
  ASSERT_TRUE(kill_worker(server, successor));
  EXPECT_TRUE(server.wait_for_stderr(back_off_line(0, 1, 100), 2)) << server.stderr_text();
  EXPECT_GT(wait_for_incarnation(server, 0, 6, Millis(3000)), 0) << server.stderr_text();
}

// Every worker exits on a stop, and the parent reaps each exit like any death: none may be
// respawned. The workers are over 1 s old, so a respawn would not even wait. Ctrl-C (SIGINT to
// the whole group) makes the workers' deaths race the parent's own SIGINT.
TEST(Respawn, NoStopPathRespawnsAWorker) {
  struct Case {
    const char* name;
    int sig;
    bool to_group;
  };
  const Case cases[] = {
      {"SIGTERM", SIGTERM, false}, {"SIGQUIT", SIGQUIT, false}, {"Ctrl-C", SIGINT, true}};
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    servers.push_back(std::make_unique<ServerProcess>(with_workers(3)));
    ASSERT_TRUE(harness::pool_started(*servers.back(), 3));
  }
  std::this_thread::sleep_for(Millis(1100));  // the workers' age: nothing to poll for

  for (std::size_t i = 0; i < std::size(cases); ++i) {
    ServerProcess& server = *servers[i];
    Client client(server.port());
    EXPECT_TRUE(harness::first_exchange(client)) << cases[i].name;
    kill(cases[i].to_group ? -server.pid() : server.pid(), cases[i].sig);
    EXPECT_EQ(server.wait_exit(Millis(2000)), 0) << cases[i].name << "\n" << server.stderr_text();
    EXPECT_TRUE(server.wait_for_stderr("] started", 3, Millis(0)));
    EXPECT_FALSE(server.wait_for_stderr("] started", 4, Millis(0)))
        << cases[i].name << ": a worker was respawned\n"
        << server.stderr_text();
    for (const char* line : {"respawned", "respawning it in"})
      EXPECT_EQ(server.stderr_text().find(line), std::string::npos) << cases[i].name << "\n"
                                                                    << server.stderr_text();
    EXPECT_TRUE(harness::wait_until([&] { return kill(-server.pid(), 0) == -1; }))
        << cases[i].name << ": a process of the server outlived it";
  }
}

/** Sets an environment variable while it lives: the servers started meanwhile inherit it. */
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// fork() fails when the system is out of processes or memory (a preloaded library makes every
// fork after the first fail). At start-up that is fatal, as in chapter 2; for a respawn it is a
// failure at start-up like any other: logged, and tried again after the back-off. Never a spin,
// never an exit; and a stop with no worker alive is still a clean stop.
TEST(Respawn, AFailedForkIsLoggedAndRetriedAfterTheBackOff) {
  // Under SANITIZE=1, ASan insists on being the first library loaded: tell it not to.
  const char* asan_options = getenv("ASAN_OPTIONS");
  const ScopedEnv asan("ASAN_OPTIONS",
                       (asan_options != nullptr ? std::string(asan_options) + ":" : "") +
                           "verify_asan_link_order=0");
  const ScopedEnv preload("LD_PRELOAD", FAIL_FORK_LIBRARY);
  const ScopedEnv forks("FAIL_FORK_AFTER", "1");
  ServerProcess server(with_workers(1));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const pid_t worker = wait_for_incarnation(server, 0, 1);
  const double cpu_before = harness::cpu_seconds(server.pid());
  const auto killed_at = Clock::now();
  ASSERT_TRUE(kill_worker(server, worker)) << server.stderr_text();

  // Tried after 100, 200 and 400 ms; each failure doubles the next wait.
  const std::string failed = "respawn worker 0: fork: Resource temporarily unavailable";
  EXPECT_TRUE(server.wait_for_stderr(failed, 3, Millis(3000))) << server.stderr_text();
  EXPECT_TRUE(server.wait_for_stderr(back_off_line(0, 4, 800))) << server.stderr_text();
  EXPECT_GE(since(killed_at), Millis(630)) << server.stderr_text();
  EXPECT_FALSE(server.wait_for_stderr(failed, 4, Millis(0))) << "retried too soon";
  const double cpu = harness::cpu_seconds(server.pid()) - cpu_before;
  EXPECT_LT(cpu, 0.1) << "the parent used " << cpu << " s of CPU";
  EXPECT_FALSE(server.wait_exit(Millis(0)).has_value()) << server.stderr_text();
  EXPECT_TRUE(harness::children_of(server.pid()).empty());

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_exit(Millis(1000)), 0) << server.stderr_text();
}

// A client that connects while the only worker is dead waits in the backlog: the parent saw its
// one edge with nobody to wake. The respawned worker must be told, or the client waits for ever.
TEST(Respawn, AConnectionThatCameWhileNoWorkerLivedIsServedByTheNextOne) {
  ServerProcess server(with_workers(1));
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  ASSERT_TRUE(crash_loop(server, 0, 3)) << server.stderr_text();
  ASSERT_TRUE(server.wait_for_stderr(back_off_line(0, 3, 400))) << server.stderr_text();
  Client client(server.port());
  ASSERT_TRUE(client.connected());
  ASSERT_EQ(harness::started_pids(server, 0).size(), 3u) << "the client came too late to test this";

  const pid_t next = wait_for_incarnation(server, 0, 4, Millis(3000));
  ASSERT_GT(next, 0) << server.stderr_text();
  EXPECT_EQ(client.read_line(Millis(2000)), banner(0, next)) << server.stderr_text();
  EXPECT_TRUE(harness::echo_round_trip(client, "ping\n"));
}

}  // namespace
