"""Biometric error rates from genuine and impostor score lists (ISO/IEC 19795-1 terms).

A comparison is accepted when score >= threshold.
"""
from __future__ import annotations

import numpy as np


def fmr(impostor: np.ndarray, threshold: float) -> float:
    return float(np.mean(impostor >= threshold)) if impostor.size else 0.0


def fnmr(genuine: np.ndarray, threshold: float) -> float:
    return float(np.mean(genuine < threshold)) if genuine.size else 0.0


def threshold_at_fmr(impostor: np.ndarray, target_fmr: float) -> float:
    """Lowest threshold whose FMR does not exceed the target."""
    allowed = int(np.floor(target_fmr * impostor.size))
    ranked = np.sort(impostor)[::-1]
    if allowed >= ranked.size:
        return float(ranked[-1])
    # Accept strictly above the (allowed+1)-th highest impostor score.
    return float(np.nextafter(ranked[allowed], np.inf))


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold) at the candidate threshold where FMR and FNMR are closest."""
    candidates = np.unique(np.concatenate([genuine, impostor, [np.inf]]))
    gaps = [(abs(fmr(impostor, t) - fnmr(genuine, t)), t) for t in candidates]
    _, best = min(gaps)
    return (fmr(impostor, best) + fnmr(genuine, best)) / 2, float(best)


def summary(genuine: np.ndarray, impostor: np.ndarray) -> dict:
    out = {"genuine_pairs": int(genuine.size), "impostor_pairs": int(impostor.size),
           "genuine_min": float(genuine.min()), "impostor_max": float(impostor.max())}
    for label, target in (("fmr_1pct", 0.01), ("fmr_0.1pct", 0.001)):
        threshold = threshold_at_fmr(impostor, target)
        out[label] = {"threshold": threshold, "fmr": fmr(impostor, threshold), "fnmr": fnmr(genuine, threshold)}
    eer, eer_threshold = equal_error_rate(genuine, impostor)
    out["eer"] = {"eer": eer, "threshold": eer_threshold}
    return out
