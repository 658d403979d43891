# Top-level Makefile: builds, tests, runs and documents every stage present.
# Each stage directory also builds alone: `make -C stage1_signal_pipe`.

STAGES := $(sort $(wildcard stage[0-9]_*))
STAGE_NUMBERS := $(patsubst stage%,%,$(foreach s,$(STAGES),$(firstword $(subst _, ,$(s)))))
NEWEST := $(lastword $(STAGE_NUMBERS))
stage_dir = $(firstword $(wildcard stage$(1)_*))

# `make test STAGE=3` runs one suite; `SERVER=/path` tests a server of your own.
STAGE ?=
SERVER ?=
SANITIZE ?=
export SANITIZE

TEST_STAGES := $(if $(STAGE),$(STAGE),$(STAGE_NUMBERS))
TEST_DIRS := $(foreach n,$(TEST_STAGES),$(call stage_dir,$(n)))
# Build in parallel unless the caller already chose (make -jN).
JOBS := $(if $(findstring j,$(firstword $(MAKEFLAGS)))$(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 2))
RUN_STAGE := $(if $(STAGE),$(STAGE),$(NEWEST))

.PHONY: all test run docs clean diff check-stages bench fuzz prereqs build-prereqs \
	transcripts check-transcripts

all: build-prereqs
	@for s in $(STAGES); do $(MAKE) --no-print-directory $(JOBS) -C $$s || exit 1; done

build-prereqs:
	@tools/prereqs.sh build

# Everything the course needs: the compiler and the tools of the class demos (nc, curl, ...).
prereqs:
	@tools/prereqs.sh build test class

# Builds only the chapters whose suites run: a mistake left in chapter 5 does not stop chapter 1's.
test: build-prereqs
	@for s in $(TEST_DIRS); do $(MAKE) --no-print-directory $(JOBS) -C $$s || exit 1; done
	@tools/prereqs.sh test
	@$(MAKE) --no-print-directory $(JOBS) -C tests build STAGES="$(TEST_STAGES)"
	@tools/run_tests.sh "$(TEST_STAGES)" "$(SERVER)"

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
	@python3 tools/check_stages.py --self-test
	@python3 tools/check_stages.py
	@python3 tools/check_editions.py --self-test
	@python3 tools/check_editions.py

# The notes' command-and-output blocks, produced by running them (notes/transcripts/).
transcripts: all
	@tools/prereqs.sh class
	@python3 tools/transcripts.py update

check-transcripts: all
	@tools/prereqs.sh class
	@python3 tools/transcripts.py --self-test
	@python3 tools/transcripts.py check

docs:
	@tools/prereqs.sh docs
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
