/**
 * @file chapter2_kept_test.cpp
 * Chapter 2's own tests of the pool and its dispatch policy, run by the grader of lab respawn
 * (labs/respawn/README.md), less the three that say a dead worker stays dead: once workers are
 * respawned they no longer hold. lab.conf names test files, not tests, so this file includes the
 * chapter's two files and renames those three DISABLED_: GoogleTest lists them as disabled and
 * does not run them.
 */
#define KilledWorkerIsReapedAtOnceAndSkipped DISABLED_KilledWorkerIsReapedAtOnceAndSkipped
#define ParentExitsWhenEveryWorkerIsKilled DISABLED_ParentExitsWhenEveryWorkerIsKilled
#define WhenWorkerZeroDiesWorkerOneTakesOver DISABLED_WhenWorkerZeroDiesWorkerOneTakesOver

#include "../../../tests/stage2/first_worker_test.cpp"
#include "../../../tests/stage2/pool_test.cpp"
