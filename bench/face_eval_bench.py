"""Face verification accuracy on ../shared/data/faces: every genuine and impostor pair.

Conditions: the photo itself as reference, and the reference degraded to chip-portrait quality
(240 px wide, <= 15 KB, JPEG and JPEG 2000). Prints FNMR at FMR 1% / 0.1%, EER, quality refusals;
writes bench/out/face_eval.json and bench/out/face_scores.png. `--write-manifest` records the
calibrated threshold in models/manifest.json.

    .venv/bin/python -m bench face_eval [--write-manifest]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.face_metrics import summary, threshold_at_fmr  # noqa: E402
from bench.face_plot import draw_histograms  # noqa: E402
from firmware_app.face.images import decode_image, load_image  # noqa: E402
from firmware_app.face.portrait import PortraitCodec, chip_portrait  # noqa: E402
from firmware_app.face.quality import LIVE_LIMITS, REFERENCE_LIMITS  # noqa: E402
from firmware_app.face.verifier import build_verifier  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "faces"
OUT = ROOT / "bench" / "out"
TARGET_FMR = 0.001


def dataset(root: Path) -> list[tuple[str, Path]]:
    return [(folder.name, path) for folder in sorted(root.iterdir())
            if folder.is_dir() and not folder.name.startswith("_") for path in sorted(folder.glob("*.jpg"))]


def analyse(verifier, items) -> list[dict]:
    """Per photo: identity, live embedding and quality, and the chip-quality reference embeddings."""
    records = []
    for identity, path in items:
        image = load_image(path)
        live = verifier.analyse(image, LIVE_LIMITS, embed_always=True)
        record = {"id": identity, "name": path.name, "live": live.embedding, "live_ok": live.quality.ok,
                  "live_issues": [i.value for i in live.quality.issues], "ref": {"original": live.embedding}}
        for codec in PortraitCodec:
            portrait = chip_portrait(image, live.face, codec) if live.face is not None else None
            sample = verifier.analyse(decode_image(portrait), REFERENCE_LIMITS, embed_always=True) if portrait else None
            record["ref"][f"chip_{codec.value}"] = None if sample is None else sample.embedding
        records.append(record)
    return records


def pair_scores(records: list[dict], condition: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Genuine/impostor scores; the original condition is symmetric so each pair counts once."""
    genuine, impostor, failed = [], [], 0
    for i, ref in enumerate(records):
        for j, live in enumerate(records):
            if i == j or (condition == "original" and j < i):
                continue
            if ref["ref"][condition] is None or live["live"] is None:
                failed += 1
                continue
            score = float(np.dot(ref["ref"][condition], live["live"]))
            (genuine if ref["id"] == live["id"] else impostor).append(score)
    return np.array(genuine), np.array(impostor), failed


def per_probe_separated(records: list[dict], condition: str) -> int:
    """How many probes have some impostor score at or above one of their genuine scores."""
    bad = 0
    for j, live in enumerate(records):
        scores = [(float(np.dot(r["ref"][condition], live["live"])), r["id"] == live["id"])
                  for i, r in enumerate(records) if i != j and r["ref"][condition] is not None]
        genuine = [s for s, same in scores if same]
        impostor = [s for s, same in scores if not same]
        if genuine and impostor and min(genuine) <= max(impostor):
            bad += 1
    return bad


def evaluate(records: list[dict]) -> dict:
    report = {"photos": len(records), "identities": len({r["id"] for r in records}),
              "live_quality_refused": {r["name"]: r["live_issues"] for r in records if not r["live_ok"]},
              "conditions": {}}
    for condition in records[0]["ref"]:
        genuine, impostor, failed = pair_scores(records, condition)
        stats = summary(genuine, impostor)
        stats.update(failed_pairs=failed, probes_not_separated=per_probe_separated(records, condition),
                     threshold_at_target=threshold_at_fmr(impostor, TARGET_FMR))
        report["conditions"][condition] = {"stats": stats, "genuine": genuine, "impostor": impostor}
    return report


def recommended_threshold(report: dict) -> float:
    # Most conservative over all reference conditions, rounded up to 0.01.
    worst = max(c["stats"]["threshold_at_target"] for c in report["conditions"].values())
    return math.ceil(worst * 100) / 100


def print_report(report: dict, threshold: float) -> None:
    print(f"face_eval: {report['photos']} photos, {report['identities']} identities; "
          f"live quality refused {len(report['live_quality_refused'])}: {report['live_quality_refused']}")
    for name, condition in report["conditions"].items():
        s = condition["stats"]
        print(f"  {name:13s} genuine {s['genuine_pairs']:4d} impostor {s['impostor_pairs']:5d} "
              f"| gen min {s['genuine_min']:.3f} imp max {s['impostor_max']:.3f} "
              f"| FMR1%: thr {s['fmr_1pct']['threshold']:.3f} FNMR {s['fmr_1pct']['fnmr']:.3f} "
              f"| FMR0.1%: thr {s['fmr_0.1pct']['threshold']:.3f} FNMR {s['fmr_0.1pct']['fnmr']:.3f} "
              f"| EER {s['eer']['eer']:.3f} | probes not separated {s['probes_not_separated']} "
              f"| failed pairs {s['failed_pairs']}")
    for name, condition in report["conditions"].items():
        g, i = condition["genuine"], condition["impostor"]
        print(f"  at threshold {threshold:.2f} [{name}]: FMR {np.mean(i >= threshold):.4f} "
              f"FNMR {np.mean(g < threshold):.4f}")


def write_manifest(threshold: float, report: dict) -> None:
    path = ROOT / "models" / "manifest.json"
    manifest = json.loads(path.read_text())
    recognizer = manifest["models"]["recognizer"]
    recognizer["threshold"] = threshold
    recognizer["threshold_fmr"] = TARGET_FMR
    recognizer["threshold_derivation"] = (
        f"bench/face_eval_bench.py on {report['photos']} photos of {report['identities']} people "
        "(../shared/data/faces): cosine threshold at FMR <= 0.1% computed for the photo as reference and "
        "for chip-quality references (240 px, <= 15 KB JPEG and JPEG 2000); the highest of the three, "
        "rounded up to 0.01. Few impostor pairs (~1.7k-3.4k): FMR 0.1% rests on 1-3 scores; recalibrate "
        "on a larger, population-representative set before operational use.")
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"face_eval: wrote threshold {threshold} (FMR target {TARGET_FMR}) to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="face_eval_bench")
    parser.add_argument("--write-manifest", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"face_eval: skipped, no data at {DATA}")
        return 0
    verifier = build_verifier(ROOT / "models", threshold=0.0)  # scores only; no decision is made here
    report = evaluate(analyse(verifier, dataset(DATA)))
    threshold = recommended_threshold(report)
    print_report(report, threshold)
    panels = [(name, c["genuine"], c["impostor"]) for name, c in report["conditions"].items()]
    draw_histograms(panels, threshold, OUT / "face_scores.png")
    stats = {name: c["stats"] for name, c in report["conditions"].items()}
    (OUT / "face_eval.json").write_text(json.dumps({"recommended_threshold": threshold, "conditions": stats,
                                                    "live_quality_refused": report["live_quality_refused"]}, indent=2))
    print(f"face_eval: recommended threshold {threshold}; wrote {OUT / 'face_eval.json'} and {OUT / 'face_scores.png'}")
    if args.write_manifest:
        write_manifest(threshold, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
