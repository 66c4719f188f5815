"""The quality gate's second-person rule on the shared sets: both error rates, old and new rule.

    .venv/bin/python -m bench face_quality [--faces DIR]

Single-person photos (person*/) refused as multiple_faces are false refusals; multi-person scenes
(_scenes/) not refused are missed second persons. The "size only" rule is the one before
issue 12 (every detection at least 0.35 of the main face's size counted).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from firmware_app.face.images import load_image
from firmware_app.face.quality import LIVE_LIMITS, count_people
from firmware_app.face.verifier import PadSettings, build_verifier

ROOT = Path(__file__).resolve().parents[1]
RULES = {"size only (before)": replace(LIVE_LIMITS, second_face_min_score=0.0, second_face_eye_to_width=(0.0, 99.0),
                                      second_face_max_outside=1.0),
         "confident, shaped, in view (now)": LIVE_LIMITS}


def detections(verifier, root: Path) -> list[tuple[str, bool, list, tuple[int, int]]]:
    found = []
    for path in sorted(root.glob("*/*.jpg")):
        image = load_image(path)
        scene = path.parent.name == "_scenes"
        found.append((f"{path.parent.name}/{path.name}", scene, verifier.detector.detect(image),
                      (image.shape[1], image.shape[0])))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench face_quality")
    parser.add_argument("--faces", type=Path, default=ROOT.parent / "shared" / "data" / "faces")
    args = parser.parse_args(argv)
    if not args.faces.is_dir():
        print(f"face_quality: no photos at {args.faces}", file=sys.stderr)
        return 1
    verifier = build_verifier(ROOT / "models", threads=2, pad=PadSettings(enabled=False))
    found = detections(verifier, args.faces)
    singles = sum(1 for _, scene, _, _ in found if not scene)
    scenes = len(found) - singles
    for rule, limits in RULES.items():
        refused = [name for name, scene, faces, size in found if not scene and count_people(faces, limits, size) > 1]
        missed = [name for name, scene, faces, size in found if scene and count_people(faces, limits, size) < 2]
        print(f"{rule}: single-person photos refused as multiple_faces {len(refused)}/{singles} {refused}; "
              f"multi-person scenes not refused {len(missed)}/{scenes} {missed}")
    return 0
