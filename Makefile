# Top-level Makefile: builds, tests, runs and documents every stage present.
# Each stage directory also builds alone: `make -C stage1_signal_pipe`.

STAGES := $(sort $(wildcard stage[0-9]_*))
STAGE_NUMBERS := $(patsubst stage%,%,$(foreach s,$(STAGES),$(firstword $(subst _, ,$(s)))))
NEWEST := $(lastword $(STAGE_NUMBERS))
stage_dir = $(firstword $(wildcard stage$(1)_*))

# `make test STAGE=3` runs one suite; `SERVER=/path` tests a server of your own; `SRC=/path`
# (with STAGE) builds a copy of a stage and compiles the suite's unit tests against its sources.
STAGE ?=
SERVER ?=
SRC ?=
SANITIZE ?=
export SANITIZE

TEST_STAGES := $(if $(STAGE),$(STAGE),$(STAGE_NUMBERS))
TEST_DIRS := $(foreach n,$(TEST_STAGES),$(call stage_dir,$(n)))
# Build in parallel unless the caller already chose (make -jN).
JOBS := $(if $(findstring j,$(firstword $(MAKEFLAGS)))$(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))
RUN_STAGE := $(if $(STAGE),$(STAGE),$(NEWEST))

.PHONY: all test run docs clean diff check-stages bench fuzz prereqs build-prereqs \
	transcripts check-transcripts labs lab grade check-labs trace check-trace \
	trace-figures

all: build-prereqs
	@for s in $(STAGES); do $(MAKE) --no-print-directory $(JOBS) -C $$s || exit 1; done

build-prereqs:
	@tools/prereqs.sh build

# Everything the course needs: the compiler and the tools of the class demos (nc, curl, ...).
prereqs:
	@tools/prereqs.sh build test class labs

# Builds only the chapters whose suites run: a mistake left in chapter 5 does not stop chapter 1's.
ifeq ($(SRC),)
test: build-prereqs
	@for s in $(TEST_DIRS); do $(MAKE) --no-print-directory $(JOBS) -C $$s || exit 1; done
	@tools/prereqs.sh test
	@$(MAKE) --no-print-directory $(JOBS) -C tests build STAGES="$(TEST_STAGES)"
	@tools/run_tests.sh "$(TEST_STAGES)" "$(SERVER)"
else
SRC_BUILD := $(CURDIR)/build/tests-src/$(subst /,_,$(abspath $(SRC)))$(if $(filter 1,$(SANITIZE)),-sanitize)
test: build-prereqs
	@test -n "$(STAGE)" || { echo "make test SRC=$(SRC): say which chapter's suite, STAGE=N" >&2; exit 2; }
	@test -f "$(SRC)/Makefile" || { echo "make test: SRC=$(SRC) is not a copy of a stage (no Makefile)" >&2; exit 2; }
	@$(MAKE) --no-print-directory $(JOBS) -C $(SRC)
	@tools/prereqs.sh test
	@$(MAKE) --no-print-directory $(JOBS) -C tests build STAGES="$(STAGE)" SRC="$(abspath $(SRC))"
	@TEST_BUILD="$(SRC_BUILD)" tools/run_tests.sh "$(STAGE)" "$(SERVER)"
endif

run: build-prereqs
	@$(MAKE) --no-print-directory -C $(call stage_dir,$(RUN_STAGE))
	@echo "make run: starting $(call stage_dir,$(RUN_STAGE))/server on 127.0.0.1:8080 (Ctrl-C stops it)"
	@cd $(call stage_dir,$(RUN_STAGE)) && exec ./server --host 127.0.0.1 --port 8080

FROM ?=
TO ?=
diff:
	@tools/stage_diff.sh "$(FROM)" "$(TO)"

check-stages:
	@tools/prereqs.sh check
	@$(MAKE) --no-print-directory check-trace
	@python3 tools/check_stages.py --self-test
	@python3 tools/check_stages.py
	@python3 tools/check_editions.py --self-test
	@python3 tools/check_editions.py

# tools/trace2svg on a fixed trace, and the notes' traced figures drawn from their committed
# traces by today's renderer, with events the servers still record (CI: through check-stages).
check-trace:
	@python3 tests/trace/test_trace2svg.py
	@python3 tools/trace_figures.py check

# The lecture scenarios traced and drawn: build/trace/*.svg (and *.json for Perfetto).
trace: all
	@tools/prereqs.sh class
	@tools/trace_scenarios.sh

# The notes' traced figures (notes/figures/trace/): this run's traces, committed, and drawn.
trace-figures: trace
	@python3 tools/trace_figures.py update

# Labs (labs/): list them, make your copy of one, grade it (SOLUTION=1: the answer key).
LAB ?=
SOLUTION ?=
labs:
	@python3 tools/labs.py list

lab:
	@test -n "$(LAB)" || { echo "make lab LAB=<name>: which lab? (make labs lists them)" >&2; exit 2; }
	@python3 tools/labs.py start "$(LAB)"

grade: build-prereqs
	@test -n "$(LAB)" || { echo "make grade LAB=<name>: which lab? (make labs lists them)" >&2; exit 2; }
	@tools/prereqs.sh test labs
	@python3 tools/labs.py grade "$(LAB)" $(if $(filter 1,$(SOLUTION)),--solution)

# CI: every reference solution passes its grader; every untouched starting point fails it.
check-labs: build-prereqs
	@tools/prereqs.sh test labs
	@python3 tools/labs.py ci

# The notes' command-and-output blocks, produced by running them (notes/transcripts/).
transcripts: all
	@tools/prereqs.sh class
	@python3 tools/transcripts.py update

check-transcripts: all
	@tools/prereqs.sh class
	@python3 tools/transcripts.py --self-test
	@python3 tools/transcripts.py check
	@tools/trace_scenarios.sh >/dev/null
	@python3 tools/trace_figures.py check --fresh

docs:
	@tools/prereqs.sh docs
	@python3 tools/flatten_notes.py --self-test
	@tools/build_docs.sh

bench: all
	@tools/prereqs.sh bench
	@tests/bench/run_bench.sh

fuzz:
	@tools/prereqs.sh fuzz
	@$(MAKE) --no-print-directory -C tests fuzz

clean:
	@for s in $(STAGES); do $(MAKE) --no-print-directory -C $$s clean; done
	@$(MAKE) --no-print-directory -C tests clean
	@rm -rf build
