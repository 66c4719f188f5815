"""The page's files, read once at start into memory and served from a fixed table (no file paths
from requests ever reach the file system)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import KioskConfigError

STATIC_DIR = Path(__file__).resolve().parent / "static"
_PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
MAX_TRANSLATION_BYTES = 64 * 1024


@dataclass(frozen=True)
class Asset:
    content_type: str
    body: bytes


def load_translation(language: str, static_dir: Path = STATIC_DIR) -> dict[str, str]:
    """One language's texts (key -> text); KioskConfigError when missing or malformed."""
    path = static_dir / "i18n" / f"{language}.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KioskConfigError(f"no translation for {language!r}: {exc.strerror}") from None
    if len(raw) > MAX_TRANSLATION_BYTES:
        raise KioskConfigError(f"translation {path.name} is too large")
    try:
        texts = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KioskConfigError(f"translation {path.name} is not valid JSON: {exc}") from None
    if not isinstance(texts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in texts.items()):
        raise KioskConfigError(f"translation {path.name} must map keys to strings")
    return texts


def load_assets(offered: tuple[str, ...], static_dir: Path = STATIC_DIR) -> dict[str, Asset]:
    """URL path -> Asset for the page, its script and style, and each offered language."""
    assets = {}
    for url, (name, content_type) in _PAGE_FILES.items():
        try:
            assets[url] = Asset(content_type, (static_dir / name).read_bytes())
        except OSError as exc:
            raise KioskConfigError(f"kiosk page file {name} unreadable: {exc.strerror}") from None
    for language in offered:
        body = json.dumps(load_translation(language, static_dir), ensure_ascii=False).encode("utf-8")
        assets[f"/i18n/{language}.json"] = Asset("application/json; charset=utf-8", body)
    return assets


def with_wording(assets: dict[str, Asset], wording: dict[str, dict[str, str]]) -> dict[str, Asset]:
    """The assets with some texts replaced (a one-stop authority's wording of its own screens,
    validated by the config); languages not offered are ignored."""
    changed = dict(assets)
    for language, table in wording.items():
        url = f"/i18n/{language}.json"
        if url in changed and table:
            texts = {**json.loads(changed[url].body.decode("utf-8")), **table}
            changed[url] = Asset(changed[url].content_type, json.dumps(texts, ensure_ascii=False).encode("utf-8"))
    return changed
