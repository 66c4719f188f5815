# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
# pytest-xdist workers; tests/conftest.py keeps each file, and all pcscd users, on one worker
TEST_WORKERS ?= 2
.PHONY: setup demo test fuzz bench clean package lock

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/gatesim demo

test: setup
	.venv/bin/python -m pytest -q -n $(TEST_WORKERS) tests

# The property tests with fresh random examples each round (the suite's are fixed: tests/conftest.py);
# only the files that use hypothesis, FUZZ_ROUNDS times; a failure prints the example to reproduce it.
FUZZ_ROUNDS ?= 5
FUZZ_FILES = $(shell grep -l "@given" tests/*.py)
fuzz: setup
	@for round in $$(seq $(FUZZ_ROUNDS)); do \
	  echo "fuzz round $$round of $(FUZZ_ROUNDS)"; \
	  HYPOTHESIS_PROFILE=fuzz flock "$(PCSCD_LOCK)" .venv/bin/python -m pytest -q -n $(TEST_WORKERS) $(FUZZ_FILES) || exit 1; \
	done

# Benches that start pcscd run under the lock the pcscd tests take (only one pcscd per machine):
# flock waits for a running suite instead of colliding with it. The others run without it.
PCSCD_LOCK ?= /tmp/pcscd.lock
PCSCD_BENCHES = chip_hostile_bench chip_read_bench load_bench power_cut_bench presence_probe_bench soak_bench
BENCHES = $(sort $(basename $(notdir $(wildcard bench/*_bench.py))))
BENCH_PYTHON ?= .venv/bin/python

bench: setup
	@status=0; for name in $(BENCHES); do \
	  case " $(PCSCD_BENCHES) " in \
	    *" $$name "*) flock "$(PCSCD_LOCK)" $(BENCH_PYTHON) -m bench "$$name" || status=1;; \
	    *) $(BENCH_PYTHON) -m bench "$$name" || status=1;; \
	  esac; \
	done; exit $$status

clean:
	rm -rf .venv .setup-stamps

# dist/border-gate_<version>_<arch>.deb (ARCH=arm64 needs arm64 wheels: scripts/build-deb.sh).
package: setup
	@bash scripts/build-deb.sh

# requirements.lock: the runtime dependencies pinned to the versions the tests ran on.
lock: setup
	@bash scripts/lock.sh
