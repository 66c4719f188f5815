# Two commands do everything on a fresh Debian 12 machine: `make demo` and `make test`.
.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/gatesim demo

test: setup
	.venv/bin/python -m pytest -q tests

bench: setup
	.venv/bin/python -m bench

clean:
	rm -rf .venv .setup-stamps
