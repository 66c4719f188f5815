"""`gatectl face verify REFERENCE LIVE [--pad] [--json]`, `gatectl face verify --pairs FILE.csv [--json]`
and `gatectl face pad IMAGE [--json]`.

`gatectl face check` hash-checks and warms the models (exit 1 if they are unusable) and says
whether presentation attack detection (PAD) is available.
Single pair: exit 0 match, 1 no match / quality refused / unusable reference, 2 unreadable input;
with --pad also 1 when PAD suspects an attack or could not assess the live image (no face).
`face pad`: exit 0 live, 1 attack suspected or not performed (no face), 2 unreadable image or no
PAD models.
Batch: one line (JSON object with --json) per CSV row `reference,live` (paths relative to the CSV's
folder); exit 2 if any image or the CSV is unreadable, else 0.
The models folder is `--models DIR`, else the config's face.models_dir (relative to the working
directory, as gate-app takes it): never a path beside the source files, which an installed wheel lacks.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

DEFAULT_CONFIG = Path("config/default.toml")


def register(groups) -> None:
    face = groups.add_parser("face", help="face verification tools")
    actions = face.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    verify = actions.add_parser("verify", help="compare a reference portrait with a live image")
    verify.add_argument("reference", nargs="?", help="reference (chip portrait) image")
    verify.add_argument("live", nargs="?", help="live image")
    verify.add_argument("--pairs", metavar="FILE.csv", help="CSV of reference,live pairs")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    _add_models_options(verify)
    verify.add_argument("--threshold", type=float, help="override the calibrated threshold")
    verify.add_argument("--threads", type=int, default=2)
    verify.add_argument("--pad", action="store_true",
                        help="also run presentation attack detection on the live image (needs the PAD models)")
    verify.set_defaults(func=run_verify)
    pad = actions.add_parser("pad", help="presentation attack detection on one image's main face")
    pad.add_argument("image", help="image with one face (BGR photo file)")
    pad.add_argument("--json", action="store_true", help="machine-readable output")
    _add_models_options(pad)
    pad.add_argument("--threads", type=int, default=2)
    pad.set_defaults(func=run_pad)
    check = actions.add_parser("check", help="hash-check and warm up the face models; exit 1 if unusable")
    _add_models_options(check)
    check.add_argument("--threads", type=int, default=2)
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(func=run_check)


def _add_models_options(parser) -> None:
    parser.add_argument("--models", type=Path, metavar="DIR", help="models directory (manifest.json); "
                        "default: face.models_dir of --config")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, metavar="FILE",
                        help=f"config whose face.models_dir is used without --models (default {DEFAULT_CONFIG})")


def models_dir(args) -> Path:
    """--models, else the config's face.models_dir; ModelUnavailable names the folder when it is absent."""
    from ..face.errors import ModelUnavailable
    if args.models is not None:
        directory, source = args.models, "--models"
    else:
        directory, source = _configured_models_dir(args.config), f"face.models_dir in {args.config}"
    if not directory.is_dir():
        raise ModelUnavailable(f"face models folder {directory.absolute()} ({source}) does not exist; "
                               "run `make setup` or give --models DIR")
    return directory


def _configured_models_dir(config_file: Path) -> Path:
    from ..config import load_config
    from ..errors import ConfigError
    try:
        return Path(load_config(config_file).face.models_dir)
    except ConfigError as exc:
        raise UsageError(f"config {'; '.join(exc.problems)}; give --config FILE or --models DIR") from None


def run_check(args) -> int:
    from ..face.errors import FaceError
    from ..face.models import load_manifest
    from ..face.verifier import build_verifier
    try:
        directory = models_dir(args)
        verifier = build_verifier(directory, args.threads)     # PAD optional: reported below
        fmr = load_manifest(directory).threshold()[1]
    except FaceError as exc:
        report = {"ok": False, "error": type(exc).__name__, "detail": str(exc)}
    else:
        report = {"ok": True, "models": str(directory), "threshold": verifier.threshold, "threshold_fmr": fmr,
                  "pad": "available" if verifier.pad.available else
                  f"UNAVAILABLE ({_pad_skipped(verifier)})"}
    print(json.dumps(report) if args.json else
          ("face models ok: " + ", ".join(f"{k} {v}" for k, v in report.items() if k != "ok") if report["ok"]
           else f"face models unusable: {report['detail']}"))
    return EXIT_OK if report["ok"] else EXIT_FAILED


def run_verify(args) -> int:
    if bool(args.pairs) == bool(args.reference and args.live) or (args.pairs and (args.reference or args.live)):
        raise UsageError("give either REFERENCE LIVE or --pairs FILE.csv")
    from ..face.untrusted import UntrustedImageDecoder
    decoder = UntrustedImageDecoder()     # images decoded in a worker, with limits: a bomb is abandoned
    decoder.warm_up()                     # warms (OpenCV's import) while the models load
    try:
        verifier = _load_verifier(args)
        if args.pairs:
            return _verify_batch(verifier, decoder, Path(args.pairs), args.json)
        outcome = _verify_one(verifier, decoder, args.reference, args.live)
    finally:
        decoder.close()
    if "error" in outcome and outcome["error"] == "unreadable":
        raise UsageError(outcome["detail"])
    _print(outcome, args.json)
    pad_ok = not args.pad or outcome.get("pad") == "live"
    return EXIT_OK if outcome.get("match") and pad_ok else EXIT_FAILED


