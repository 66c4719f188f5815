"""Module counts per package (issue 11's figures): `python3 scripts/module_counts.py [ROOT]`.

ROOT defaults to the checkout; compare with an older commit via `git archive REV | tar -x -C DIR`.
"""
import statistics
import sys
from pathlib import Path

PACKAGES = ("firmware_app/bmis", "firmware_app/emrtd", "firmware_app/lane", "firmware_app/appliance", "drivers")


def _lines(path: Path) -> int:
    with path.open() as handle:
        return sum(1 for _ in handle)


def _row(name: str, files: list[Path]) -> str:
    modules = [p for p in files if p.name != "__init__.py"]
    sizes = [_lines(p) for p in modules] or [0]
    errors = sum(1 for p in files if p.name == "errors.py" or p.name.endswith("_errors.py"))
    return (f"{name:24s} modules {len(modules):4d}  lines {sum(sizes):6d}  median {statistics.median(sizes):6.1f}"
            f"  <45 {sum(1 for s in sizes if s < 45):3d}  >400 {sum(1 for s in sizes if s > 400)}  errors {errors}")


def main(root: Path) -> None:
    for package in PACKAGES:
        print(_row(package, sorted((root / package).rglob("*.py"))))
    # deploy/ is new this session; left out so the totals compare like with like
    product = [p for top in ("firmware_app", "drivers") for p in (root / top).rglob("*.py") if "deploy" not in p.parts]
    print(_row("all (without deploy/)", product))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd())
