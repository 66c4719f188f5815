"""MRZ parse + full validation per TD3: ours against the `mrz` package (mrz==0.6.2) on the same lines.

    .venv/bin/python -m bench mrz [--number N]

Prints µs per TD3 for each and the ratio (target: ours at least 3x faster while checking more).
Both sides must accept every line first, so the figures compare the same, successful work.
"""
from __future__ import annotations

import argparse
import time
import timeit
from datetime import date

from firmware_app.mrz import MrzFields, compose, parse

TODAY = date(2026, 11, 26)
OURS_CHECKS = ("5 check digits", "per-field character classes", "document code per format",
               "2 country codes (ISO 3166-1 + ICAO)", "dates valid + century + expiry window",
               "birth <= expiry", "sex", "names split + truncation", "BAC key seed")


def _samples() -> list[tuple[str, ...]]:
    specimen = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
    people = [("D", "MUSTERMANN", "ERIKA", "C01X00T47", "640812", "F", "320801", ""),
              ("NLD", "DE BRUIJN", "WILLEKE LISELOTTE", "SPECI2021", "650310", "F", "310802", "999999990"),
              ("CAN", "MARTIN", "SARAH", "ZE000509", "850101", "F", "330114", "")]
    composed = [compose("TD3", MrzFields("P", state, number, born, sex, expires, state, surname, given, opt))
                for state, surname, given, number, born, sex, expires, opt in people]
    return [specimen, *composed]


def _ours(samples):
    for lines in samples:
        result = parse(lines, today=TODAY)
        if not result.valid:
            raise SystemExit(f"bench: our parser rejects a sample: {result.errors}")
    return lambda: [parse(lines, today=TODAY) for lines in samples]


def _theirs(samples):
    from mrz.checker.td3 import TD3CodeChecker
    texts = ["\n".join(lines) for lines in samples]
    for text in texts:
        if not bool(TD3CodeChecker(text)):
            raise SystemExit("bench: the mrz package rejects a sample")
    return lambda: [bool(TD3CodeChecker(text)) for text in texts]


def _per_item_us(func, count: int, number: int) -> float:
    best = min(timeit.repeat(func, number=number, repeat=5, timer=time.process_time))
    return best / (number * count) * 1e6


def _interleaved_us(ours, theirs, count: int, number: int, rounds: int = 7) -> tuple[float, float]:
    """Alternate the two timings so both see the same machine load, and count this process's CPU
    time rather than wall time: the 2 cores are shared, and waiting for a core is not parse cost."""
    best_ours = best_theirs = float("inf")
    their_number = max(number // 4, 1)
    for _ in range(rounds):
        best_ours = min(best_ours, timeit.timeit(ours, number=number, timer=time.process_time) / (number * count))
        took = timeit.timeit(theirs, number=their_number, timer=time.process_time)
        best_theirs = min(best_theirs, took / (their_number * count))
    return best_ours * 1e6, best_theirs * 1e6


def _repair_us(number: int) -> float:
    slip = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO74O8122F1204159ZE184226B<<<<<10")
    return _per_item_us(lambda: parse(slip, today=TODAY), 1, max(number // 20, 5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench mrz")
    parser.add_argument("--number", type=int, default=2000, help="timed loops per repeat")
    args = parser.parse_args(argv or [])
    samples = _samples()
    ours, theirs = _interleaved_us(_ours(samples), _theirs(samples), len(samples), args.number)
    print(f"TD3 parse + full validation, {len(samples)} documents, best of 7 interleaved rounds, CPU time")
    print(f"  ours (firmware_app.mrz)      {ours:8.1f} µs/TD3")
    print(f"  mrz 0.6.2 TD3CodeChecker     {theirs:8.1f} µs/TD3")
    print(f"  ratio                        {theirs / ours:8.1f}x faster (target >= 3x)")
    print(f"  with one OCR repair (ours)   {_repair_us(args.number):8.1f} µs/TD3")
    print(f"  ours checks: {', '.join(OURS_CHECKS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
