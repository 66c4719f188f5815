"""Lint (ruff) and types (mypy) as part of the test suite, so `make test` and CI run them.

Their rules and scope are in pyproject.toml ([tool.ruff], [tool.mypy]). Both tools come with the dev
extra; a missing tool is a failure, not a skip, so a checkout without them cannot pass quietly."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.timeout(300)   # a cold mypy cache on a loaded 2-core machine


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    executable = BIN / tool
    assert executable.exists(), f"{executable} missing: `make setup` installs the dev extra"
    return subprocess.run([str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=280)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-fix", "--output-format", "concise", ".")   # git-ignored files skipped
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = _run("mypy")      # files and per-package strictness come from pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr
