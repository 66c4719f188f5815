"""Spoken prompts for travellers who cannot read the screen: one WAV per screen and instruction in
each language, made offline (at setup) by Debian's espeak-ng and played by the page when
`kiosk.audio_dir` is set. Nothing is synthesised at run time; the server serves only the files
of a fixed table built at start (no request path reaches the file system).

    gatectl kiosk audio --out var/kiosk-audio      (scripts/setup.sh runs it)
"""
from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

from .assets import STATIC_DIR, load_translation
from .errors import KioskConfigError
from .view import Instruction, Screen

# espeak-ng voice per kiosk language (Mandarin is "cmn").
VOICES = {"en": "en", "fr": "fr", "es": "es", "ar": "ar", "ru": "ru", "zh": "cmn"}
MAX_PROMPT_BYTES = 2 * 1024 * 1024
SYNTH_TIMEOUT_S = 30.0
_STAMP = ".texts.sha256"


def prompt_texts(language: str, static_dir: Path = STATIC_DIR) -> dict[str, str]:
    """Prompt name -> the words spoken: each screen's title and text, each instruction."""
    texts = load_translation(language, static_dir)
    prompts = {f"screen.{s.value}": f"{texts[f'title.{s.value}']}. {texts[f'body.{s.value}']}" for s in Screen}
    prompts.update({f"instruction.{i.value}": texts[f"instruction.{i.value}"] for i in Instruction})
    return prompts


def build_prompts(out_dir: Path, languages: tuple[str, ...], static_dir: Path = STATIC_DIR,
                  run: Callable = subprocess.run, espeak: str = "espeak-ng") -> int:
    """Write out_dir/<lang>/<prompt>.wav; a language whose texts did not change is skipped.
    Returns the number of files written."""
    written = 0
    for language in languages:
        if language not in VOICES:
            raise KioskConfigError(f"no espeak-ng voice for kiosk language {language!r}")
        prompts = prompt_texts(language, static_dir)
        digest = hashlib.sha256(json.dumps(prompts, sort_keys=True).encode()).hexdigest()
        folder = Path(out_dir) / language
        if (folder / _STAMP).is_file() and (folder / _STAMP).read_text() == digest:
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


def audio_table(audio_dir: Path, offered: tuple[str, ...], static_dir: Path = STATIC_DIR) -> dict[str, Path]:
    """URL path -> file for every prompt present (names from our own tables, never from requests)."""
    table = {}
    for language in offered:
        for name in prompt_texts(language, static_dir):
            path = Path(audio_dir) / language / f"{name}.wav"
            if path.is_file() and path.stat().st_size <= MAX_PROMPT_BYTES:
                table[f"/audio/{language}/{name}.wav"] = path
    return table
