"""pyproject.toml against the source: every third-party import of the shipped packages is a declared
dependency, and every data file they read at run time is package data (checked without a build)."""
from __future__ import annotations

import ast
import fnmatch
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("firmware_app", "drivers", "simulator")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Imported only on the hardware it drives, declared in the `pi` extra (not installable elsewhere).
OPTIONAL_ON_HARDWARE = {"picamera2", "lgpio", "RPi"}


def _requirement_name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports(packages: tuple[str, ...]) -> set[str]:
    found = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in SHIPPED}


def _undeclared(packages: tuple[str, ...], declared: set[str]) -> list[str]:
    distributions = packages_distributions()
    undeclared = []
    for module in sorted(_third_party_imports(packages) - OPTIONAL_ON_HARDWARE):
        names = {_requirement_name(d) for d in distributions.get(module, [module])}
        if not names & declared:
            undeclared.append(f"{module} (from {sorted(names)})")
    return undeclared


def test_every_imported_library_is_a_declared_dependency():
    declared = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert _undeclared(("firmware_app", "drivers"), declared) == []
    # gatesim's load charts draw with the sim extra (matplotlib), installed by setup beside the app;
    # the appliance itself must not need it.
    declared |= {_requirement_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["sim"]}
    assert _undeclared(("simulator",), declared) == []


def test_every_declared_dependency_has_a_lower_bound():
    project = PYPROJECT["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values()
                                              for r in extra]
    assert [r for r in requirements if not re.search(r">=|==|~=", r)] == []


def test_every_data_file_of_the_shipped_packages_is_package_data():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["*"]
    data_files = [path for package in SHIPPED for path in (ROOT / package).rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc", ".md") and "__pycache__" not in path.parts]
    assert len(data_files) >= 10, "schemas and kiosk files not found: wrong root?"
    assert [str(p.relative_to(ROOT)) for p in data_files
            if not any(fnmatch.fnmatch(p.name, pattern) for pattern in patterns)] == []
