# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
# pytest-xdist workers; tests/conftest.py keeps each file, and all pcscd users, on one worker
TEST_WORKERS ?= 2
.PHONY: setup demo test bench clean package lock

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/gatesim demo

test: setup
	.venv/bin/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup tests

bench: setup
	.venv/bin/python -m bench

clean:
	rm -rf .venv .setup-stamps

# dist/border-gate_<version>_<arch>.deb (ARCH=arm64 needs arm64 wheels: scripts/build-deb.sh).
package: setup
	@bash scripts/build-deb.sh

# requirements.lock: the runtime dependencies pinned to the versions the tests ran on.
lock: setup
	@bash scripts/lock.sh
