"""Presentation attack detection: APCER per attack type, BPCER, a DET plot, and PAD latency
beside the match in the same run.

    .venv/bin/python -m bench face_pad [--faces DIR] [--seed N] [--write-manifest]

Bona fide: every photo of ../shared/data/faces/person*/ as a 640x480 camera frame, and upstream's
live sample T1. Attacks: each photo turned into each synthesised attack (bench/pad_attacks.py),
and upstream's print (F1) and screen (F2) samples. A presentation whose face is not found is
counted apart (no PAD decision; the gate would not pass it either). ISO/IEC 30107-3 vocabulary,
but no claim of conformance: the attacks are synthesised and the sets are small.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from firmware_app.face.images import load_image
from firmware_app.face.quality import LIVE_LIMITS
from firmware_app.face.verifier import PadSettings, build_verifier
from simulator import presentation_attacks as pad_attacks

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "out"
UPSTREAM_SAMPLES = {"sample_image_T1.jpg": "bona_fide", "sample_image_F1.jpg": "upstream_print",
                    "sample_image_F2.jpg": "upstream_screen"}
PAD_SHARE_TARGET = 0.40


def photos(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("person*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))


def presentations(verifier, root: Path, seed: int):
    """Yields (kind, frame, person): bona fide frames and synthesised attacks of each photo."""
    rng = np.random.default_rng(seed)
    for path in photos(root):
        photo = load_image(path)
        main = verifier.inspect(photo, LIVE_LIMITS).face
        yield "bona_fide", pad_attacks.camera_frame(photo), path.parent.name
        for kind, synthesise in pad_attacks.SYNTHESISERS.items():
            yield kind, synthesise(photo, rng, main.box if main else None), path.parent.name
    upstream = DATA / "upstream" / "minifasnet"
    for name, kind in UPSTREAM_SAMPLES.items():
        if (upstream / name).is_file():
            yield kind, load_image(upstream / name), None


def score_all(verifier, items) -> list[dict]:
    rows = []
    for kind, frame, person in items:
        result, _ = verifier.assess_presentation(frame)
        rows.append({"kind": kind, "person": person, "score": result.score, "status": result.status.value})
    return rows


def rates(rows: list[dict], threshold: float) -> dict:
    """APCER per attack kind (share of assessed attacks taken as live), BPCER, faces not found."""
    report = {}
    for kind in sorted({r["kind"] for r in rows}):
        scores = np.array([r["score"] for r in rows if r["kind"] == kind and r["score"] is not None])
        missed = sum(1 for r in rows if r["kind"] == kind and r["score"] is None)
        if kind == "bona_fide":
            error = float(np.mean(scores < threshold)) if scores.size else float("nan")
        else:
            error = float(np.mean(scores >= threshold)) if scores.size else float("nan")
        report[kind] = {"n": int(scores.size), "no_face": missed, "error": round(error, 4)}
    return report


def det_curves(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    thresholds = np.linspace(0, 1, 401)
    genuine = np.array([r["score"] for r in rows if r["kind"] == "bona_fide" and r["score"] is not None])
    bpcer = np.array([np.mean(genuine < t) for t in thresholds])
    curves = {}
    for kind in pad_attacks.ATTACKS:
        attack = np.array([r["score"] for r in rows if r["kind"] == kind and r["score"] is not None])
        if attack.size:
            curves[kind] = (np.array([np.mean(attack >= t) for t in thresholds]), bpcer)
    return curves


def draw_det(curves: dict, operating: dict, threshold: float, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(7, 6))
    for kind, (apcer, bpcer) in curves.items():
        axes.plot(np.maximum(apcer, 1e-3) * 100, np.maximum(bpcer, 1e-3) * 100, label=kind)
        axes.plot(max(operating[kind]["error"], 1e-3) * 100, max(operating["bona_fide"]["error"], 1e-3) * 100,
                  "ko", markersize=4)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(0.1, 100)
    axes.set_ylim(0.1, 100)
    axes.set_xlabel("APCER (%)  attacks accepted as live")
    axes.set_ylabel("BPCER (%)  bona fide refused as attacks")
    axes.set_title(f"MiniFASNet pair on synthesised attacks\n"
                   f"(dots: threshold {threshold}; a rate of 0 is drawn at 0.1 %)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def latency(verifier, root: Path, limit: int = 40) -> dict:
    """Frame to decision on 640x480 frames: detect, quality, embed, compare (match) then PAD."""
    match_ms, pad_ms = [], []
    references = {}
    for path in photos(root)[: limit]:
        frame = pad_attacks.camera_frame(load_image(path))
        person = path.parent.name
        if person not in references:
            references[person] = _reference(verifier, frame)
            continue
        if references[person] is None:
            continue
        started = time.perf_counter()
        inspection = verifier.inspect(frame, LIVE_LIMITS)
        verifier.compare(references[person], verifier.sample(inspection, embed_always=True))
        matched = time.perf_counter()
        verifier.pad.assess(frame, inspection.face)
        match_ms.append((matched - started) * 1000)
        pad_ms.append((time.perf_counter() - matched) * 1000)
    match, pad = statistics.median(match_ms), statistics.median(pad_ms)
    return {"frames": len(pad_ms), "match_ms_median": round(match, 1), "pad_ms_median": round(pad, 1),
            "frame_to_decision_ms_median": round(match + pad, 1), "pad_share": round(pad / (match + pad), 3)}


def _reference(verifier, frame):
    try:
        return verifier.reference(frame)
    except Exception:
        return None


def print_report(report: dict, threshold: float) -> None:
    print(f"threshold (fused live probability) {threshold}")
    for kind, row in report["rates"].items():
        name = "BPCER" if kind == "bona_fide" else "APCER"
        print(f"  {kind:16s} {name} {row['error'] * 100:6.1f} %   n={row['n']:3d}  face not found {row['no_face']}")
    lat = report["latency"]
    print(f"latency over {lat['frames']} frames (medians): match {lat['match_ms_median']} ms, "
          f"PAD {lat['pad_ms_median']} ms, frame to decision {lat['frame_to_decision_ms_median']} ms; "
          f"PAD share {lat['pad_share'] * 100:.1f} % (target <= {PAD_SHARE_TARGET * 100:.0f} %)")
    print(f"DET plot: {report['det_plot']}")


def write_manifest(report: dict) -> None:
    path = ROOT / "models" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["pad"]["evaluation"] = {"by": "python -m bench face_pad", **report}
    path.write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench face_pad")
    parser.add_argument("--faces", type=Path, default=DATA / "faces")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write-manifest", action="store_true")
    args = parser.parse_args(argv)
    if not args.faces.is_dir():
        print(f"face_pad: no photos at {args.faces} (../shared/data absent)", file=sys.stderr)
        return 1
    verifier = build_verifier(ROOT / "models", threads=2, pad=PadSettings(enabled=True, required=True))
    rows = score_all(verifier, presentations(verifier, args.faces, args.seed))
    threshold = verifier.pad.threshold
    report = {"threshold": threshold, "rates": rates(rows, threshold), "latency": latency(verifier, args.faces),
              "det_plot": str((OUT / "face_pad_det.png").relative_to(ROOT)), "seed": args.seed}
    draw_det(det_curves(rows), report["rates"], threshold, OUT / "face_pad_det.png")
    print_report(report, threshold)
    if args.write_manifest:
        write_manifest(report)
    return 0
