"""Benchmarks: each bench/*_bench.py has main(); `python -m bench [NAME]` runs them."""