def run_pad(args) -> int:
    from ..face.errors import ImageUnreadable
    from ..face.images import load_image
    verifier = _load_verifier(args, pad=True)
    try:
        image = load_image(args.image)
    except ImageUnreadable as exc:
        raise UsageError(f"{args.image}: {exc}") from None
    result, inspection = verifier.assess_presentation(image)
    report = {"image": str(args.image), **result.as_dict(), "quality": inspection.quality.as_dict()}
    if args.json:
        print(json.dumps(report))
    else:
        score = "n/a" if result.score is None else f"{result.score:.3f}"
        why = f" ({result.skipped.value})" if result.skipped else ""
        print(f"{args.image}: {result.status.value}{why} (live score {score}, threshold {result.threshold})")
    return EXIT_OK if result.status.value == "live" else EXIT_FAILED


def _load_verifier(args, pad: bool | None = None):
    """PAD only when asked (--pad, `face pad`), and then required: a missing model is an error."""
    from ..face.errors import FaceError
    from ..face.verifier import PadSettings, build_verifier
    wanted = getattr(args, "pad", False) if pad is None else pad
    try:
        return build_verifier(models_dir(args), args.threads, getattr(args, "threshold", None),
                              pad=PadSettings(enabled=wanted, required=wanted))
    except FaceError as exc:
        raise UsageError(f"face models: {exc}") from None


def _read_untrusted(decoder, path) -> bytes:
    """The file's bytes, refused by size or header (ImageUnreadable / ImageRefused) before any decode."""
    from ..face.errors import ImageUnreadable
    from ..face.untrusted import check_header
    try:
        size = Path(path).stat().st_size
        if size > decoder.limits.max_bytes:     # refused before reading it into memory
            raise ImageUnreadable(f"image of {size} bytes is over {decoder.limits.max_bytes}")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageUnreadable(f"cannot read image file: {exc.strerror or exc}") from None
    check_header(data, decoder.limits)
    return data


def _pad_skipped(verifier) -> str:
    skipped = verifier.pad.assess(None, None).skipped
    return skipped.value if skipped is not None else "unknown"


def _decode_pair(decoder, paths) -> list:
    """Both files' sizes and headers first, then the decodes: a refused image is named without a
    decode of the other (whose time limit a slow machine could pass first, hiding the refusal).
    An ImageUnreadable names the file."""
    from ..face.errors import ImageUnreadable
    from ..face.untrusted import ImageKind
    files, images = [], []
    for path in paths:
        try:
            files.append((path, _read_untrusted(decoder, path)))
        except ImageUnreadable as exc:
            raise ImageUnreadable(f"{path}: {exc}") from None
    for path, data in files:
        try:
            images.append(decoder.decode(data, ImageKind.IMAGE))
        except ImageUnreadable as exc:
            raise ImageUnreadable(f"{path}: {exc}") from None
    return images


def _verify_one(verifier, decoder, reference: str | Path, live: str | Path) -> dict:
    from ..face.errors import ImageUnreadable, ReferenceUnusable
    pair = {"reference": str(reference), "live": str(live)}
    failed = {**pair, "score": None, "threshold": verifier.threshold, "match": False, "quality": None}
    try:
        images = _decode_pair(decoder, (reference, live))
    except ImageUnreadable as exc:
        return {**failed, "error": "unreadable", "detail": str(exc)}
    try:
        result = verifier.verify(*images)
    except ReferenceUnusable as exc:
        return {**failed, "error": "reference_unusable", "detail": str(exc)}
    return {**pair, **result.as_dict()}


def _read_pairs(path: Path) -> list[tuple[Path, Path]]:
    try:
        rows = [row for row in csv.reader(path.read_text().splitlines()) if row and any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read pairs file {path}: {exc}") from None
    if rows and [cell.strip().lower() for cell in rows[0]] == ["reference", "live"]:
        rows = rows[1:]
    bad = [index + 1 for index, row in enumerate(rows) if len(row) != 2]
    if bad:
        raise UsageError(f"{path}: rows {bad[:5]} do not have exactly two columns reference,live")
    return [(path.parent / row[0].strip(), path.parent / row[1].strip()) for row in rows]


def _verify_batch(verifier, decoder, path: Path, as_json: bool) -> int:
    unreadable = False
    for reference, live in _read_pairs(path):
        outcome = _verify_one(verifier, decoder, reference, live)
        unreadable |= outcome.get("error") == "unreadable"
        _print(outcome, as_json)
    return EXIT_USAGE if unreadable else EXIT_OK


def _print(outcome: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(outcome), flush=True)
        return
    if "error" in outcome:
        print(f"{outcome['reference']} vs {outcome['live']}: {outcome['error']}: {outcome['detail']}", file=sys.stderr)
        return
    issues = ", ".join(outcome["quality"]["issues"]) or "ok"
    score = "n/a" if outcome["score"] is None else f"{outcome['score']:.3f}"
    pad = outcome["pad_detail"]
    pad_score = "" if pad["score"] is None else f" {pad['score']:.3f}"
    print(f"{outcome['reference']} vs {outcome['live']}: {outcome['decision']} "
          f"(score {score}, threshold {outcome['threshold']}, quality {issues}, pad {outcome['pad']}{pad_score})")
