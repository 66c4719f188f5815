"""Spoken prompts for travellers who cannot read the screen: one WAV per screen and instruction in
each language, made offline (at setup) by Debian's espeak-ng and played by the page when
`kiosk.audio_dir` is set. Nothing is synthesised at run time; the server serves only the files
of a fixed table built at start (no request path reaches the file system).

    gatectl kiosk audio --out var/kiosk-audio      (scripts/setup.sh runs it)
"""
from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

from .assets import STATIC_DIR, load_translation
from .errors import KioskConfigError
from .view import Instruction, Screen

# espeak-ng voice per kiosk language (Mandarin is "cmn").
VOICES = {"en": "en", "fr": "fr", "es": "es", "ar": "ar", "ru": "ru", "zh": "cmn"}
MAX_PROMPT_BYTES = 2 * 1024 * 1024
SYNTH_TIMEOUT_S = 30.0
_STAMP = ".texts.sha256"
log = logging.getLogger("gate.kiosk.audio")


def prompt_texts(language: str, static_dir: Path = STATIC_DIR,
                 wording: Mapping[str, str] | None = None) -> dict[str, str]:
    """Prompt name -> the words spoken: each screen's title and text, each instruction. `wording`
    replaces texts as the screen replaces them (a one-stop authority's, key -> text); the prompts
    speak the plain title/body, so an @id_card/@visa variant has no prompt of its own."""
    texts = {**load_translation(language, static_dir), **(wording or {})}
    prompts = {f"screen.{s.value}": f"{texts[f'title.{s.value}']}. {texts[f'body.{s.value}']}" for s in Screen}
    prompts.update({f"instruction.{i.value}": texts[f"instruction.{i.value}"] for i in Instruction})
    return prompts


def build_prompts(out_dir: Path, languages: tuple[str, ...], static_dir: Path = STATIC_DIR,
                  run: Callable = subprocess.run, espeak: str = "espeak-ng",
                  wording: Mapping[str, Mapping[str, str]] | None = None) -> int:
    """Write out_dir/<lang>/<prompt>.wav; a language whose texts did not change is skipped.
    `wording`: language -> key -> text that replaces the translation's (as on the screen).
    Returns the number of files written."""
    written = 0
    for language in languages:
        if language not in VOICES:
            raise KioskConfigError(f"no espeak-ng voice for kiosk language {language!r}")
        prompts = prompt_texts(language, static_dir, (wording or {}).get(language))
        digest = _digest(prompts)
        folder = Path(out_dir) / language
        if _stamp(folder) == digest:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for name, words in prompts.items():
            _synthesise(run, espeak, VOICES[language], words, folder / f"{name}.wav")
            written += 1
        (folder / _STAMP).write_text(digest)
    return written


def _synthesise(run: Callable, espeak: str, voice: str, words: str, target: Path) -> None:
    try:
        run([espeak, "-v", voice, "-s", "150", "-w", str(target), "--stdin"], input=words.encode("utf-8"),
            check=True, timeout=SYNTH_TIMEOUT_S, capture_output=True)
    except FileNotFoundError:
        raise KioskConfigError(f"{espeak} is not installed (scripts/setup.sh installs espeak-ng)") from None
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        raise KioskConfigError(f"espeak-ng failed for {target.name}: {type(exc).__name__}") from None


def _digest(prompts: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(prompts, sort_keys=True).encode()).hexdigest()


def _stamp(folder: Path) -> str | None:
    try:
        return (folder / _STAMP).read_text()[:128]
    except OSError:
        return None


def audio_table(audio_dir: Path, offered: tuple[str, ...], static_dir: Path = STATIC_DIR,
                wording: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Path]:
    """URL path -> file for every prompt present (names from our own tables, never from requests).
    With `wording`, a reworded prompt whose files were made from other words (the stamp differs:
    `gatectl kiosk audio` ran without this config) is not served: silence rather than words the
    screen does not show."""
    table = {}
    for language in offered:
        for name in set(prompt_texts(language, static_dir)) - _stale(audio_dir, language, static_dir, wording):
            path = Path(audio_dir) / language / f"{name}.wav"
            if path.is_file() and path.stat().st_size <= MAX_PROMPT_BYTES:
                table[f"/audio/{language}/{name}.wav"] = path
    return table


def _stale(audio_dir: Path, language: str, static_dir: Path,
           wording: Mapping[str, Mapping[str, str]] | None) -> set[str]:
    own = (wording or {}).get(language)
    if not own:
        return set()
    prompts = prompt_texts(language, static_dir, own)
    if _stamp(Path(audio_dir) / language) == _digest(prompts):
        return set()
    plain = prompt_texts(language, static_dir)
    stale = {name for name, words in prompts.items() if plain[name] != words}
    if stale:
        log.warning("kiosk audio (%s) was made without the authorities' wording: %d prompt(s) not played "
                    "until `gatectl kiosk audio --config FILE` makes them again", language, len(stale))
    return stale
