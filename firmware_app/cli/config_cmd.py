"""`gatectl config check FILE` (show and reference: config_show_cmd.py)."""
from __future__ import annotations

import sys

from ..config import check_config_file


def register(groups) -> None:
    config = groups.add_parser("config", help="configuration tools")
    actions = config.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="validate a config file; exit 2 when invalid")
    check.add_argument("file")
    check.set_defaults(func=run_check)
    from .config_show_cmd import register_show
    register_show(actions)


def run_check(args) -> int:
    problems = check_config_file(args.file) or _threshold_problems(args.file)
    if problems:
        print(f"{args.file}: invalid configuration", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{args.file}: ok")
    return 0


def _threshold_problems(path) -> list[str]:
    """face.threshold against the calibrated one in the models manifest (relative to the working
    directory, as gate-app takes it). Without a readable manifest nothing can be compared: the
    app's own start then refuses (ModelUnavailable)."""
    from ..config import load_config
    from ..face.errors import ModelUnavailable, ThresholdBelowCalibrated
    from ..face.models import load_manifest
    from ..face.verifier import check_configured_threshold
    face = load_config(path).face
    try:
        check_configured_threshold(face.threshold, load_manifest(face.models_dir))
    except ThresholdBelowCalibrated as exc:
        return [str(exc)]
    except ModelUnavailable:
        return []
    return []
